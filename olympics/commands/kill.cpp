#include "olympics/commands/command.h"

#include "olympics/process.h"

namespace oly::olympics {

Command kill_command(CLI::App& app, Flags& f) {
  auto* kill = app.add_subcommand("kill", "send a signal to one node (default KILL)");
  add_config_flags(kill, f);
  add_node_arg(kill, f);
  kill->footer("KILL and TERM wait up to 3 s for the node to exit and then remove its pid file.");
  kill->add_option("-s,--signal", f.signal, "KILL, TERM, STOP (pause), CONT (resume) or INT")
      ->check(CLI::IsMember({"KILL", "TERM", "STOP", "CONT", "INT"}))
      ->capture_default_str();
  return {kill, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      cluster.kill(f.node, *signal_from_name(f.signal));
      return 0;
    });
  }};
}

}  // namespace oly::olympics
