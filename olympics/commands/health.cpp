#include "olympics/commands/command.h"

#include <iostream>

#include "olympics/status.h"

namespace oly::olympics {

Command health_command(CLI::App& app, Flags& f) {
  auto* health = app.add_subcommand(
      "health", "say in one line whether the cluster serves; exit 0 if it does, 1 if not");
  health->footer(
      "Healthy: every database node and front end answers, one front end is master and the\n"
      "others follow it, and a replicated database tier has a leader. Cacofonix and the tablets\n"
      "are not judged. Exit status: 0 healthy, 1 unhealthy (each thing wrong is named), 2 a bad\n"
      "flag or config.");
  add_config_flags(health, f);
  return {health, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [](Cluster& cluster) {
      const ClusterSample sample = take_sample(cluster, ms(1000));
      const Config& c = cluster.config();
      const Health h = judge_health(cluster_status(cluster, nullptr, sample), database_leader(sample), c.replicated(),
                                    c.replicated() && c.replication == Replication::kGossip);
      std::cout << h.line << "\n";
      return h.healthy ? 0 : 1;
    });
  }};
}

}  // namespace oly::olympics
