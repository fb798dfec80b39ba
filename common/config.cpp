#include "common/config.h"

#include <charconv>
#include <utility>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/node_name.h"
#include "common/servers_file.h"

namespace oly {

const char* to_string(Consistency c) { return c == Consistency::kPush ? "push" : "pull"; }
const char* to_string(Security s) { return s == Security::kCurve ? "curve" : "plain"; }
const char* to_string(Replication r) { return r == Replication::kGossip ? "gossip" : "raft"; }

const FrontendConfig* Config::frontend(const std::string& id) const {
  for (const auto& f : frontends) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const std::string& Config::next_frontend(const std::string& id) const {
  for (size_t i = 0; i < frontends.size(); ++i) {
    if (frontends[i].id == id) return frontends[(i + 1) % frontends.size()].id;
  }
  return frontends.front().id;
}

std::string Config::in_run_dir(const std::string& path) const {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(run_dir) / path).string();
}

namespace {

void positive(const Config& c, const char* key, double v) {
  if (!(v > 0)) throw ConfigError(c.source + ": " + key + ": expected a positive number, got " + std::to_string(v));
}

bool tcp_address(const std::string& a) { return a.rfind("tcp://", 0) == 0 || a.rfind("ipc://", 0) == 0 || a.rfind("inproc://", 0) == 0; }

// host:port as the key-value store's server lists write one (servers_file.h).
bool host_port(const std::string& a) {
  try {
    kv::parse_host_port(a);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace

std::vector<ReplicaConfig> Config::database_nodes() const {
  if (replicated()) return database.replicas;
  return {{database.id, database.address}};
}

std::vector<std::string> Config::database_ids() const {
  std::vector<std::string> out;
  for (const auto& r : database_nodes()) out.push_back(r.id);
  return out;
}

const ReplicaConfig* Config::replica(const std::string& id) const {
  for (const auto& r : database.replicas) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

std::string Config::database_file(const std::string& id) const {
  return in_run_dir(replicated() ? id + ".db" : database.path);
}

std::string_view ttr_name(TtrKind k) {
  switch (k) {
    case TtrKind::kFixed: return "fixed";
    case TtrKind::kLimd: return "limd";
    case TtrKind::kFidelity: return "fidelity";
  }
  return "?";
}

void validate(const Config& c) {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw ConfigError(c.source + ": " + key + ": " + what);
  };
  if (c.frontends.size() < 2) fail("frontends", "expected at least 2 front ends, got " + std::to_string(c.frontends.size()));
  std::set<std::string> ids = {c.cacofonix.id};
  std::set<std::string> addresses;
  // An optional host:port (HTTP, /metrics): well formed and used once.
  auto http_port = [&](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    if (!host_port(value)) fail(key, "expected host:port, got '" + value + "'");
    if (!addresses.insert("tcp://" + value).second) fail(key, "address used twice: " + value);
  };
  const size_t n = c.database.replicas.size();
  if (c.replication == Replication::kGossip) {
    if (n < 2 || n > 5) fail("replication", "gossip needs 2 to 5 replicas in database.replicas, got " + std::to_string(n));
    if (c.byzantine) fail("replication", "gossip cannot be combined with byzantine (whose database rule needs one leader)");
    positive(c, "gossip_interval_ms", c.gossip_interval_ms);
  } else if (n == 2 || n > 5) {
    fail("database.replicas", "expected 1 or 3 to 5 replicas (with 2 a majority cannot survive a failure; libraft's "
                              "tier has at most 5 voters), got " + std::to_string(n));
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& r = c.database.replicas[i];
    const auto key = "database.replicas[" + std::to_string(i) + "]";
    if (r.id.empty() || r.id.find_first_of(" ,/\\\n") != std::string::npos) fail(key + ".id", "expected a name without spaces, commas or slashes, got '" + r.id + "'");
    if (!ids.insert(r.id).second) fail(key + ".id", "duplicate id '" + r.id + "'");
    if (!tcp_address(r.address)) fail(key + ".address", "expected tcp://host:port, got '" + r.address + "'");
    if (!addresses.insert(r.address).second) fail(key + ".address", "address used twice: " + r.address);
    http_port(key + ".http", r.http);
    http_port(key + ".metrics", r.metrics);
  }
  if (n == 0) {
    if (!ids.insert(c.database.id).second) fail("cacofonix.id", "must differ from database.id");
    addresses.insert(c.database.address);
    http_port("database.metrics", c.database.metrics);
  }
  positive(c, "database.raft_heartbeat_ms", c.database.raft_heartbeat_ms);
  if (c.database.history_keep != 0 && c.database.history_keep < 1000) {
    fail("database.history_keep", "expected 0 (keep all) or at least 1000 updates, got " + std::to_string(c.database.history_keep));
  }
  if (c.database.snapshot_every < 16) fail("database.snapshot_every", "expected at least 16 entries, got " + std::to_string(c.database.snapshot_every));
  if (c.database.election_timeout_ms < 3 * c.database.raft_heartbeat_ms) {
    fail("database.election_timeout_ms", "expected at least three times database.raft_heartbeat_ms (" +
                                             std::to_string(3 * c.database.raft_heartbeat_ms) + "), got " +
                                             std::to_string(c.database.election_timeout_ms));
  }
  for (size_t i = 0; i < c.frontends.size(); ++i) {
    const auto& f = c.frontends[i];
    const auto key = "frontends[" + std::to_string(i) + "]";
    if (!ids.insert(f.id).second) fail(key + ".id", "duplicate id '" + f.id + "'");
    if (!tcp_address(f.address)) fail(key + ".address", "expected tcp://host:port, got '" + f.address + "'");
    if (!tcp_address(f.pub)) fail(key + ".pub", "expected tcp://host:port, got '" + f.pub + "'");
    if (!addresses.insert(f.address).second) fail(key + ".address", "address used twice: " + f.address);
    if (!addresses.insert(f.pub).second) fail(key + ".pub", "address used twice: " + f.pub);
    http_port(key + ".http", f.http);
    if (f.tcp.empty()) fail(key + ".tcp", "missing: the host:port where tablets read from " + f.id);
    http_port(key + ".tcp", f.tcp);
  }
  if (!tcp_address(c.database.address)) fail("database.address", "expected tcp://host:port, got '" + c.database.address + "'");
  if (c.events.empty()) fail("events", "expected at least one event");
  std::set<std::string> ev;
  for (const auto& e : c.events) {
    if (e.empty()) fail("events", "empty event name");
    if (e.find_first_of(",\n\r\"") != std::string::npos) fail("events", "event name '" + e + "' has a comma, quote or line break");
    if (!ev.insert(e).second) fail("events", "duplicate event '" + e + "'");
  }
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  if (!levels.count(c.log_level)) fail("log_level", "expected trace, debug, info, warn or error, got '" + c.log_level + "'");
  positive(c, "heartbeat.interval_ms", c.heartbeat.interval_ms);
  if (c.heartbeat.timeout_ms < 2 * c.heartbeat.interval_ms) {
    fail("heartbeat.timeout_ms", "expected at least twice heartbeat.interval_ms (" +
                                     std::to_string(2 * c.heartbeat.interval_ms) + "), got " +
                                     std::to_string(c.heartbeat.timeout_ms));
  }
  positive(c, "lease.duration_ms", c.lease.duration_ms);
  positive(c, "heartbeat.settle_ms", c.heartbeat.settle_ms);
  positive(c, "database.request_timeout_ms", c.database.request_timeout_ms);
  positive(c, "pull.ttr_ms", c.pull.ttr_ms);
  positive(c, "pull.ttr_min_ms", c.pull.ttr_min_ms);
  if (c.pull.ttr_max_ms < c.pull.ttr_min_ms) fail("pull.ttr_max_ms", "expected at least pull.ttr_min_ms");
  if (!(c.pull.fidelity > 0.0 && c.pull.fidelity < 1.0)) {
    fail("pull.fidelity", "expected a share of reads above 0 and below 1, got " + std::to_string(c.pull.fidelity));
  }
  positive(c, "cache.capacity", c.cache.capacity);
  http_port("cacofonix.metrics", c.cacofonix.metrics);
  positive(c, "cacofonix.rate", c.cacofonix.rate);
  positive(c, "cacofonix.window", c.cacofonix.window);
  // The database answers a resend with its stored result for a publisher's last 16384 seqs
  // (database/store.h kExactlyOnceWindow): keep what may be resent well inside it.
  if (c.cacofonix.window > 8192) fail("cacofonix.window", "expected at most 8192 updates in flight, got " + std::to_string(c.cacofonix.window));
  positive(c, "cacofonix.request_timeout_ms", c.cacofonix.request_timeout_ms);
  if (c.cacofonix.token.empty()) fail("cacofonix.token", "expected a non-empty secret");
  if (c.tablets.count < 0 || c.tablets.count > 100000) fail("tablets.count", "expected 0 to 100000, got " + std::to_string(c.tablets.count));
  positive(c, "tablets.read_interval_ms", c.tablets.read_interval_ms);
  if (c.tablets.jitter_ms < 0) fail("tablets.jitter_ms", "expected 0 or more");
  if (c.tablets.events_per_tablet < 1) fail("tablets.events_per_tablet", "expected 1 or more");
  if (c.tablets.zipf_s < 0) fail("tablets.zipf_s", "expected 0 or more");
  positive(c, "tablets.request_timeout_ms", c.tablets.request_timeout_ms);
  if (c.security == Security::kCurve) validate_key_names(c);
  if (c.byzantine) {
    if (c.frontends.size() != 4) {
      fail("byzantine", "expected exactly 4 front ends (one traitor among 3f + 1 = 4), got " +
                            std::to_string(c.frontends.size()));
    }
    if (c.security != Security::kCurve) {
      fail("byzantine", "needs security: curve (the agreement trusts that a link's sender is who it says)");
    }
    if (!c.replicated()) fail("byzantine", "needs a replicated database tier (database.replicas), whose leader counts submissions");
    positive(c, "byzantine_round_ms", c.byzantine_round_ms);
  }
}

void validate_key_names(const Config& c) {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw ConfigError(c.source + ": " + key + ": " + what);
  };
  if (c.keys_dir.empty()) fail("keys_dir", "expected a directory (security: curve keeps each node's key pair there)");
  // Each node's key is <keys_dir>/<role>/<name>.key, and a key owns the routing ids that are its
  // name or begin with its name and '-' (common/zmq_transport.h).
  std::vector<std::pair<std::string, std::string>> names;  // key, name
  for (size_t i = 0; i < c.frontends.size(); ++i) names.emplace_back("frontends[" + std::to_string(i) + "].id", c.frontends[i].id);
  if (c.replicated()) {
    for (size_t i = 0; i < c.database.replicas.size(); ++i) names.emplace_back("database.replicas[" + std::to_string(i) + "].id", c.database.replicas[i].id);
  } else {
    names.emplace_back("database.id", c.database.id);
  }
  names.emplace_back("cacofonix.id", c.cacofonix.id);
  names.emplace_back("the operator's key", kOperatorKeyName);
  for (const auto& [key, name] : names) {
    if (!fit_node_name(name)) {
      fail(key, "with security: curve a name is also a key file's: letters, digits, '-', '_' and '.' (at most 64, not "
                "starting with '.'), got '" + name + "'");
    }
    for (const auto& [other_key, other] : names) {
      if (name.size() > other.size() && name.starts_with(other) && name[other.size()] == '-') {
        fail(key, "'" + name + "' begins with '" + other + "-' (" + other_key + "): with security: curve the key '" + other +
                      "' may use every routing id that begins so, and could take over " + name + "'s");
      }
    }
  }
}

}  // namespace oly
