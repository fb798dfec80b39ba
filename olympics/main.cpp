// olympics: the cluster tool. Starts every process of a cluster config on this machine, shows
// them at a glance (once or --watch), signals, restarts and stops them, runs the demo, analyses
// a run's freshness, writes derived configs for scenario scripts,
// waits for a steady cluster and judges a finished run (check). See --help.
//
// Exit status: 0 on success, 1 when the command could not do what was asked (the reason is one
// line on stderr) or, for check, when a guarantee was broken; 2 for a bad flag or config (check:
// a run directory it cannot read); 130 when interrupted (what was started is stopped).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <iostream>
#include <optional>
#include <thread>

#include "common/node.h"
#include "common/shell.h"
#include "verify/analysis.h"
#include "verify/check.h"
#include "verify/report.h"
#include "verify/load.h"
#include "olympics/cluster.h"
#include "olympics/demo.h"
#include "olympics/steady.h"
#include "verify/plot.h"
#include "olympics/status.h"
#include "verify/text.h"

namespace {

using namespace oly;
using namespace oly::olympics;
using namespace oly::verify;

struct Flags {
  CommonFlags common;  // only --config and --run-dir are offered; the rest stay empty
  bool no_clients = false;
  std::optional<int> tablets;
  std::optional<double> rate;
  std::optional<std::string> consistency;
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
  // wait
  double wait_timeout_s = 30;
  // frontends
  bool only_master = false;
  bool only_peers = false;
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

// Sleeps `seconds`; false when the stop flag was raised meanwhile.
bool sleep_unless_stopped(double seconds, const std::atomic<bool>* stop) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (std::chrono::steady_clock::now() < until) {
    if (stop != nullptr && stop->load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return stop == nullptr || !stop->load();
}

std::string wall_clock_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&t));
  return buf;
}

// One status (rates over 0.5 s), or with `watch` one every `watch` seconds (rates over that
// interval) until the stop flag is raised.
int cmd_status(const Cluster& cluster, bool json, std::optional<double> watch,
               const std::atomic<bool>* stop) {
  ClusterSample before = take_sample(cluster, ms(500));
  if (!sleep_unless_stopped(0.5, stop)) return 0;
  const bool clear = watch && !json && ::isatty(STDOUT_FILENO);
  auto next = std::chrono::steady_clock::now();
  while (true) {
    ClusterSample now = take_sample(cluster, ms(500));
    wait_for_client_updates(cluster, before, now, ms(700));
    const auto rows = cluster_status(cluster, &before, now);
    std::string text;
    if (json) {
      text = format_status_json(rows);
    } else {
      int up = 0;
      for (const auto& r : rows) up += r.state == "up" ? 1 : 0;
      text = format_status_table(rows) + std::to_string(up) + " of " + std::to_string(rows.size()) +
             " nodes up (run directory " + cluster.layout().dir.string() + ")\n";
    }
    if (watch) {
      const std::string head = wall_clock_now() + "  every " + fixed(*watch) + " s, Ctrl-C stops\n";
      std::cout << (clear ? "\033[H\033[2J" : json ? "" : "\n") << (json ? "" : head);
    }
    std::cout << text << std::flush;
    if (!watch) return 0;
    // A steady cadence: the next view `watch` seconds after this one began (or at once if
    // sampling took longer).
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(*watch));
    const double left =
        std::chrono::duration<double>(next - std::chrono::steady_clock::now()).count();
    if (left <= 0) next = std::chrono::steady_clock::now();
    if (!sleep_unless_stopped(std::max(left, 0.0), stop)) return 0;
    before = std::move(now);
  }
}

// The run directory of a command that keeps each run apart (the demo): --run-dir, else
// <run_dir>/<what>-<date-time>.
std::string own_run_dir(const Config& cfg, bool given, const std::string& what) {
  if (given) return cfg.run_dir;
  const std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
  return (std::filesystem::path(cfg.run_dir) / (what + "-" + std::string(stamp))).string();
}

