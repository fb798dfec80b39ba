#include "olympics/commands/command.h"

#include <iostream>

#include "olympics/demo.h"

namespace oly::olympics {

Command demo_command(CLI::App& app, Flags& f) {
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
                 "do not kill -9 the master at a third of the run (and restart it at two thirds), nor the database leader half-way (restarted at five sixths)");
  demo->add_option("--tablets", f.demo.tablets, "number of logical tablets")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  add_consistency_flag(demo, f);
  return {demo, true, [&f](const std::atomic<bool>* stop) {
    f.demo.consistency = f.consistency;
    return on_cluster(
        f, stop, [&](Cluster& cluster) { return run_demo(cluster, f.demo, *stop, std::cout); }, "demo");
  }};
}

}  // namespace oly::olympics
