#include "common/cli.h"
#include "olympics/commands/command.h"


namespace oly::olympics {

Command up_command(CLI::App& app, Flags& f) {
  auto* up =
      app.add_subcommand("up", "start the database, the front ends, Cacofonix and the tablets");
  add_config_flags(up, f);
  up->add_option("--tablets", f.tablets,
                 "number of logical tablets (default: the config's tablets.count)")
      ->check(CLI::Range(1, 100000));
  up->add_flag("--no-clients", f.no_clients, "start only the database and the front ends");
  add_consistency_flag(up, f);
  up->add_option("--log-level", f.log_level, "trace, debug, info, warn or error for every node (default: the config's log_level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  up->add_option("--rate", f.rate,
                 "Cacofonix's updates per second (default: the config's cacofonix.rate)")
      ->check(oly::cli::kPositive);
  up->add_option("--traitor", f.traitor,
                 "Byzantine mode (byzantine: true): make this front end a traitor, for tests and scenarios");
  up->add_option("--strategy", f.strategy, "how the traitor lies: flip (default), random, silent or equivocate")
      ->check(CLI::IsMember({"flip", "random", "silent", "equivocate"}));
  return {up, true, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      UpOptions options;
      options.clients = !f.no_clients;
      options.tablets = f.tablets;
      options.consistency = f.consistency;
      options.rate = f.rate;
      options.log_level = f.log_level;
      options.traitor = f.traitor;
      options.strategy = f.strategy;
      cluster.up(options);
      std::cout << "'olympics status' shows it, 'olympics down' stops it\n";
      return 0;
    });
  }};
}

}  // namespace oly::olympics
