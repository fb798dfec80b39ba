// The olympics tool's subcommands, one file each (up.cpp, status.cpp, health.cpp, kill.cpp,
// restart.cpp, down.cpp, demo.cpp, freshness.cpp, check.cpp, config.cpp, wait.cpp, frontends.cpp,
// databases.cpp, db.cpp, keys.cpp); main.cpp
// registers them and runs the one given. Each <name>_command adds its subcommand and flags to
// the app and returns what runs it.
//
// Exit status of a command: 0 on success, 1 when it could not do what was asked (the reason is
// one line on stderr) or, for check, when a guarantee was broken; 2 for a bad flag or config
// (check: a run directory it cannot read); 130 when interrupted (what was started is stopped).
//
// Thread-safety: one thread.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "common/shell.h"
#include "olympics/cluster.h"
#include "olympics/demo.h"

namespace oly::olympics {

// Every command's flags (CLI11 binds to them), set while parsing.
struct Flags {
  CommonFlags common;  // only --config and --run-dir are offered; the rest stay empty
  bool config_given = false;  // --config was on the command line (else, with --run-dir, the run's own)
  bool no_clients = false;
  std::optional<int> tablets;
  std::optional<double> rate;
  std::optional<std::string> consistency;
  std::optional<std::string> log_level;
  std::string traitor, strategy = "flip";  // up: Byzantine mode's traitor
  bool json = false;
  std::optional<double> watch;
  std::string node;
  std::string signal = "KILL";
  DemoOptions demo;
  // check
  std::string check_dir;
  std::optional<std::string> check_config;
  std::optional<std::string> plot;  // "" = RUN_DIR/check.png
  int pull_slack_ms = 100;
  // config
  std::string out;
  bool free_ports = false;
  std::optional<int> interval_ms, timeout_ms;
  std::optional<std::string> security;
  // keys
  std::string key_name;
  std::string key_role;
  // wait
  double wait_timeout_s = 30;
  // frontends
  bool only_master = false;
  bool only_peers = false;
  // databases
  bool only_leader = false;
  bool only_followers = false;
  // db
  std::string db_action;
};

struct Command {
  CLI::App* sub = nullptr;
  bool stops_on_signal = false;  // SIGINT/SIGTERM stop what it started (install_stop_signals)
  std::function<int(const std::atomic<bool>* stop)> run;  // stop: null unless stops_on_signal
};

Command up_command(CLI::App& app, Flags& f);
Command databases_command(CLI::App& app, Flags& f);
Command status_command(CLI::App& app, Flags& f);
Command kill_command(CLI::App& app, Flags& f);
Command restart_command(CLI::App& app, Flags& f);
Command down_command(CLI::App& app, Flags& f);
Command demo_command(CLI::App& app, Flags& f);
Command freshness_command(CLI::App& app, Flags& f);
Command check_command(CLI::App& app, Flags& f);
Command config_command(CLI::App& app, Flags& f);
Command wait_command(CLI::App& app, Flags& f);
Command frontends_command(CLI::App& app, Flags& f);
Command db_command(CLI::App& app, Flags& f);
Command keys_command(CLI::App& app, Flags& f);
Command health_command(CLI::App& app, Flags& f);
Command stats_command(CLI::App& app, Flags& f);

// Shared by the commands (common.cpp).
void add_config_flags(CLI::App* sub, Flags& f);      // --config, --run-dir
void add_consistency_flag(CLI::App* sub, Flags& f);  // --consistency push|pull
void add_node_arg(CLI::App* sub, Flags& f);          // the NODE argument
// Sleeps `seconds`; false when the stop flag was raised meanwhile.
bool sleep_unless_stopped(double seconds, const std::atomic<bool>* stop);
// Runs `body` on the cluster of f.common's config (in a run directory of its own,
// <run_dir>/<own_dir>-<date-time>, when `own_dir` is given and --run-dir is not), turning the
// tool's errors into exit statuses. With --run-dir of an earlier run and no --config, the config
// is the one that run was started with (as `olympics check` finds it).
int on_cluster(const Flags& f, const std::atomic<bool>* stop,
               const std::function<int(Cluster&)>& body, const std::string& own_dir = "");

}  // namespace oly::olympics