// `olympics check RUN_DIR`: prints the verdict, writes RUN_DIR/check.json (and the plot).
int cmd_check(const Flags& f) {
  LoadedRun run;
  try {
    run = load_run(f.check_dir, f.check_config, ms(f.pull_slack_ms));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  const CheckReport report = check_run(run.input);
  std::cout << format_check(report);
  const std::string json_path = run.config.in_run_dir("check.json");
  std::ofstream json(json_path, std::ios::trunc);
  json << check_json(report);
  if (!json) {
    std::cerr << "error: cannot write " << json_path << "\n";
    return 1;
  }
  std::cout << "written " << json_path << "\n";
  if (f.plot) {
    const std::string png = f.plot->empty() ? run.config.in_run_dir("check.png") : *f.plot;
    try {
      plot_timeline(run.input, report, png);
      std::cout << "written " << png << "\n";
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 1;
    }
  }
  return report.passed() ? 0 : 1;
}

// `olympics config --out FILE`: the config with the overrides, validated, as YAML.
int cmd_config(const Flags& f) {
  Config c = load_config_or_exit(f.common);
  try {
    if (f.consistency) c.consistency = *f.consistency == "pull" ? Consistency::kPull : Consistency::kPush;
    if (f.tablets) c.tablets.count = *f.tablets;
    if (f.rate) c.cacofonix.rate = *f.rate;
    if (f.interval_ms) c.heartbeat.interval_ms = *f.interval_ms;
    if (f.timeout_ms) c.heartbeat.timeout_ms = *f.timeout_ms;
    if (f.free_ports) c = with_free_ports(std::move(c));
    validate(c);
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::runtime_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  const std::string text = "# written by olympics config from " + c.source + "\n" + to_yaml(c);
  if (f.out.empty() || f.out == "-") {
    std::cout << text;
    return 0;
  }
  std::ofstream out(f.out, std::ios::trunc);
  out << text;
  if (!out) {
    std::cerr << "error: cannot write " << f.out << "\n";
    return 1;
  }
  return 0;
}

// `olympics wait steady`: until the first front end is master, every front end serves and the
// tablets read from all of them; 1 with the reason after the timeout.
int cmd_wait(const Cluster& cluster, double timeout_s, const std::atomic<bool>* stop) {
  std::vector<std::string> fes;
  for (const auto& fe : cluster.config().frontends) fes.push_back(fe.id);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_s));
  std::string problem;
  while (true) {
    problem = steady_problem(take_sample(cluster, ms(300)), fes,
                             -std::numeric_limits<double>::infinity());
    if (problem.empty()) return 0;
    if (std::chrono::steady_clock::now() >= deadline) break;
    if (!sleep_unless_stopped(0.1, stop)) return 130;
  }
  std::cerr << "not steady after " << fixed(timeout_s) << " s: " << problem << "\n";
  return 1;
}

