#include "olympics/commands/command.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <set>

#include "olympics/status.h"
#include "verify/text.h"

namespace oly::olympics {

namespace {

using verify::fixed;

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
      std::set<std::string> versions;
      for (const auto& r : rows) {
        if (!r.version.empty()) versions.insert(r.version);
      }
      std::string version;
      for (const auto& v : versions) version += (version.empty() ? ", version " : " and ") + v;
      text = format_status_table(rows) + std::to_string(up) + " of " + std::to_string(rows.size()) +
             " nodes up (run directory " + cluster.layout().dir.string() + ")" + version +
             (cluster.config().security == Security::kCurve ? ", CurveZMQ links" : ", plain ZeroMQ links") +
             (cluster.config().byzantine ? ", Byzantine mode (one traitor of four tolerated)" : "") + "\n";
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

}  // namespace

Command status_command(CLI::App& app, Flags& f) {
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
  return {status, f.watch.has_value(), [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) { return cmd_status(cluster, f.json, f.watch, stop); });
  }};
}

}  // namespace oly::olympics
