#include "olympics/commands/command.h"

#include <chrono>
#include <iostream>
#include <limits>

#include "olympics/status.h"
#include "olympics/steady.h"
#include "verify/text.h"

namespace oly::olympics {

namespace {

using verify::fixed;

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

}  // namespace

Command wait_command(CLI::App& app, Flags& f) {
  auto* wait = app.add_subcommand(
      "wait", "wait until the cluster is steady: the first front end is master and all serve");
  add_config_flags(wait, f);
  wait->add_option("--timeout", f.wait_timeout_s, "give up after SECONDS (exit status 1)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  return {wait, true, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) { return cmd_wait(cluster, f.wait_timeout_s, stop); });
  }};
}

}  // namespace oly::olympics
