#include "olympics/commands/command.h"

#include <iostream>

namespace oly::olympics {

namespace {

void print_members(const Cluster& cluster) {
  const auto m = cluster.members();
  if (!m) {
    std::cerr << "no replica of the database tier answered\n";
    return;
  }
  for (const auto& r : m->members) {
    std::cout << r.id << " " << r.role << " " << r.address << (m->leader && *m->leader == r.id ? " leader" : "") << "\n";
  }
}

}  // namespace

// `olympics db add NAME`, `olympics db remove NAME`, `olympics db members`: the replicated tier's
// membership at run time (Cluster::add_replica, remove_replica, members).
Command db_command(CLI::App& app, Flags& f) {
  auto* db = app.add_subcommand("db", "the replicated database tier's membership: add, remove, members");
  add_config_flags(db, f);
  db->add_option("action", f.db_action, "add NAME | remove NAME | members")
      ->required()
      ->check(CLI::IsMember({"add", "remove", "members"}));
  db->add_option("name", f.node, "the replica to add or remove (e.g. db4)");
  db->footer("add starts a new replica on a free port that joins through a running one and waits until it is a voter "
             "(standby beyond 5 voters); remove hands leadership over first when it leads, then stops the process.");
  return {db, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      if (f.db_action == "members") {
        print_members(cluster);
        return cluster.members() ? 0 : 1;
      }
      if (f.node.empty()) throw ClusterError("db " + f.db_action + ": give the replica's name");
      if (f.db_action == "add") cluster.add_replica(f.node);
      else cluster.remove_replica(f.node);
      print_members(cluster);
      return 0;
    });
  }};
}

}  // namespace oly::olympics
