// Invariant checks run after every simulated run. Each returns human-readable violations
// (empty = the invariant holds), so that a failing test prints what broke and where.
//
// Every guarantee that is also judged elsewhere (lost, duplicated and reordered updates, stale
// and backwards reads, rebalancing, service again, one writer per epoch) is judged by verify/,
// the checker `olympics check` and the process and scenario tests use, fed with what the
// simulated cluster recorded. Only what a real run cannot observe is checked here: no cache
// ahead of the database, the database's tap against its applied log, and the master lease at
// every step (MasterLeaseMonitor).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/sim/sim_cluster.h"
#include "verify/check.h"
#include "verify/freshness.h"

namespace oly::sim {

// What the cluster recorded so far as the checker's input: Cacofonix's acks, the tablets'
// reads, the database's applied log and rows; reads judged against `pull_bound` in pull mode.
verify::CheckInput check_input(SimCluster& c, Duration pull_bound = Duration{0});
// The checker's report on it (no failures: guarantees 6 and 7 are n/a).
verify::CheckReport judge(SimCluster& c, Duration pull_bound = Duration{0});
// A failed verdict's examples (its figures when it has none); none when it did not fail.
std::vector<std::string> violations(const verify::Verdict& v);

// verify: no acknowledged update lost (each applied with the acknowledged key and version, no
// team short of a medal counted from the acks and the applied log).
std::vector<std::string> check_acknowledged_updates(SimCluster& c);

// verify: no tablet ever saw a key's version go backwards.
std::vector<std::string> check_monotonic_reads(SimCluster& c);

// verify: push, no read older than an acknowledged update; pull, none staler than `pull_bound`.
std::vector<std::string> check_fresh_reads(SimCluster& c, Duration pull_bound = Duration{0});

// verify: tablets are spread across front ends within one of even.
std::vector<std::string> check_even_split(const std::map<std::string, int64_t>& per_frontend);

// Freshness figures of every read so far (verify/freshness.h), for bounds on fidelity and counts.
verify::FreshnessReport freshness(SimCluster& c);

// No front end caches a version the database has not committed (simulator only).
std::vector<std::string> check_caches_not_ahead(SimCluster& c);

// verify: one writer per epoch, from the database's tap (verify/epochs.h).
std::vector<std::string> check_one_writer_per_epoch(SimCluster& c);

// verify: no update applied twice and all applied in order (each (publisher, seq) once, seqs
// and versions 1, 2, 3, ..., rows equal to their applies, scores those of the last set_score);
// and (simulator only) the tap saw every applied update.
std::vector<std::string> check_applied_log(SimCluster& c);

// verify: every medal tally in the database equals Cacofonix's own count of acknowledged
// increments. REQUIRES: nothing unacknowledged (the publisher finished).
std::vector<std::string> check_tallies_match_publisher(SimCluster& c);

// verify: every tablet had a successful read that started in [from, by].
std::vector<std::string> check_tablets_served(SimCluster& c, TimePoint from, TimePoint by);

// Watches the cluster after every step (SimCluster::observe) and records each instant at which
// the master lease is held wrongly: by two front ends at once, or by a front end the database
// does not hold as master at that front end's epoch. A front end that serves its write-through
// cache while another can write would serve stale reads. (Simulator only.)
class MasterLeaseMonitor {
 public:
  explicit MasterLeaseMonitor(SimCluster& c);
  const std::vector<std::string>& violations() const { return *violations_; }

 private:
  std::shared_ptr<std::vector<std::string>> violations_;
};

// Watches the replicas of a replicated tier after every step and records every term in which two
// replicas led (Raft's election safety). (Simulator only.)
class RaftMonitor {
 public:
  explicit RaftMonitor(SimCluster& c);
  const std::vector<std::string>& violations() const { return *violations_; }
  // Every leader seen, per term.
  size_t leaders_seen() const { return leaders_->size(); }

 private:
  std::shared_ptr<std::vector<std::string>> violations_;
  std::shared_ptr<std::map<uint64_t, std::string>> leaders_;
};

// The live replicas that applied the same index hold the same state (SqliteStore::state_dump),
// and every live replica has applied as far as the furthest one (call after quiescence).
std::vector<std::string> check_replicas_identical(SimCluster& c);

// Joins violations for a failure message (at most `limit` of them).
std::string join(const std::vector<std::string>& v, size_t limit = 10);

}  // namespace oly::sim
