// The one reader of a run directory: what a cluster's processes recorded, and the CheckInput
// (check.h) the checker judges. `olympics check`, `olympics freshness` (analysis.h), the demo and
// the tests read runs only through here.
//
// The config: `config_path` when given; otherwise the file named after --config in the saved
// command line of any node (pids/<node>.cmd, written by `olympics up`); otherwise
// RUN_DIR/cluster.yaml. The consistency mode is the one the front ends were started with (their
// --consistency flag), else the config's. The run directory is always RUN_DIR, whatever the config
// says.
//
// Files read (run_dir.h): the ack log and the tablets' history named by the config, the database
// file or every replica's, added ones included (the union of their histories, and the final rows
// of the most advanced; nothing is written), events.csv (absent: no events) and
// the front ends' stats files (absent: skipped).
//
// Errors: std::runtime_error (or ConfigError) naming the file that is missing or malformed and
// what to do, e.g. "run/x/acks.csv: cannot read the file".
//
// Thread-safety: one thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/message.h"
#include "common/records.h"
#include "database/store.h"
#include "verify/check.h"
#include "verify/events.h"

namespace oly::verify {

// Everything a run recorded.
struct RunRecords {
  std::vector<AckRecord> acks;                   // Cacofonix's ack log
  std::vector<ReadRecord> reads;                 // the tablets' history
  std::vector<database::AppliedUpdate> applied;  // the database's applied log, in commit order
  std::vector<Score> scores;                     // the database's final rows
  std::vector<Tally> tallies;
  // Gossip mode: each configured replica's own record and rows (CheckInput::replicas), those
  // removed from the tier aside (and check_input leaves out those down at the run's end).
  std::vector<CheckInput::ReplicaRecord> replicas;
  std::vector<ClusterEvent> events;              // events.csv
  std::map<std::string, Stats> frontend_stats;   // <fe>.stats, by front end id
};

// The records of the run in cfg.run_dir, with the file names of `cfg`.
RunRecords read_records(const Config& cfg);

// The CheckInput of `records` under `cfg` (settings from the config; pull bound = the TTR
// bound + the master's 10 ms + `pull_slack`; failures from the events).
CheckInput check_input(const Config& cfg, RunRecords records, Duration pull_slack = ms(100));

// The config a run in `run_dir` was started with: the first `--config` of its nodes' saved
// command lines (pids/*.cmd) that still exists, else run_dir/cluster.yaml. Throws
// std::runtime_error, naming what it looked for, when there is neither.
std::string run_config_path(const std::string& run_dir);

struct LoadedRun {
  Config config;            // with run_dir = the run directory (absolute)
  std::string config_path;  // where it was found
  CheckInput input;
};

// Finds the run's config (see the file comment), reads its records and builds the CheckInput.
// `pull_slack`: added to the pull bound (TTR + the master's 10 ms) for one poll round trip.
LoadedRun load_run(const std::string& run_dir, const std::optional<std::string>& config_path,
                   Duration pull_slack = ms(100));

}  // namespace oly::verify
