// Analysis of a finished (or running) cluster's run directory: freshness of every read against
// the database's commits (see freshness.h), cache hit rate and consistency messages per update,
// from the tablets' history, Cacofonix's ack log, the database file and the front ends' stats
// files (all read through load.h). `olympics freshness` prints it.
//
// Errors: analyse_run throws std::runtime_error naming the file it could not read.
#pragma once

#include <string>

#include "common/config.h"
#include "verify/freshness.h"
#include "verify/load.h"

namespace oly::verify {

struct RunAnalysis {
  std::string consistency;
  FreshnessReport freshness;
  int64_t updates = 0;          // acknowledged updates
  int64_t cache_hits = 0;       // over all front ends
  int64_t cache_misses = 0;
  int64_t invalidations = 0;    // push: sent by the master
  int64_t polls = 0;            // pull: sent by peers
  int64_t not_modified = 0;     // pull: polls that found nothing new
  int64_t fetches = 0;          // peer misses fetched through the master
  double hit_rate() const;
  // Consistency messages (invalidations and their acks, polls and their answers) per update.
  double messages_per_update() const;
};

// The run in cfg.run_dir (read_records), or records already read.
RunAnalysis analyse_run(const Config& cfg);
RunAnalysis analyse_records(const Config& cfg, const RunRecords& records);
std::string format_analysis(const RunAnalysis& a);

}  // namespace oly::verify
