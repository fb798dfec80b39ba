// Loading a run directory for the checker: finds the config the run was started with, reads what
// the processes recorded and fills a CheckInput (check.h).
//
// The config: `config_path` when given; otherwise the file named after --config in the saved
// command line of any node (pids/<node>.cmd, written by `olympics up`); otherwise
// RUN_DIR/cluster.yaml. The consistency mode is the one the front ends were started with (their
// --consistency flag), else the config's. The run directory is always RUN_DIR, whatever the config
// says.
//
// Files read: the ack log and the tablets' history named by the config, the database file (its
// applied log and final rows; opened read-only in effect: nothing is written) and events.csv.
//
// Errors: std::runtime_error (or ConfigError) naming the file that is missing or malformed and
// what to do, e.g. "run/x/acks.csv: cannot read the file".
//
// Thread-safety: one thread.
#pragma once

#include <optional>
#include <string>

#include "common/config.h"
#include "olympics/check.h"

namespace oly::olympics {

struct LoadedRun {
  Config config;            // with run_dir = the run directory (absolute)
  std::string config_path;  // where it was found
  CheckInput input;
};

// `pull_slack`: added to the pull bound (TTR + the master's 10 ms) for one poll round trip.
LoadedRun load_run(const std::string& run_dir, const std::optional<std::string>& config_path,
                   Duration pull_slack = ms(100));

}  // namespace oly::olympics
