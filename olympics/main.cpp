// olympics: the cluster tool. Starts every process of a cluster config on this machine, shows
// them at a glance, signals, restarts and stops them, and runs the demo. See --help.
//
// Exit status: 0 on success, 1 when the command could not do what was asked (the reason is one
// line on stderr), 2 for a bad flag or config, 130 when interrupted (what was started is stopped).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "common/node.h"
#include "common/shell.h"
#include "olympics/cluster.h"
#include "olympics/analysis.h"
#include "olympics/demo.h"
#include "olympics/status.h"

namespace {

using namespace oly;
using namespace oly::olympics;

struct Flags {
  CommonFlags common;  // only --config and --run-dir are offered; the rest stay empty
  bool no_clients = false;
  std::optional<int> tablets;
  std::optional<double> rate;
  std::optional<std::string> consistency;
  bool json = false;
  std::string node;
  std::string signal = "KILL";
  DemoOptions demo;
};

void add_config_flags(CLI::App* sub, Flags& f) {
  sub->add_option("-c,--config", f.common.config, "cluster configuration file (YAML)")
      ->capture_default_str();
  sub->add_option("--run-dir", f.common.run_dir,
                  "run directory for pid, log and data files (overrides run_dir)");
}

void add_consistency_flag(CLI::App* sub, Flags& f) {
  sub->add_option("--consistency", f.consistency,
                  "push or pull for every front end (default: the config's)")
      ->check(CLI::IsMember({"push", "pull"}));
}

void add_node_arg(CLI::App* sub, Flags& f) {
  sub->add_option("node", f.node,
                  "db (the database), a front end id (fe1, ...), cacofonix or tablets")
      ->required();
}

int cmd_status(const Cluster& cluster, bool json) {
  const ClusterSample first = take_sample(cluster, ms(500));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ClusterSample second = take_sample(cluster, ms(500));
  wait_for_client_updates(cluster, first, second, ms(700));
  const auto rows = cluster_status(cluster, &first, second);
  if (json) {
    std::cout << format_status_json(rows);
    return 0;
  }
  int up = 0;
  for (const auto& r : rows) up += r.state == "up" ? 1 : 0;
  std::cout << format_status_table(rows) << up << " of " << rows.size()
            << " nodes up (run directory " << cluster.layout().dir.string() << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "olympics: start, watch and stop a cluster of the live Olympic-scores service on this "
      "machine.\n"
      "Every process of the config runs in the background, with its pid, argv and log under the\n"
      "config's run_dir (pids/<node>.pid, pids/<node>.cmd, <node>.log).",
      "olympics"};
  app.require_subcommand(1, 1);
  Flags f;

  auto* up =
      app.add_subcommand("up", "start the database, the front ends, Cacofonix and the tablets");
  add_config_flags(up, f);
  up->add_option("--tablets", f.tablets,
                 "number of logical tablets (default: the config's tablets.count)")
      ->check(CLI::Range(1, 100000));
  up->add_flag("--no-clients", f.no_clients, "start only the database and the front ends");
  add_consistency_flag(up, f);
  up->add_option("--rate", f.rate,
                 "Cacofonix's updates per second (default: the config's cacofonix.rate)")
      ->check(CLI::PositiveNumber);

  auto* status = app.add_subcommand(
      "status", "show every node: pid, state, role, epoch, rates, tablets, hit rate");
  status->footer(
      "STATE is up, down, paused (SIGSTOP) or silent (alive but not answering stats).\n"
      "REQ/S is measured over 0.5 s; DETAIL has Cacofonix's acknowledged updates and the tablets' "
      "reads.");
  add_config_flags(status, f);
  status->add_flag("--json", f.json, "print JSON (one object per node) instead of a table");

