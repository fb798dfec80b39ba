#include "olympics/commands/command.h"


namespace oly::olympics {

Command restart_command(CLI::App& app, Flags& f) {
  auto* restart = app.add_subcommand(
      "restart", "start a stopped node again, with the command line 'up' gave it");
  add_config_flags(restart, f);
  add_node_arg(restart, f);
  return {restart, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      cluster.restart(f.node);
      return 0;
    });
  }};
}

}  // namespace oly::olympics
