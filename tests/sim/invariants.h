// Invariant checks run after every simulated run. Each returns human-readable violations
// (empty = the invariant holds), so that a failing test prints what broke and where.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "olympics/freshness.h"
#include "tests/sim/sim_cluster.h"

namespace oly::sim {

// Every acknowledged update is in the database's applied log with the acknowledged key and
// version, and each medal tally equals the number of acknowledged increments (requires that
// nothing is left unacknowledged, or the tally may legitimately be ahead).
std::vector<std::string> check_acknowledged_updates(SimCluster& c);

// No tablet ever saw a key's version go backwards (reads ordered by completion).
std::vector<std::string> check_monotonic_reads(const std::vector<ReadRecord>& reads);

// Tablets are spread across front ends within one of even.
std::vector<std::string> check_even_split(const std::map<std::string, int64_t>& per_frontend);

// Everything the database committed so far, for freshness analysis.
std::vector<Commit> commits(SimCluster& c);

// Freshness of every read so far (see olympics/freshness.h).
FreshnessReport freshness(SimCluster& c);

// No front end caches a version the database has not committed.
std::vector<std::string> check_caches_not_ahead(SimCluster& c);

// Split brain, as the database saw it: epochs were granted one at a time (1, 2, 3, ...), each by
// the front end it names, and every update the database applied at epoch e was sent by the
// front end that claimed e (so at most one front end wrote per epoch).
std::vector<std::string> check_one_writer_per_epoch(SimCluster& c);

// The applied log is exactly-once and consistent with the rows: each (publisher, seq) once, each
// publisher's seqs 1, 2, 3, ... in order, each key's versions 1, 2, 3, ... in commit order, every
// row's version equal to the number of updates applied to it, every tally equal to the
// increments applied to it and every score equal to the last set_score applied to it; and the
// tap saw every applied update.
std::vector<std::string> check_applied_log(SimCluster& c);

// Every medal tally in the database equals Cacofonix's own count of acknowledged increments.
// REQUIRES: nothing unacknowledged (the publisher finished).
std::vector<std::string> check_tallies_match_publisher(SimCluster& c);

// Every tablet had a successful read that started in [from, by].
std::vector<std::string> check_tablets_served(SimCluster& c, TimePoint from, TimePoint by);

// Watches the cluster after every step (SimCluster::observe) and records each instant at which
// the master lease is held wrongly: by two front ends at once, or by a front end the database
// does not hold as master at that front end's epoch. A front end that serves its write-through
// cache while another can write would serve stale reads.
class MasterLeaseMonitor {
 public:
  explicit MasterLeaseMonitor(SimCluster& c);
  const std::vector<std::string>& violations() const { return *violations_; }

 private:
  std::shared_ptr<std::vector<std::string>> violations_;
};

// Joins violations for a failure message (at most `limit` of them).
std::string join(const std::vector<std::string>& v, size_t limit = 10);

}  // namespace oly::sim
