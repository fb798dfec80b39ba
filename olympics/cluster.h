// Cluster: the processes of one config on this machine, started, signalled and stopped through
// pid files under its run directory (see nodes.h for the layout). Used by the `olympics` tool,
// by process tests (to bring a cluster down whatever happened) and by scenario scripts.
//
// A node is running when its pid file names a live process whose program is the one its argv
// file recorded (so a pid reused by an unrelated process after a reboot does not count).
//
// Every start, signal and stop is appended to the run directory's events.csv (events.h) just
// before it is done, so that the checker knows when each failure began and ended.
//
// Progress goes to `out`, one line per action ("started fe1 (pid 4242), log run/fe1.log").
// Errors: operations throw ClusterError with a one-line reason that names the node and, where it
// helps, its port or log file; Interrupted (a ClusterError) when the stop flag was raised. `up`
// stops whatever it started before it throws.
//
// Thread-safety: one thread per Cluster; the stop flag may be raised from a signal handler.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "olympics/nodes.h"
#include "olympics/process.h"

namespace oly::olympics {

class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Interrupted : public ClusterError {
 public:
  Interrupted() : ClusterError("interrupted") {}
};

struct UpOptions {
  bool clients = true;                     // false: only the database and the front ends
  std::optional<int> tablets;              // --count for the tablet process
  std::optional<std::string> consistency;  // push or pull, for every front end
  std::optional<double> rate;              // --rate for Cacofonix
  std::optional<std::string> log_level;    // --log-level for every node
  std::string traitor = {};                // Byzantine mode: this front end lies (--traitor) ...
  std::string strategy = {};               // ... by this strategy (byzantine/traitor.h)
  Duration ready_timeout = ms(10000);      // how long a server may take to answer `stats`
};

// The directory of the running executable (from /proc/self/exe): where the sibling binaries are.
std::string self_bin_dir();

class Cluster {
 public:
  // `config_path` is the file `config` was loaded from (made absolute here); the run directory is
  // config.run_dir made absolute against the working directory. `stop`, when given, is polled
  // while waiting.
  Cluster(Config config, const std::string& config_path, std::string bin_dir, std::ostream& out,
          const std::atomic<bool>* stop = nullptr);

  const Config& config() const { return config_; }
  const RunLayout& layout() const { return layout_; }
  const std::vector<NodeSpec>& nodes() const { return nodes_; }
  // The node called `name`; throws ClusterError listing the configured names if there is none.
  const NodeSpec& node(const std::string& name) const;

  // The pid of `node` if it is running (see the file comment), else nullopt.
  std::optional<pid_t> running_pid(const NodeSpec& node) const;

  // Refuses (ClusterError) when a node of this run directory is running or a server's port is
  // taken; with `security: curve`, makes the key pairs missing from the key directory (saying
  // which); then starts the database, each front end, Cacofonix and the tablet process in that
  // order, waiting for each server to answer `stats`.
  void up(const UpOptions& options);

  // SIGTERM to every running node, SIGKILL to those still there after 3 s; removes the pid
  // files. Returns how many nodes were running.
  int down();

  // Sends `sig` to a running node. For SIGKILL and SIGTERM, waits up to 3 s for it to go and
  // then removes its pid file. Throws ClusterError if the node is unknown or not running.
  void kill(const std::string& name, int sig);

  // Starts a node that is not running with the argv saved by `up`, and waits for a server to
  // answer `stats`. Throws ClusterError if it is running, has no saved argv, or no node of the
  // cluster runs (a stopped cluster is started by up, not one node at a time).
  void restart(const std::string& name);

  // Replicas added at run time (a replicated tier only). add_replica starts a new replica `name`
  // on a free port of 127.0.0.1 with --join (the address of a running replica), waits until the
  // leader lists it as a member (with `security: curve`, after making its key pair), and records it in D/added-replicas.txt, so that kill, restart,
  // status and down know it. remove_replica asks the leader to remove `name` (retrying through
  // leader changes: a leader asked to remove itself hands leadership over first), then stops its
  // process. Both print what they did and throw ClusterError when they cannot.
  void add_replica(const std::string& name);
  void remove_replica(const std::string& name);
  // The tier's membership as a running replica answers get_members (nullopt: none answered).
  std::optional<Members> members() const;

 private:
  // security: curve: makes the missing key pairs when `make`, then has this process's requests
  // use the operator's key. Throws ClusterError when a key is missing or wrong.
  void use_keys(bool make);
  std::filesystem::path added_replicas_file() const;
  void refuse_if_up() const;
  void refuse_if_ports_taken() const;
  // Spawns `argv` for `node`, records pid and argv, and waits until it is ready.
  void start(const NodeSpec& node, const std::vector<std::string>& argv, Duration ready_timeout);
  void wait_ready(const NodeSpec& node, pid_t pid, Duration timeout);
  std::string failure(const NodeSpec& node, const std::string& what) const;
  void sleep_unless_stopped(Duration d) const;
  // Appends {now, node, action} to events.csv; a write error is reported on `out`, not thrown.
  void record(const std::string& node, const std::string& action) const;

  Config config_;
  std::string config_path_;
  std::string bin_dir_;
  RunLayout layout_;
  std::vector<NodeSpec> nodes_;
  std::ostream& out_;
  const std::atomic<bool>* stop_;
};

// The run directory of a command that keeps each run apart (the demo, bench_failover):
// cfg.run_dir when the user gave --run-dir (`given`), else <cfg.run_dir>/<what>-<date-time>.
std::string dated_run_dir(const Config& cfg, bool given, const std::string& what);

// Runs `body` and returns its exit status, or turns what it throws into one, with one line on
// stderr: Interrupted 130 ("interrupted; " + `stopped_note`), ConfigError 2, any other
// std::runtime_error (ClusterError, ...) 1.
int exit_status_of(const std::function<int()>& body,
                   const std::string& stopped_note = "what was started has been stopped");

}  // namespace oly::olympics
