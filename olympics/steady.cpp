#include "olympics/steady.h"

#include "olympics/nodes.h"

namespace oly::olympics {

namespace {

std::string info(const Stats& s, const std::string& key) {
  const auto it = s.info.find(key);
  return it == s.info.end() ? "" : it->second;
}

}  // namespace

std::string steady_problem(const ClusterSample& s, const std::vector<std::string>& fes,
                           double tablets_after) {
  if (fes.empty()) return "no front ends";
  std::map<std::string, const Stats*> st;
  for (const auto& fe : fes) {
    const auto it = s.nodes.find(fe);
    if (it == s.nodes.end() || !it->second.stats) return fe + " does not answer";
    st[fe] = &*it->second.stats;
  }
  const std::string& home = fes.front();
  const Stats& h = *st[home];
  if (h.role != "master") return home + " is not master";
  const std::string epoch = info(h, "epoch");
  for (const auto& fe : fes) {
    const Stats& f = *st[fe];
    if (info(f, "master") != home || info(f, "epoch") != epoch) {
      return fe + " follows " + (info(f, "master").empty() ? "nobody" : info(f, "master")) +
             " at epoch " + info(f, "epoch") + ", not " + home + " at epoch " + epoch;
    }
    if (!info(f, "suspected").empty()) return fe + " suspects " + info(f, "suspected");
    if (!info(f, "handoff").empty()) return fe + " is handing off";
  }
  const std::string all = comma_joined(fes);
  if (info(h, "serving") != all) {
    return "the master serves tablets from " + info(h, "serving") + ", not " + all;
  }
  const auto t = s.nodes.find(kTabletsNode);
  if (t == s.nodes.end() || !t->second.stats) return "no stats from the tablets yet";
  if (t->second.at_s <= tablets_after) return "waiting for newer tablets stats";
  if (info(*t->second.stats, "serving") != all) {
    return "the tablets read from " + info(*t->second.stats, "serving") + ", not " + all;
  }
  return "";
}

}  // namespace oly::olympics
