#include <iomanip>
#include <iostream>
#include <sstream>

#include "olympics/commands/command.h"
#include "olympics/query.h"

namespace oly::olympics {

namespace {

// A node's stats as text: a heading, then one "name  value" line per counter and per info field.
std::string format_stats(const std::string& node, const Stats& s, const std::string& source) {
  size_t width = 8;
  for (const auto& [k, v] : s.counters) width = std::max(width, k.size());
  for (const auto& [k, v] : s.info) width = std::max(width, k.size());
  std::ostringstream out;
  out << node << " (" << s.role << "), " << source << "\n";
  out << "counters:\n";
  for (const auto& [k, v] : s.counters) out << "  " << std::left << std::setw(static_cast<int>(width)) << k << "  " << v << "\n";
  if (!s.info.empty()) out << "info:\n";
  for (const auto& [k, v] : s.info) out << "  " << std::left << std::setw(static_cast<int>(width)) << k << "  " << v << "\n";
  return out.str();
}

}  // namespace

Command stats_command(CLI::App& app, Flags& f) {
  auto* stats = app.add_subcommand("stats", "print a node's counters and state as text");
  stats->footer(
      "A running server (database, front end) is asked; Cacofonix and the tablets, and a server\n"
      "that is not running, are read from the stats file they write every second (<node>.stats\n"
      "in the run directory). Exit status 1 when neither answers.");
  add_config_flags(stats, f);
  add_node_arg(stats, f);
  return {stats, false, [&f](const std::atomic<bool>* stop) {
    return on_cluster(f, stop, [&](Cluster& cluster) {
      const NodeSpec& n = cluster.node(f.node);  // throws naming the nodes when unknown
      if (is_server(n.kind) && cluster.running_pid(n)) {
        const auto replies = request_all({{n.name, n.address, GetStats{}}}, ms(2000));
        if (replies[0] && replies[0]->is<Stats>()) {
          std::cout << format_stats(n.name, replies[0]->as<Stats>(), "asked now");
          return 0;
        }
      }
      const auto file = cluster.layout().stats_file(n.name);
      if (const auto s = read_stats_file(file)) {
        std::cout << format_stats(n.name, *s, "from " + file.string());
        return 0;
      }
      std::cerr << "error: " << n.name << " did not answer and left no stats file (" << file.string() << ")\n";
      return 1;
    });
  }};
}

}  // namespace oly::olympics
