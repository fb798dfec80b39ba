// Freshness analysis of a run: how current were the values tablets read?
//
// Inputs are what the processes recorded: every read (tablets' history), every commit the
// database made (key, version, time; from its applied log) and every acknowledgement Cacofonix
// got. A read of key K that started at s and returned version v is
//   - fresh  when no version of K newer than v had been committed before s;
//   - stale  otherwise, by s - (commit time of v + 1): how long its value had been outdated;
//   - stale after an acknowledgement when Cacofonix had been told of a newer version of K
//     before s: push mode must never do this.
// A tablet's reads of one key must also never go backwards (by completion order).
//
// Thread-safety: plain functions over values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/records.h"
#include "database/store.h"

namespace oly::verify {

struct Commit {
  std::string key;
  uint64_t version = 0;
  TimePoint at;
};

// One stale read: when it started and how long its value had been outdated then.
struct StaleRead {
  TimePoint start;
  Duration staleness{0};
  std::string tablet;
  std::string key;
};

struct FreshnessReport {
  size_t reads = 0;            // all reads
  size_t reads_ok = 0;         // reads that returned a value
  std::map<std::string, size_t> not_ok;  // the other reads by outcome ("timeout", an error code, ...)
  size_t fresh = 0;            // ... that was the latest committed at the read's start
  double fidelity = 1.0;       // fresh / reads_ok
  Duration staleness_p50{0};   // over stale reads only
  Duration staleness_p99{0};
  Duration staleness_max{0};
  size_t stale_after_ack = 0;  // reads older than an acknowledgement that preceded them
  size_t backwards = 0;        // monotonic-read violations
  std::vector<std::string> stale_examples;      // a few stale-after-ack reads, described
  std::vector<std::string> backwards_examples;  // a few monotonic-read violations, described
  std::vector<StaleRead> stale;                 // every stale read, in the order of `reads`
};

// The commits of the database's applied log.
std::vector<Commit> commits_of(const std::vector<database::AppliedUpdate>& applied);

FreshnessReport analyse_freshness(const std::vector<ReadRecord>& reads, const std::vector<Commit>& commits,
                                  const std::vector<AckRecord>& acks);

}  // namespace oly::verify
