// What every binary's main.cpp shares: the common command-line flags, loading the config with
// them, and the event loop that runs a Node over ZeroMQ until SIGINT/SIGTERM.
//
// Errors: load_config_or_exit prints "error: <file>: <key>: <what>" to stderr and exits with
// status 2 on a bad config or flag.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <string>

#include "common/cluster_curve.h"
#include "common/config.h"
#include "common/message.h"
#include "common/node.h"
#include "common/zmq_transport.h"

namespace oly {

struct CommonFlags {
  std::string config = "config/cluster.yaml";
  std::string consistency;  // overrides `consistency` when set
  std::string run_dir;      // overrides `run_dir` when set
  std::string log_level;    // overrides `log_level` when set
  std::string log_file;     // log to this file instead of stderr
};

// Adds --config, --consistency, --run-dir, --log-level and --log-file to `app`.
void add_common_flags(CLI::App& app, CommonFlags& flags);

// Loads flags.config, applies the overrides and validates; on error prints it and exits 2.
Config load_config_or_exit(const CommonFlags& flags);

// The ZeroMQ links' counts, added to a node's /metrics: frames dropped, and with curve the
// connections the ZAP handler refused and the frames refused by admission or as spoofed.
void add_link_counts(Stats& s, const ZmqTransport& t);

// node_curve (common/cluster_curve.h), or "error: <what>" on stderr and exit status 2 when this
// node's keys are missing or wrong.
std::optional<CurveOptions> node_curve_or_exit(const Config& c, KeyRole role, const std::string& name,
                                               std::optional<ServerKind> server = std::nullopt);

// Makes every server of the config (database, front ends) a known peer of `t`.
void add_cluster_peers(ZmqTransport& t, const Config& c);

// Turns SIGINT and SIGTERM into a flag that shells poll (and ignores SIGPIPE).
const std::atomic<bool>& install_stop_signals();

// Runs `node` until a stop signal; wakes at least every `max_wait`, and calls `every_second`
// (when given) about once a second.
// `every_pass` (when given) runs after every step (serve side servers, e.g. a MetricsEndpoint).
void run_loop(Node& node, ZmqTransport& t, const Clock& clock, Duration max_wait = ms(100),
              const std::function<void(TimePoint)>& every_second = {}, const std::function<void()>& every_pass = {});
// The same loop, until `done(now)` holds after a step (checked before the first step too), stop
// signal or not: for what a process does after the signal (a leader's hand-over).
void run_until(Node& node, ZmqTransport& t, const Clock& clock, const std::function<bool(TimePoint)>& done,
               Duration max_wait, const std::function<void(TimePoint)>& every_second = {},
               const std::function<void()>& every_pass = {});

// Writes `stats` as one encoded frame to `path`, atomically (write then rename), for clients
// that do not listen for requests (Cacofonix, the tablet process); `olympics status` reads it.
void write_stats_file(const std::string& path, const Stats& stats);
// A unique suffix for this incarnation of a process (pid and start time), e.g. "4242-1a2b3c".
std::string incarnation_suffix();
}  // namespace oly
