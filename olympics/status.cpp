#include "olympics/status.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "olympics/query.h"
#include "verify/text.h"

namespace oly::olympics {

using verify::fixed;
using verify::render_table;

namespace fs = std::filesystem;

namespace {

using Counters = std::map<std::string, int64_t>;

// Counter names, first present wins: the binaries are free to pick among these.
const std::initializer_list<const char*> kRequests = {"requests"};
const std::initializer_list<const char*> kTablets = {"tablets_home", "tablets_served", "tablets"};
const std::initializer_list<const char*> kAcked = {"acked", "updates_acked", "acks"};
const std::initializer_list<const char*> kReadsOk = {"reads_ok"};
const std::initializer_list<const char*> kReadsFailed = {"reads_failed"};

// The first of `names` that `c` has: its name and value.
std::optional<std::pair<std::string, int64_t>> first_counter(
    const Counters& c, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (auto it = c.find(n); it != c.end()) return *it;
  }
  return std::nullopt;
}

std::optional<int64_t> counter(const NodeSample* s, std::initializer_list<const char*> names) {
  if (s == nullptr || !s->stats) return std::nullopt;
  if (auto c = first_counter(s->stats->counters, names)) return c->second;
  return std::nullopt;
}

// Per-second rate of the counter `names` between two samples, or its "<name>_per_s" gauge.
std::optional<double> rate_of(const NodeSample* before, const NodeSample* now,
                              std::initializer_list<const char*> names) {
  if (now == nullptr || !now->stats) return std::nullopt;
  const auto c = first_counter(now->stats->counters, names);
  if (!c) return std::nullopt;
  if (auto g = now->stats->counters.find(c->first + "_per_s"); g != now->stats->counters.end()) {
    return static_cast<double>(g->second);
  }
  const auto old = counter(before, {c->first.c_str()});
  const double dt = now->at_s - (before != nullptr ? before->at_s : now->at_s);
  if (!old || dt <= 0 || c->second < *old) return std::nullopt;  // no baseline, or a restart
  return static_cast<double>(c->second - *old) / dt;
}

std::string info_or(const NodeSample* s, const std::string& key) {
  if (s == nullptr || !s->stats) return "";
  const auto it = s->stats->info.find(key);
  return it == s->stats->info.end() ? "" : it->second;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

NodeSample read_client(const Cluster& cluster, const NodeSpec& n) {
  const fs::path file = cluster.layout().stats_file(n.name);
  std::error_code ec;
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) return {};
  return {read_stats_file(file), std::chrono::duration<double>(mtime.time_since_epoch()).count()};
}

}  // namespace

ClusterSample take_sample(const Cluster& cluster, Duration timeout) {
  ClusterSample sample;
  std::vector<Request> requests;
  std::vector<std::string> asked;
  for (const auto& n : cluster.nodes()) {
    if (!is_server(n.kind)) {
      sample.nodes[n.name] = read_client(cluster, n);
    } else if (cluster.running_pid(n)) {
      requests.push_back({n.name, n.address, GetStats{}});
      asked.push_back(n.name);
    }
  }
  // The registry from every running database node: the single database, or the replica that
  // leads (the others answer not_leader).
  for (const auto& n : cluster.nodes()) {
    if (n.kind == NodeKind::kDatabase && cluster.running_pid(n)) requests.push_back({n.name, n.address, ListRegistry{}});
  }
  const double at = now_s();
  const auto replies = request_all(requests, timeout);
  for (size_t i = 0; i < asked.size(); ++i) {
    NodeSample& s = sample.nodes[asked[i]];
    s.at_s = at;
    if (replies[i] && replies[i]->is<Stats>()) s.stats = replies[i]->as<Stats>();
  }
  for (size_t i = asked.size(); i < replies.size(); ++i) {
    if (!replies[i] || !replies[i]->is<Registry>()) continue;
    for (const auto& e : replies[i]->as<Registry>().entries) ++sample.homes[e.home];
    break;
  }
  return sample;
}

