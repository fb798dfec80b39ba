// The checker: the one judge of the service's guarantees. It judges a run from what its processes
// recorded and says plainly whether any guarantee was broken. `olympics check RUN_DIR` loads the
// inputs (load.h), calls check_run, prints format_check and writes check_json (report.h); the
// process and scenario tests assert on its verdicts, and the simulator (tests/sim) builds a
// CheckInput from its own cluster and asserts on the same verdicts. Each guarantee's judge has
// its own file: ledger.h (1-3), reads.h (4-5), recovery.h (6-7); epochs.h judges one writer
// per epoch where the database's claims and writes were observed (the simulator).
//
// Inputs: Cacofonix's acknowledged updates (acks.csv), the tablets' reads (reads.csv), the
// database's applied log and final rows, and the failures the tool caused (events.h).
//
// Guarantees, in report order (each PASS, FAIL, or n/a when the run gives nothing to judge):
//  1. "no acknowledged update lost": every ack's {publisher, seq} is in the applied log with the
//     ack's key, version and value (the score or medal Cacofonix sent), and no team has fewer
//     medals than Cacofonix's count (below).
//  2. "no update applied twice": no {publisher, seq} is twice in the applied log; every key's
//     final version equals the number of its applies; every team's count of each medal equals
//     Cacofonix's count: the distinct {publisher, seq} increments of that team and medal that were
//     acknowledged or applied (an update applied whose ack was lost still counts once).
//  3. "updates applied in order": in commit order, each publisher's seqs go 1, 2, 3, ... with no
//     gap or step back, and each key's versions go 1, 2, 3, ...; each event's final score and each
//     team's final version are those of its last applied update.
//  4. push: "no read older than an acknowledged update" (no read that started after the ack of a
//     newer version of its key; FreshnessReport::stale_after_ack);
//     pull: "reads within the pull bound" (no stale read staler than pull_bound).
//     Both report fidelity and the staleness of stale reads (p50 / p99 / max).
//  5. "monotonic reads": no tablet's read of a key returned an older version than an earlier one.
//  Gossip mode, given each replica's own record (CheckInput::replicas, docs/gossip.md): replicas
//  apply concurrent publishers' updates in different orders, so one version of a key may hold
//  different values on two replicas until they converge. Then 1 asks each ack's update to be in
//  every replica's record, with the ack's version and value in one of them (a set_score that left
//  the score as it was, because a later-written one held it, counts); 2 and 3 judge each replica's
//  record on its own, in the order that replica applied them, against its own final rows; and 4's
//  values read must be values some replica held at their versions.
//  6. "service recovered after every failure": after each failure Cacofonix was acknowledged
//     again, and every affected tablet read successfully again (windows.h). n/a without failures.
//  7. "rebalanced after recovery": after each failure whose `after` period could be judged (see
//     FailureReport), each front end serves its baseline share of tablets (the split before the
//     first failure, scaled to the period's number of tablets) within max(2, tablets / 10), and
//     every ack of that period came through the
//     home master (frontends[0]), except in Byzantine mode. n/a when no period could be judged.
//
// Thread-safety: pure functions over values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/message.h"
#include "common/records.h"
#include "database/store.h"
#include "verify/events.h"
#include "verify/freshness.h"
#include "verify/verdict.h"
#include "verify/windows.h"

namespace oly::verify {

struct CheckInput {
  std::string run_dir;                 // for the report's title only
  Consistency consistency = Consistency::kPush;
  std::vector<std::string> frontends;  // config order; the first is the home master
  // Byzantine mode (docs/byzantine.md): Cacofonix sends to any front end (each commands the
  // agreement), so guarantee 7 does not ask that acks come through the home master.
  bool byzantine = false;
  Duration pull_bound{0};              // pull: largest staleness allowed (load.h: TTR + slack)
  Duration detect{0};                  // heartbeat.timeout_ms
  Duration settle{0};                  // heartbeat.settle_ms
  Duration read_interval{0};           // tablets.read_interval_ms + jitter_ms
  Duration tablet_timeout{0};          // tablets.request_timeout_ms
  std::vector<AckRecord> acks;
  std::vector<ReadRecord> reads;
  std::vector<database::AppliedUpdate> applied;  // the database's applied log
  std::vector<Score> scores;                     // the database's final rows
  std::vector<Tally> tallies;
  // Gossip mode: each replica's own record, in the order it applied them, and its final rows
  // (see the guarantees above). Empty otherwise, and then `applied` is judged as one history.
  struct ReplicaRecord {
    std::string replica;
    std::vector<database::AppliedUpdate> applied;
    std::vector<Score> scores;
    std::vector<Tally> tallies;
  };
  std::vector<ReplicaRecord> replicas;
  RunEvents events;                    // failures, start and end of the run
};

// Tablets per front end over a period: each tablet counted once, at the front end of its last
// successful read that completed in the period. Front ends that served none are listed with 0.
struct Split {
  bool judged = false;  // the period was long enough (at least one read interval)
  TimePoint from, to;
  std::map<std::string, size_t> tablets;
};

struct FailureReport {
  Failure failure;
  KillWindows windows;  // windows.h; for the database all_tablets, and `publisher` counts only
                        // acks of updates committed after the failure
  // With span = 2 read intervals:
  //   before: [at - span, at)
  //   during: [max(at + detect + 2 tablet timeouts, end - span), end), end = back or run end;
  //   after:  [max(back + settle + detect + read interval, next - span), next), next = the next
  //           failure's at, or the run's end; not judged without `back`.
  Split before, during, after;
  std::optional<bool> home_master_back;  // acks in `after` all via frontends[0]; nullopt: none
};

struct CheckReport {
  std::string run_dir;
  Consistency consistency = Consistency::kPush;
  std::vector<std::string> frontends;
  bool byzantine = false;          // as CheckInput's
  std::optional<TimePoint> start;  // times in the report are relative to this (or the first record)
  std::vector<Verdict> verdicts;   // the seven guarantees, in order
  FreshnessReport freshness;
  size_t acked = 0;             // acknowledged updates (distinct {publisher, seq})
  size_t applied = 0;           // entries of the applied log
  size_t applied_unacked = 0;   // applied but never acknowledged (acks lost to a failure, or in
                                // flight at the end): allowed
  size_t lost = 0;
  size_t duplicates = 0;
  size_t reordered = 0;
  size_t tablets = 0;           // distinct tablets that read
  Duration pull_bound{0};       // pull: the bound reads were judged against
  size_t over_bound = 0;        // pull: stale reads staler than pull_bound
  Split baseline;               // the split before the first failure
  std::vector<FailureReport> failures;
  bool passed() const;          // no verdict is FAIL
};

// The index in CheckReport::verdicts of each guarantee of the file comment.
enum Guarantee : size_t {
  kNoneLost = 0,
  kNoneTwice = 1,
  kInOrder = 2,
  kFreshReads = 3,
  kMonotonicReads = 4,
  kRecovered = 5,
  kRebalanced = 6,
};

// Judges every guarantee of the file comment (see CheckReport).
CheckReport check_run(const CheckInput& in);

}  // namespace oly::verify
