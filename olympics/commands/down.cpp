#include "olympics/commands/command.h"


namespace oly::olympics {

Command down_command(CLI::App& app, Flags& f) {
  auto* down = app.add_subcommand("down", "stop every node: SIGTERM, then SIGKILL after 3 s");
  add_config_flags(down, f);
  return {down, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      cluster.down();
      return 0;
    });
  }};
}

}  // namespace oly::olympics
