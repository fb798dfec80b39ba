// bench_failover (bench/failover.cpp, driven by the bench/failover script): measure how long
// clients go without service when a front end dies, kill after kill.
//
// Starts a cluster in its own run directory from a derived config (written there as
// failover.yaml: the base config with the heartbeat overrides, consistency, tablet count and
// rate), then, kill after kill:
//   1. waits until the cluster is steady (steady_problem() is "") and stays up for a quiet period,
//      so that every tablet has read from its home front end again;
//   2. notes the time (steady clock) and kill -9s the master (the home master, first in the
//      config) or a non-master (the first other front end), or alternately both;
//   3. waits until a surviving front end is master at a newer epoch (master killed) or the master
//      suspects the victim (non-master killed);
//   4. leaves it down for down_ms, notes the time and restarts it;
//   5. waits until the cluster is steady again: the home master has mastership back (handoff).
// After the last kill and a quiet period it stops the cluster and computes the windows of
// windows.h from acks.csv and reads.csv, prints p50 / p99 / max per kind of kill, with the
// heartbeat timeout and p99 / timeout, and writes failover.json in the run directory. What the
// tool did to the cluster (starts, kills) goes to failover.log there.
//
// Errors: ClusterError (or Interrupted) when the cluster cannot be started or the stop flag is
// raised; the cluster is always stopped. A cluster that does not become steady within
// steady_timeout_s ends the run early (exit status 1) with the windows of the kills so far.
//
// Thread-safety: one thread.
#pragma once

#include <atomic>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/config.h"
#include "olympics/status.h"
#include "verify/windows.h"

namespace oly::bench {

using verify::KillEvent;
using verify::KillWindows;

struct FailoverOptions {
  std::optional<std::string> consistency;  // push or pull (default: the config's)
  int tablets = 50;
  double rate = 50;  // Cacofonix's updates per second
  int kills = 20;
  std::optional<int> interval_ms;  // heartbeat.interval_ms override
  std::optional<int> timeout_ms;   // heartbeat.timeout_ms override
  std::string target = "master";   // master, nonmaster or both (alternating, master first)
  int down_ms = 1000;              // how long a killed front end stays down
  int quiet_ms = 2000;             // steady this long before each kill
  int steady_timeout_s = 60;       // give up when not steady this long after a restart
  bool clean = false;              // delete an earlier run's records in the run directory
};

// `base` with run_dir = `run_dir` and the options applied; validated (throws ConfigError).
Config failover_config(Config base, const FailoverOptions& o, const std::string& run_dir);

// One kill as the tool saw it.
struct FailoverKill {
  KillEvent event;
  std::string new_master;                 // master killed: who took over ("" if nobody was seen)
  std::optional<Duration> reaction_seen;  // kill -> takeover (or suspicion) seen by polling
  std::optional<Duration> settled_seen;   // restart -> steady seen by polling
};

struct FailoverRun {
  Config config;  // the derived config
  FailoverOptions options;
  std::vector<FailoverKill> kills;
  std::string aborted;  // why the run ended early ("" when it did not)
};

// Starts the cluster in `run_dir`, kills, stops it, analyses and prints (see the file comment).
// Returns the exit status: 0, or 1 when the run ended early.
int run_failover(const Config& base, const FailoverOptions& o, const std::string& run_dir,
                 const std::atomic<bool>& stop, std::ostream& out);

// The report: one table per kind of kill (master, non-master) and one line per kill.
std::string format_failover(const FailoverRun& run, const std::vector<KillWindows>& windows);
// The same as JSON: settings, every kill with its windows, and the summary tables.
std::string failover_json(const FailoverRun& run, const std::vector<KillWindows>& windows);

}  // namespace oly::bench