// `olympics frontends`: every front end id in config order; with `which` "master" only the one
// that is master at the highest epoch (exit 1 when none answers as master), with "peers" the
// others.
int cmd_frontends(const Cluster& cluster, const std::string& which) {
  if (which.empty()) {
    for (const auto& fe : cluster.config().frontends) std::cout << fe.id << "\n";
    return 0;
  }
  const ClusterSample s = take_sample(cluster, ms(300));
  std::string master;
  uint64_t best = 0;
  for (const auto& fe : cluster.config().frontends) {
    const auto it = s.nodes.find(fe.id);
    if (it == s.nodes.end() || !it->second.stats || it->second.stats->role != "master") continue;
    const auto& info = it->second.stats->info;
    uint64_t epoch = 0;
    try {
      epoch = info.count("epoch") ? std::stoull(info.at("epoch")) : 0;
    } catch (const std::exception&) {
    }
    if (master.empty() || epoch > best) {
      master = fe.id;
      best = epoch;
    }
  }
  if (master.empty()) {
    std::cerr << "no front end answers as master\n";
    return 1;
  }
  for (const auto& fe : cluster.config().frontends) {
    if ((which == "master") == (fe.id == master)) std::cout << fe.id << "\n";
  }
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
      "SUSPECTS: the peers a front end suspects now. REQ/S is measured over 0.5 s (or the --watch\n"
      "interval). TABLETS: tablets reading from the front end now, as the tablet process counts\n"
      "them (else those that read there in the last 5 s). DETAIL: a front end's consistency, the\n"
      "master's serving set and 'handoff' while one runs; Cacofonix's acknowledged updates; the\n"
      "tablets' reads.");
  add_config_flags(status, f);
  status->add_flag("--json", f.json, "print JSON (one object per node) instead of a table");
  status
      ->add_option("--watch", f.watch,
                   "refresh every SECONDS until Ctrl-C (rates over that interval)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.2, 3600.0));

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
      "Starts the cluster (like 'up') in its own run directory (default <run_dir>/demo-<date-time>),\n"
      "prints the scoreboard, roles, tablets per front end and rates every 3 s, stops it (also on\n"
      "Ctrl-C), prints a summary and the checker's verdict on the run ('olympics check'). Exit\n"
      "status 0 when updates were acknowledged, tablets read scores and no guarantee was broken.");
  add_config_flags(demo, f);
  demo->add_option("--duration", f.demo.duration_s, "seconds to run")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  demo->add_flag("!--no-kill", f.demo.kill_master,
                 "do not kill -9 the master at a third of the run (and restart it at two thirds)");
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

  auto* check = app.add_subcommand(
      "check", "judge a finished run: lost, duplicate or reordered updates, stale and backwards "
               "reads, unavailability, rebalancing");
  check->footer(
      "Reads RUN_DIR's acks.csv (Cacofonix), reads.csv (tablets), database file and events.csv\n"
      "(what olympics did: kills, pauses, restarts), prints PASS/FAIL per guarantee with the\n"
      "figures and a table of failures, and writes RUN_DIR/check.json. The config is the one the\n"
      "run was started with (from its saved command lines) unless --config is given.\n"
      "Exit status: 0 all guarantees held, 1 one was broken, 2 the run could not be read.");
  check->add_option("run_dir", f.check_dir, "the run directory to judge")->required();
  check->add_option("-c,--config", f.check_config,
                    "the run's config (default: found from the run directory)");
  check->add_option("--plot", f.plot,
                    "also write a PNG timeline (default RUN_DIR/check.png) with gnuplot")
      ->expected(0, 1)
      ->default_str("");
  check
      ->add_option("--pull-slack-ms", f.pull_slack_ms,
                   "pull: allowance for one poll round trip on top of the TTR bound")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();

  auto* config = app.add_subcommand(
      "config", "write a config derived from --config with overrides (for scenario scripts)");
  add_config_flags(config, f);
  config->add_option("-o,--out", f.out, "the file to write (default: standard output)");
  config->add_flag("--free-ports", f.free_ports,
                   "move every server to a free port of 127.0.0.1 (runs side by side)");
  add_consistency_flag(config, f);
  config->add_option("--tablets", f.tablets, "tablets.count")->check(CLI::Range(1, 100000));
  config->add_option("--rate", f.rate, "cacofonix.rate")->check(CLI::PositiveNumber);
  config->add_option("--interval-ms", f.interval_ms, "heartbeat.interval_ms")
      ->check(CLI::Range(1, 60000));
  config->add_option("--timeout-ms", f.timeout_ms, "heartbeat.timeout_ms")
      ->check(CLI::Range(1, 600000));

  auto* wait = app.add_subcommand(
      "wait", "wait until the cluster is steady: the first front end is master and all serve");
  add_config_flags(wait, f);
  wait->add_option("--timeout", f.wait_timeout_s, "give up after SECONDS (exit status 1)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();

  auto* frontends = app.add_subcommand(
      "frontends", "print the front end ids in config order (--master: the master only)");
  add_config_flags(frontends, f);
  auto* only_master =
      frontends->add_flag("--master", f.only_master, "only the front end that is master now");
  frontends->add_flag("--peers", f.only_peers, "only the front ends that are not master now")
      ->excludes(only_master);

  app.footer(
      "Examples:\n"
      "  olympics demo                     a 30 s demo with 50 tablets, then a summary\n"
      "  olympics up --consistency pull    start the cluster of config/cluster.yaml\n"
      "  olympics status                   one line per node\n"
      "  olympics kill fe1                 kill -9 the front end fe1\n"
      "  olympics restart fe1              start it again with the same command line\n"
      "  olympics down                     stop everything\n"
      "  olympics status --watch 1         one line per node, every second (watch a failover)\n"
      "  olympics check run --plot         judge the run in ./run, with a PNG timeline\n"
      "Run 'olympics <command> --help' for a command's options.");
  const auto known = app.get_subcommands(
      [&](const CLI::App* sub) { return argc > 1 && sub->check_name(argv[1]); });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(
        stderr,
        "error: unknown command '%s'; the commands are up, status, kill, restart, down, demo, "
        "freshness, check, config, wait, frontends\n",
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

  // up, demo and failover stop what they started on SIGINT/SIGTERM, and status --watch ends
  // cleanly; the others keep the default handlers.
  const std::atomic<bool>* stop =
      (*up || *demo || *wait || (*status && f.watch)) ? &install_stop_signals()
                                                                   : nullptr;
  if (*check) return cmd_check(f);
  if (*config) return cmd_config(f);
  Config cfg = load_config_or_exit(f.common);
  if (*demo) cfg.run_dir = own_run_dir(cfg, !f.common.run_dir.empty(), "demo");
  Cluster cluster(std::move(cfg), f.common.config, self_bin_dir(), std::cout, stop);
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
      return cmd_status(cluster, f.json, f.watch, stop);
    } else if (*kill) {
      cluster.kill(f.node, *signal_from_name(f.signal));
    } else if (*restart) {
      cluster.restart(f.node);
    } else if (*down) {
      cluster.down();
    } else if (*wait) {
      return cmd_wait(cluster, f.wait_timeout_s, stop);
    } else if (*frontends) {
      return cmd_frontends(cluster, f.only_master ? "master" : f.only_peers ? "peers" : "");
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