void wait_for_client_updates(const Cluster& cluster, const ClusterSample& before,
                             ClusterSample& after, Duration patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (true) {
    bool waiting = false;
    for (const auto& n : cluster.nodes()) {
      if (is_server(n.kind) || !cluster.running_pid(n)) continue;
      const auto b = before.nodes.find(n.name);
      NodeSample& a = after.nodes[n.name];
      if (b == before.nodes.end() || !b->second.stats || a.at_s != b->second.at_s) continue;
      a = read_client(cluster, n);
      waiting = waiting || a.at_s == b->second.at_s;
    }
    if (!waiting || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::map<std::string, int64_t> tablets_reading(const Stats& tablets) {
  std::map<std::string, int64_t> out;
  constexpr std::string_view kPrefix = "on_";
  for (const auto& [name, n] : tablets.counters) {
    if (name.size() > kPrefix.size() && name.compare(0, kPrefix.size(), kPrefix) == 0)
      out[name.substr(kPrefix.size())] = n;
  }
  return out;
}

NodeStatus node_status(const NodeSpec& node, std::optional<pid_t> pid, ProcState proc,
                       const NodeSample* before, const NodeSample* now,
                       const std::map<std::string, int64_t>& homes,
                       const std::map<std::string, int64_t>& reading) {
  NodeStatus r;
  r.node = node.name;
  r.kind = kind_name(node.kind);
  r.pid = pid;
  const bool answered = now != nullptr && now->stats.has_value();
  if (pid && proc == ProcState::kPaused) {
    r.state = "paused";
  } else if (is_server(node.kind)) {
    r.state = answered ? "up" : pid ? "silent" : "down";
  } else {
    r.state = pid ? "up" : "down";
  }
  if (node.kind == NodeKind::kFrontend) {
    if (auto it = reading.find(node.name); it != reading.end()) r.tablets = it->second;
  }
  if (!answered) return r;
  const Stats& s = *now->stats;
  r.role = s.role;
  r.counters = s.counters;
  r.info = s.info;
  r.epoch = info_or(now, "epoch");
  if (auto e = s.counters.find("epoch"); r.epoch.empty() && e != s.counters.end())
    r.epoch = std::to_string(e->second);
  r.master = info_or(now, "master");
  r.consistency = info_or(now, "consistency");
  r.version = info_or(now, "version");
  if (auto it = s.counters.find("read_p99_us"); it != s.counters.end()) r.read_p99_us = it->second;
  if (auto it = s.counters.find("ack_p99_us"); it != s.counters.end()) r.ack_p99_us = it->second;
  r.serving = info_or(now, "serving");
  if (node.kind == NodeKind::kFrontend) {
    r.suspects = info_or(now, "suspected");
    r.handoff = !info_or(now, "handoff").empty();
  }
  if (node.kind == NodeKind::kDatabase && !info_or(now, "raft_role").empty()) {
    r.role = info_or(now, "raft_role");
    if (r.role == "leader" && info_or(now, "raft_ready") != "yes") r.role = "leader (electing)";
  }
  switch (node.kind) {
    case NodeKind::kDatabase:
    case NodeKind::kFrontend:
      r.rate = rate_of(before, now, kRequests);
      break;
    case NodeKind::kCacofonix:
      r.rate = rate_of(before, now, kAcked);
      r.acked = counter(now, kAcked);
      break;
    case NodeKind::kTablets:
      r.rate = rate_of(before, now, kReadsOk);
      r.reads_ok = counter(now, kReadsOk);
      r.reads_failed = counter(now, kReadsFailed);
      break;
  }
  if (node.kind == NodeKind::kFrontend) {
    if (!r.tablets) r.tablets = counter(now, kTablets);
    if (auto h = homes.find(node.name); !r.tablets && h != homes.end()) r.tablets = h->second;
    const auto hits = counter(now, {"cache_hits"});
    const auto misses = counter(now, {"cache_misses"});
    if (hits && misses && *hits + *misses > 0)
      r.hit_rate = static_cast<double>(*hits) / static_cast<double>(*hits + *misses);
  }
  if (!pid) r.rate.reset();  // a client's file outlives it: its last counters stand, not a rate
  return r;
}

std::vector<NodeStatus> cluster_status(const Cluster& cluster, const ClusterSample* before,
                                       const ClusterSample& now) {
  std::vector<NodeStatus> rows;
  // Where tablets read now, from a running tablet process (a dead one's file is history).
  std::map<std::string, int64_t> reading;
  for (const auto& n : cluster.nodes()) {
    const auto it = now.nodes.find(n.name);
    if (n.kind == NodeKind::kTablets && it != now.nodes.end() && it->second.stats &&
        cluster.running_pid(n)) {
      reading = tablets_reading(*it->second.stats);
    }
  }
  for (const auto& n : cluster.nodes()) {
    const auto pid = cluster.running_pid(n);
    const ProcState proc = pid ? process_state(*pid) : ProcState::kGone;
    const NodeSample* b = nullptr;
    if (before != nullptr) {
      if (auto it = before->nodes.find(n.name); it != before->nodes.end()) b = &it->second;
    }
    const auto it = now.nodes.find(n.name);
    rows.push_back(node_status(n, pid, proc, b, it == now.nodes.end() ? nullptr : &it->second,
                               now.homes, reading));
    if (const auto facts = pid ? process_facts(*pid) : std::nullopt) {
      rows.back().uptime_s = facts->uptime_s;
      rows.back().memory_bytes = facts->resident_bytes;
    }
  }
  return rows;
}

namespace {

template <class T>
std::string or_dash(const std::optional<T>& v) {
  if (!v) return "-";
  if constexpr (std::is_floating_point_v<T>) {
    return fixed(*v);
  } else {
    return std::to_string(*v);
  }
}
std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string detail(const NodeStatus& r) {
  const std::string per_s = r.rate ? " (" + fixed(*r.rate) + "/s)" : "";
  if (r.kind == kind_name(NodeKind::kCacofonix))
    return r.acked ? "acked " + std::to_string(*r.acked) + per_s : "";
  if (r.kind == kind_name(NodeKind::kTablets)) {
    if (!r.reads_ok) return "";
    return "reads " + std::to_string(*r.reads_ok) + " ok" + per_s + ", " + or_dash(r.reads_failed) +
           " failed";
  }
  std::string d = r.consistency;
  const auto add = [&d](const std::string& item) { d += (d.empty() ? "" : ", ") + item; };
  const auto info = [&r](const std::string& k) {
    auto it = r.info.find(k);
    return it == r.info.end() ? std::string() : it->second;
  };
  if (r.kind == kind_name(NodeKind::kDatabase) && info("replication") == "gossip") {
    // A gossip replica: its clock (what it has taken of each replica's updates), what it has not
    // applied yet, and the peers it has not heard from within a heartbeat timeout.
    add("clock " + or_dash(info("clock")));
    if (info("applied_clock") != info("clock")) add("applied " + or_dash(info("applied_clock")));
    if (!info("silent_peers").empty()) add("silent " + info("silent_peers"));
  }
  if (r.kind == kind_name(NodeKind::kDatabase) && r.info.count("raft_term")) {
    // A replica: its standing in the tier (voter, standby or spare), its term, how far its log
    // is committed and applied, and (leader) each follower's lag in entries, or (follower) how
    // long ago it heard from the leader.
    const std::string member = info("member." + r.node);  // "<standing> <address>"
    if (!member.empty()) add(member.substr(0, member.find(' ')));
    add("term " + info("raft_term"));
    add("commit " + info("raft_commit"));
    add("applied " + info("raft_applied"));
    std::string lag;
    for (const auto& [k, v] : r.info) {
      if (k.rfind("raft_lag.", 0) == 0) lag += (lag.empty() ? "" : " ") + k.substr(9) + ":" + v;
    }
    if (!lag.empty()) add("lag " + lag);
    if (r.role != "leader" && !info("raft_last_contact_ms").empty()) {
      add("leader " + or_dash(info("raft_leader")) + " heard " + info("raft_last_contact_ms") + " ms ago");
    }
  }
  if (r.kind == kind_name(NodeKind::kFrontend) && r.role == "master" && !r.serving.empty())
    add("serving " + r.serving);
  // Latency p99 (upper estimates: the histogram's bucket bounds).
  const auto p99 = [](int64_t us) { return us < 0 ? std::string("> 2500 ms") : "<= " + fixed(static_cast<double>(us) / 1000.0, us < 1000 ? 2 : 1) + " ms"; };
  if (r.read_p99_us) add("read p99 " + p99(*r.read_p99_us));
  if (r.ack_p99_us) add("ack p99 " + p99(*r.ack_p99_us));
  if (r.handoff) add("handoff");
  return d;
}

// "45s", "12m05s", "3h07m".
std::string duration_text(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  }
  return buf;
}

using Json = nlohmann::ordered_json;

template <class T>
Json or_null(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>) {
    return std::round(*v * 1000.0) / 1000.0;
  } else {
    return *v;
  }
}

Json or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace

std::string format_status_table(const std::vector<NodeStatus>& rows) {
  std::vector<std::vector<std::string>> t = {{"NODE", "PID", "STATE", "UP", "MEM", "ROLE", "EPOCH", "MASTER",
                                              "SUSPECTS", "REQ/S", "TABLETS", "HIT%", "DETAIL"}};
  for (const auto& r : rows) {
    const bool server =
        r.kind == kind_name(NodeKind::kDatabase) || r.kind == kind_name(NodeKind::kFrontend);
    t.push_back({r.node, or_dash(r.pid), r.state, r.uptime_s ? duration_text(*r.uptime_s) : "-",
                 r.memory_bytes ? fixed(static_cast<double>(*r.memory_bytes) / (1024.0 * 1024.0), 1) + "M" : "-",
                 or_dash(r.role), or_dash(r.epoch),
                 or_dash(r.master), or_dash(r.suspects), server ? or_dash(r.rate) : "-",
                 or_dash(r.tablets), r.hit_rate ? fixed(*r.hit_rate * 100) : "-",
                 or_dash(detail(r))});
  }
  return render_table(t);
}

std::string format_status_json(const std::vector<NodeStatus>& rows) {
  std::string out = "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const Json row = {{"node", r.node},           {"kind", r.kind},
                      {"pid", or_null(r.pid)},    {"state", r.state},
                      {"role", or_null(r.role)},  {"epoch", or_null(r.epoch)},
                      {"master", or_null(r.master)}, {"suspects", or_null(r.suspects)},
                      {"serving", or_null(r.serving)}, {"handoff", r.handoff},
                      {"rate_per_s", or_null(r.rate)}, {"tablets", or_null(r.tablets)},
                      {"hit_rate", or_null(r.hit_rate)}, {"acked", or_null(r.acked)},
                      {"reads_ok", or_null(r.reads_ok)}, {"reads_failed", or_null(r.reads_failed)},
                      {"version", or_null(r.version)}, {"uptime_s", or_null(r.uptime_s)},
                      {"memory_bytes", or_null(r.memory_bytes)},
                      {"read_p99_us", or_null(r.read_p99_us)}, {"ack_p99_us", or_null(r.ack_p99_us)},
                      {"counters", r.counters},   {"info", r.info}};
    // Invalid UTF-8 from a node's stats is replaced, never echoed raw.
    out += "  " + row.dump(-1, ' ', false, Json::error_handler_t::replace) + (i + 1 < rows.size() ? "," : "") + "\n";
  }
  return out + "]\n";
}