  auto* kill = app.add_subcommand("kill", "send a signal to one node (default KILL)");
  add_config_flags(kill, f);
  add_node_arg(kill, f);
  kill->footer("KILL and TERM wait up to 3 s for the node to exit and then remove its pid file.");
  kill->add_option("-s,--signal", f.signal, "KILL, TERM, STOP (pause), CONT (resume) or INT")
      ->check(CLI::IsMember({"KILL", "TERM", "STOP", "CONT", "INT"}))
      ->capture_default_str();

  auto* restart = app.add_subcommand(
      "restart", "start a stopped node again, with the command line 'up' gave it");
  add_config_flags(restart, f);
  add_node_arg(restart, f);

  auto* down = app.add_subcommand("down", "stop every node: SIGTERM, then SIGKILL after 3 s");
  add_config_flags(down, f);

  auto* demo = app.add_subcommand(
      "demo", "run a cluster for a while, showing it every 3 s, then stop it and judge");
  demo->footer(
      "Starts the cluster (like 'up'), prints the scoreboard, roles, tablets per front end and "
      "rates\n"
      "every 3 s, stops it (also on Ctrl-C) and prints a summary. Exit status 0 when updates were\n"
      "acknowledged and tablets read scores, 1 otherwise.");
  add_config_flags(demo, f);
  demo->add_option("--duration", f.demo.duration_s, "seconds to run")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  demo->add_option("--tablets", f.demo.tablets, "number of logical tablets")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  add_consistency_flag(demo, f);

  auto* freshness = app.add_subcommand(
      "freshness", "how fresh were the reads of the run in run_dir: fidelity, staleness, hit rate");
  freshness->footer(
      "Reads the tablets' history, Cacofonix's ack log, the database file and the front ends'\n"
      "stats files. Works on a running cluster or after 'down'.");
  add_config_flags(freshness, f);

  app.footer(
      "Examples:\n"
      "  olympics demo                     a 30 s demo with 50 tablets, then a summary\n"
      "  olympics up --consistency pull    start the cluster of config/cluster.yaml\n"
      "  olympics status                   one line per node\n"
      "  olympics kill fe1                 kill -9 the front end fe1\n"
      "  olympics restart fe1              start it again with the same command line\n"
      "  olympics down                     stop everything\n"
      "Run 'olympics <command> --help' for a command's options.");
  const auto known = app.get_subcommands(
      [&](const CLI::App* sub) { return argc > 1 && sub->check_name(argv[1]); });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(
        stderr,
        "error: unknown command '%s'; the commands are up, status, kill, restart, down, demo, "
        "freshness\n",
        argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    const auto parsed = app.get_subcommands();
    const std::string help =
        parsed.empty() ? "olympics --help" : "olympics " + parsed.front()->get_name() + " --help";
    std::fprintf(stderr, "error: %s (see '%s')\n", e.what(), help.c_str());
    return 2;
  }

  // up and demo stop what they started on SIGINT/SIGTERM; the others keep the default handlers.
  const std::atomic<bool>* stop = (*up || *demo) ? &install_stop_signals() : nullptr;
  Cluster cluster(load_config_or_exit(f.common), f.common.config, self_bin_dir(), std::cout, stop);
  try {
    if (*up) {
      UpOptions options;
      options.clients = !f.no_clients;
      options.tablets = f.tablets;
      options.consistency = f.consistency;
      options.rate = f.rate;
      cluster.up(options);
      std::cout << "'olympics status' shows it, 'olympics down' stops it\n";
    } else if (*status) {
      return cmd_status(cluster, f.json);
    } else if (*kill) {
      cluster.kill(f.node, *signal_from_name(f.signal));
    } else if (*restart) {
      cluster.restart(f.node);
    } else if (*down) {
      cluster.down();
    } else if (*freshness) {
      std::cout << format_analysis(analyse_run(cluster.config()));
    } else if (*demo) {
      f.demo.consistency = f.consistency;
      return run_demo(cluster, f.demo, *stop, std::cout);
    }
  } catch (const Interrupted&) {
    std::cerr << "interrupted; what was started has been stopped\n";
    return 130;
  } catch (const ClusterError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::runtime_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
