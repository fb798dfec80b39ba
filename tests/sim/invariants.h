// Invariant checks run after every simulated run. Each returns human-readable violations
// (empty = the invariant holds), so that a failing test prints what broke and where.
#pragma once

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

// Joins violations for a failure message (at most `limit` of them).
std::string join(const std::vector<std::string>& v, size_t limit = 10);

}  // namespace oly::sim
