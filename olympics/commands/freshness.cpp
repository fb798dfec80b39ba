#include "olympics/commands/command.h"

#include <iostream>

#include "verify/analysis.h"

namespace oly::olympics {

Command freshness_command(CLI::App& app, Flags& f) {
  auto* freshness = app.add_subcommand(
      "freshness", "how fresh were the reads of the run in run_dir: fidelity, staleness, hit rate");
  freshness->footer(
      "Reads the tablets' history, Cacofonix's ack log, the database file and the front ends'\n"
      "stats files. Works on a running cluster or after 'down'.");
  add_config_flags(freshness, f);
  return {freshness, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      std::cout << verify::format_analysis(verify::analyse_run(cluster.config()));
      return 0;
    });
  }};
}

}  // namespace oly::olympics
