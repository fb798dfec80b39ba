// Guarantees 1-3 of check.h: the database's applied log and final rows against Cacofonix's
// acknowledged updates: no acknowledged update lost, none applied twice, all applied in order.
// check_run calls them in that order; the simulator (tests/sim) calls them on its own cluster.
//
// Each judge fills the matching count of the CheckReport it is given (lost, duplicates,
// reordered) and returns its Verdict; `start` is the run's start, for the times in examples.
//
// Thread-safety: pure functions over values; a Ledger points into the CheckInput it was made
// from and must not outlive it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/records.h"
#include "database/store.h"
#include "verify/check.h"
#include "verify/verdict.h"

namespace oly::verify {

using PubSeq = std::pair<std::string, uint64_t>;
// team -> medal (gold, silver, bronze) -> count.
using MedalCount = std::map<std::string, std::map<std::string, int64_t>>;

// The run's updates indexed for the judges.
struct Ledger {
  std::map<PubSeq, std::vector<const AckRecord*>> acks;
  std::map<PubSeq, std::vector<const database::AppliedUpdate*>> applied;
  std::vector<const database::AppliedUpdate*> in_commit_order;  // stable by committed_at_us
  std::map<std::string, size_t> applies_per_key;
  std::map<std::string, uint64_t> final_version;  // from the final rows
  MedalCount counted;  // Cacofonix's count (counted_medals)
  std::map<std::string, const Tally*> tallies;
};

// `record_order`: in.applied is one replica's record in the order it applied them (gossip mode),
// kept as it is instead of sorted by commit time.
Ledger ledger_of(const CheckInput& in, bool record_order = false);

// Cacofonix's count: per team and medal, the distinct {publisher, seq} increments that were
// acknowledged or applied (an update applied whose ack was lost still counts once).
MedalCount counted_medals(const std::vector<AckRecord>& acks,
                          const std::vector<database::AppliedUpdate>& applied);

// One description per team and medal whose tally differs from `counted` (either way); teams
// in neither are not listed. For a count from elsewhere (the simulated publisher's own count).
std::vector<std::string> medals_off(const std::vector<Tally>& tallies, const MedalCount& counted);

// Keys whose final version differs from their number of applies (judged by no_update_twice, so
// that applied_in_order does not report them a second time).
std::set<std::string> keys_off_count(const Ledger& l);

// 1. Every ack's {publisher, seq} is applied with the ack's key and version; no team has fewer
//    medals than Cacofonix's count. Sets r.lost. Reads r.acked and r.applied_unacked.
Verdict no_update_lost(const CheckInput& in, const Ledger& l, TimePoint start, CheckReport& r);
// 2. No {publisher, seq} applied twice; every key's final version equals its number of applies
//    (`off`); no team has more medals than Cacofonix's count. Sets r.duplicates. Reads r.applied.
Verdict no_update_twice(const CheckInput& in, const Ledger& l, const std::set<std::string>& off,
                        TimePoint start, CheckReport& r);
// 3. In commit order each publisher's seqs and each key's versions go 1, 2, 3, ...; each final
//    row is its last apply's. Sets r.reordered.
Verdict applied_in_order(const CheckInput& in, const Ledger& l, const std::set<std::string>& off,
                         TimePoint start, CheckReport& r);

// Gossip mode (in.replicas not empty): guarantees 1-3 as check.h words them for it; `l` is
// ledger_of(in), for its acks. Sets r.lost, r.duplicates and r.reordered (the most any replica's
// record gave).
std::vector<Verdict> judge_replica_records(const CheckInput& in, const Ledger& l, TimePoint start, CheckReport& r);

}  // namespace oly::verify
