#include "olympics/commands/command.h"

#include <iostream>

#include "olympics/status.h"

namespace oly::olympics {

namespace {

// `olympics frontends`: every front end id in config order; with `which` "master" only the one
// that is master at the highest epoch (exit 1 when none answers as master), with "peers" the
// others.
int cmd_frontends(const Cluster& cluster, const std::string& which) {
  if (which.empty()) {
    for (const auto& fe : cluster.config().frontends) std::cout << fe.id << "\n";
    return 0;
  }
  const ClusterSample s = take_sample(cluster, ms(300));
  std::string master;
  uint64_t best = 0;
  for (const auto& fe : cluster.config().frontends) {
    const auto it = s.nodes.find(fe.id);
    if (it == s.nodes.end() || !it->second.stats || it->second.stats->role != "master") continue;
    const auto& info = it->second.stats->info;
    uint64_t epoch = 0;
    try {
      epoch = info.count("epoch") ? std::stoull(info.at("epoch")) : 0;
    } catch (const std::exception&) {
    }
    if (master.empty() || epoch > best) {
      master = fe.id;
      best = epoch;
    }
  }
  if (master.empty()) {
    std::cerr << "no front end answers as master\n";
    return 1;
  }
  for (const auto& fe : cluster.config().frontends) {
    if ((which == "master") == (fe.id == master)) std::cout << fe.id << "\n";
  }
  return 0;
}

}  // namespace

Command frontends_command(CLI::App& app, Flags& f) {
  auto* frontends = app.add_subcommand(
      "frontends", "print the front end ids in config order (--master: the master only)");
  add_config_flags(frontends, f);
  auto* only_master =
      frontends->add_flag("--master", f.only_master, "only the front end that is master now");
  frontends->add_flag("--peers", f.only_peers, "only the front ends that are not master now")
      ->excludes(only_master);
  return {frontends, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      return cmd_frontends(cluster, f.only_master ? "master" : f.only_peers ? "peers" : "");
    });
  }};
}

}  // namespace oly::olympics
