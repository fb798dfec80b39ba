#include "olympics/commands/command.h"

#include <iostream>

#include "olympics/demo.h"
#include "olympics/status.h"

namespace oly::olympics {

namespace {

// `olympics databases`: every database node id in config order (the single database, or the
// replicas); with `which` "leader" only the replica that leads and is ready (exit 1 when none
// does), with "followers" the others.
int cmd_databases(const Cluster& cluster, const std::string& which) {
  const auto ids = cluster.config().database_ids();
  if (which.empty()) {
    for (const auto& id : ids) std::cout << id << "\n";
    return 0;
  }
  if (!cluster.config().replicated()) {
    std::cerr << "the database tier is a single database ('" << ids.front() << "'), not replicas\n";
    return 1;
  }
  const std::string leader = database_leader(take_sample(cluster, ms(300)));
  if (leader.empty()) {
    std::cerr << "no database replica answers as a ready leader\n";
    return 1;
  }
  for (const auto& id : ids) {
    if ((which == "leader") == (id == leader)) std::cout << id << "\n";
  }
  return 0;
}

}  // namespace

Command databases_command(CLI::App& app, Flags& f) {
  auto* databases = app.add_subcommand(
      "databases", "print the database node ids in config order (--leader: the replica that leads)");
  add_config_flags(databases, f);
  auto* only_leader = databases->add_flag("--leader", f.only_leader, "only the replica that leads now");
  databases->add_flag("--followers", f.only_followers, "only the replicas that do not lead now")->excludes(only_leader);
  return {databases, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      return cmd_databases(cluster, f.only_leader ? "leader" : f.only_followers ? "followers" : "");
    });
  }};
}

}  // namespace oly::olympics