std::string database_leader(const ClusterSample& sample) {
  for (const auto& [name, node] : sample.nodes) {
    if (!node.stats) continue;
    auto it = node.stats->info.find("raft_ready");
    if (it != node.stats->info.end() && it->second == "yes") return name;
  }
  return "";
}

Health judge_health(const std::vector<NodeStatus>& rows, const std::string& db_leader, bool replicated, bool gossip) {
  std::vector<std::string> wrong;
  int databases = 0, frontends = 0;
  std::vector<const NodeStatus*> masters;
  for (const auto& r : rows) {
    const bool database = r.kind == "database";
    if (!database && r.kind != "frontend") continue;
    if (r.state != "up") {
      wrong.push_back(r.node + " " + r.state);
      continue;
    }
    (database ? databases : frontends) += 1;
    if (r.role == "master") masters.push_back(&r);
  }
  if (replicated && !gossip && db_leader.empty()) wrong.push_back("no database leader");
  if (masters.empty()) {
    wrong.push_back("no master front end");
  } else if (masters.size() > 1) {
    std::string names;
    for (const auto* m : masters) names += (names.empty() ? "" : ", ") + m->node;
    wrong.push_back("more than one front end says it is master (" + names + ")");
  } else {
    for (const auto& r : rows) {
      if (r.kind == "frontend" && r.state == "up" && r.role != "master" && r.master != masters[0]->node) {
        wrong.push_back(r.node + " follows " + (r.master.empty() ? "no master" : r.master) + ", not " +
                        masters[0]->node);
      }
    }
  }
  Health h;
  h.healthy = wrong.empty();
  if (!h.healthy) {
    h.line = "unhealthy: ";
    for (size_t i = 0; i < wrong.size(); ++i) h.line += (i ? "; " : "") + wrong[i];
    return h;
  }
  h.line = "healthy: " +
           (gossip       ? std::to_string(databases) + " gossip replicas"
            : replicated ? std::to_string(databases) + " database replicas (leader " + db_leader + ")"
                         : std::string("the database")) +
           " and " + std::to_string(frontends) + (frontends == 1 ? " front end" : " front ends") + " up; master " +
           masters[0]->node +
           (masters[0]->epoch.empty() ? "" : " (epoch " + masters[0]->epoch + ")");
  return h;
}

}  // namespace oly::olympics
