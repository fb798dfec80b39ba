// olympics: the cluster tool. Starts every process of a cluster config on this machine, shows
// them at a glance (once or --watch), signals, restarts and stops them, runs the demo, analyses
// a run's freshness, writes derived configs for scenario scripts, waits for a steady cluster and
// judges a finished run (check, through verify/). One file per subcommand under commands/
// (command.h); this file registers them and runs the one given. See --help.
//
// Exit status: as command.h says; 2 for an unknown command or a bad flag.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <vector>

#include "common/cli.h"
#include "common/config_file.h"
#include "common/node.h"
#include "olympics/commands/command.h"

using namespace oly;
using namespace oly::olympics;

int main(int argc, char** argv) {
  CLI::App app{
      "olympics: start, watch and stop a cluster of the live Olympic-scores service on this "
      "machine.\n"
      "Every process of the config runs in the background, with its pid, argv and log under the\n"
      "config's run_dir (pids/<node>.pid, pids/<node>.cmd, <node>.log).",
      "olympics"};
  app.require_subcommand(1, 1);
  Flags f;

  const std::vector<Command> commands = {
      up_command(app, f),        status_command(app, f), kill_command(app, f),
      restart_command(app, f),   down_command(app, f),   demo_command(app, f),
      freshness_command(app, f), check_command(app, f),  config_command(app, f),
      wait_command(app, f),      frontends_command(app, f),
      databases_command(app, f), db_command(app, f),     health_command(app, f),
      stats_command(app, f),     keys_command(app, f)};

  app.footer(
      "Examples:\n"
      "  olympics demo                     a 30 s demo with 50 tablets, then a summary\n"
      "  olympics up --consistency pull    start the cluster of config/cluster.yaml\n"
      "  olympics status                   one line per node\n"
      "  olympics kill fe1                 kill -9 the front end fe1\n"
      "  olympics kill $(olympics databases --leader)   kill -9 the database leader\n"
      "  olympics restart fe1              start it again with the same command line\n"
      "  olympics down                     stop everything\n"
      "  olympics status --watch 1         one line per node, every second (watch a failover)\n"
      "  olympics stats fe1                every counter of fe1 (also: curl http://127.0.0.1:8101/metrics)\n"
      "  olympics check run --plot         judge the run in ./run, with a PNG timeline\n"
      "  olympics keys                     make the CurveZMQ key pairs of every node (security: curve)\n"
      "Run 'olympics <command> --help' for a command's options.");
  const auto known = app.get_subcommands(
      [&](const CLI::App* sub) { return argc > 1 && sub->check_name(argv[1]); });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(
        stderr,
        "error: unknown command '%s'; the commands are up, status, health, stats, kill, restart, down, "
        "demo, freshness, check, config, wait, frontends, databases, db, keys\n",
        argv[1]);
    return 2;
  }
  if (const auto rc = cli::parse(app, argc, argv, "olympics")) return *rc;

  for (const Command& c : commands) {
    if (!*c.sub) continue;
    // Commands that start or watch processes stop cleanly on SIGINT/SIGTERM; the others keep
    // the default handlers.
    return c.run(c.stops_on_signal ? &install_stop_signals() : nullptr);
  }
  return 2;
}
