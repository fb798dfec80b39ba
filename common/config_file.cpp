#include "common/config_file.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <fstream>
#include <set>
#include <sstream>

namespace oly {

namespace {

// Reads one YAML map into struct fields, naming `source: a.b.c` in every error and rejecting
// keys that no field claimed.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string source, std::string path)
      : node_(node), source_(std::move(source)), path_(std::move(path)) {
    if (!node_.IsMap()) fail(path_.empty() ? "top level" : path_, "expected a map");
  }
  ~MapReader() noexcept(false) {
    if (std::uncaught_exceptions() > 0) return;
    for (const auto& kv : node_) {
      const auto key = scalar(kv.first);  // not as<std::string>(): a key may be a list or map
      if (!seen_.count(key)) fail(key_path(key), "unknown key");
    }
  }

  template <class T> void get(const std::string& key, T& out) {
    seen_.insert(key);
    const YAML::Node v = node_[key];
    if (!v) return;
    try {
      if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        if (!v.IsSequence()) fail(key_path(key), "expected a list of names");
      }
      out = v.as<T>();
    } catch (const YAML::Exception&) {
      fail(key_path(key), std::string("expected ") + expected<T>() + ", got '" + scalar(v) + "'");
    }
  }

  // A key whose value names one of `choices` (name, value); anything else fails, listing them.
  template <class E> void choice(const std::string& key, E& out, std::initializer_list<std::pair<std::string_view, E>> choices) {
    std::string text;
    for (const auto& [name, value] : choices) {
      if (value == out) text = name;
    }
    get(key, text);
    std::string names;
    size_t k = 0;
    for (const auto& [name, value] : choices) {
      if (text == name) {
        out = value;
        return;
      }
      ++k;
      names += (k == 1 ? "" : k == choices.size() ? " or " : ", ") + std::string(name);
    }
    fail(key_path(key), "expected " + names + ", got '" + text + "'");
  }

  // Visits a sub-map; `fn` gets a MapReader for it.
  template <class Fn> void sub(const std::string& key, Fn fn) {
    seen_.insert(key);
    const YAML::Node v = node_[key];
    if (!v) return;
    MapReader r(v, source_, key_path(key));
    fn(r);
  }

  // Visits a list of maps; `fn` gets a MapReader and the index.
  template <class Fn> void list(const std::string& key, Fn fn) {
    seen_.insert(key);
    const YAML::Node v = node_[key];
    if (!v) return;
    if (!v.IsSequence()) fail(key_path(key), "expected a list");
    for (size_t i = 0; i < v.size(); ++i) {
      MapReader r(v[i], source_, key_path(key) + "[" + std::to_string(i) + "]");
      fn(r, i);
    }
  }

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw ConfigError(source_ + ": " + where + ": " + what);
  }
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const { return static_cast<bool>(node_[key]); }

 private:
  template <class T> static const char* expected() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_integral_v<T>) return "an integer";
    else if constexpr (std::is_floating_point_v<T>) return "a number";
    else if constexpr (std::is_same_v<T, std::string>) return "a string";
    else return "a list of names";
  }
  static std::string scalar(const YAML::Node& v) {
    if (v.IsScalar()) return v.Scalar();
    std::ostringstream os;
    os << v;
    auto s = os.str();
    for (auto& ch : s) {
      if (ch == '\n') ch = ' ';
    }
    return s.substr(0, 60);
  }

  const YAML::Node node_;  // a copy: list() passes a temporary (v[i]); a Node is a cheap handle
  std::string source_;
  std::string path_;
  std::set<std::string> seen_;
};

void fill(MapReader& r, Config& c) {
  r.get("run_dir", c.run_dir);
  r.get("log_level", c.log_level);
  r.choice("consistency", c.consistency, {{"push", Consistency::kPush}, {"pull", Consistency::kPull}});
  r.choice("security", c.security, {{"plain", Security::kPlain}, {"curve", Security::kCurve}});
  r.get("keys_dir", c.keys_dir);
  r.choice("replication", c.replication, {{"raft", Replication::kRaft}, {"gossip", Replication::kGossip}});
  r.get("gossip_interval_ms", c.gossip_interval_ms);
  r.get("byzantine", c.byzantine);
  r.get("byzantine_round_ms", c.byzantine_round_ms);
  r.get("events", c.events);
  r.sub("database", [&](MapReader& d) {
    d.get("id", c.database.id);
    d.get("address", c.database.address);
    d.get("path", c.database.path);
    d.get("metrics", c.database.metrics);
    d.get("request_timeout_ms", c.database.request_timeout_ms);
    d.get("election_timeout_ms", c.database.election_timeout_ms);
    d.get("raft_heartbeat_ms", c.database.raft_heartbeat_ms);
    d.get("snapshot_every", c.database.snapshot_every);
    d.get("snapshot_trailing", c.database.snapshot_trailing);
    d.get("history_keep", c.database.history_keep);
    d.get("background_sync", c.database.background_sync);
    d.list("replicas", [&](MapReader& rr, size_t i) {
      ReplicaConfig replica;
      rr.get("id", replica.id);
      rr.get("address", replica.address);
      rr.get("http", replica.http);
      rr.get("metrics", replica.metrics);
      if (replica.id.empty()) rr.fail("database.replicas[" + std::to_string(i) + "].id", "missing");
      c.database.replicas.push_back(replica);
    });
    if (d.has("replicas") && (d.has("id") || d.has("address") || d.has("path") || d.has("metrics"))) {
      d.fail(d.has("id")        ? "database.id"
             : d.has("address") ? "database.address"
             : d.has("path")    ? "database.path"
                                : "database.metrics",
             "not with database.replicas: each replica is named there ({id, address, http, metrics}) and its file is <id>.db");
    }
  });
  if (r.has("frontends")) c.frontends.clear();  // an empty list too: it must fail validation
  r.list("frontends", [&](MapReader& f, size_t i) {
    FrontendConfig fe;
    f.get("id", fe.id);
    f.get("address", fe.address);
    f.get("pub", fe.pub);
    f.get("http", fe.http);
    f.get("tcp", fe.tcp);
    if (fe.id.empty()) f.fail("frontends[" + std::to_string(i) + "].id", "missing");
    c.frontends.push_back(fe);
  });
  r.sub("heartbeat", [&](MapReader& h) {
    h.get("interval_ms", c.heartbeat.interval_ms);
    h.get("timeout_ms", c.heartbeat.timeout_ms);
    h.get("settle_ms", c.heartbeat.settle_ms);
  });
  r.sub("lease", [&](MapReader& l) { l.get("duration_ms", c.lease.duration_ms); });
  r.sub("pull", [&](MapReader& p) {
    std::string ttr(ttr_name(c.pull.ttr));
    p.get("ttr", ttr);
    if (ttr == "fixed") c.pull.ttr = TtrKind::kFixed;
    else if (ttr == "limd" || ttr == "adaptive") c.pull.ttr = TtrKind::kLimd;  // "adaptive": its older name
    else if (ttr == "fidelity") c.pull.ttr = TtrKind::kFidelity;
    else p.fail("pull.ttr", "expected fixed, limd or fidelity, got '" + ttr + "'");
    p.get("ttr_ms", c.pull.ttr_ms);
    p.get("ttr_min_ms", c.pull.ttr_min_ms);
    p.get("ttr_max_ms", c.pull.ttr_max_ms);
    p.get("fidelity", c.pull.fidelity);
    p.get("hints", c.pull.hints);
  });
  r.sub("cache", [&](MapReader& k) { k.get("capacity", c.cache.capacity); });
  r.sub("cacofonix", [&](MapReader& k) {
    k.get("id", c.cacofonix.id);
    k.get("token", c.cacofonix.token);
    k.get("rate", c.cacofonix.rate);
    k.get("seed", c.cacofonix.seed);
    k.get("feed", c.cacofonix.feed);
    k.get("window", c.cacofonix.window);
    k.get("request_timeout_ms", c.cacofonix.request_timeout_ms);
    k.get("ack_log", c.cacofonix.ack_log);
    k.get("metrics", c.cacofonix.metrics);
  });
  r.sub("tablets", [&](MapReader& t) {
    t.get("count", c.tablets.count);
    t.get("id_prefix", c.tablets.id_prefix);
    t.get("read_interval_ms", c.tablets.read_interval_ms);
    t.get("jitter_ms", c.tablets.jitter_ms);
    t.get("events_per_tablet", c.tablets.events_per_tablet);
    t.get("zipf_s", c.tablets.zipf_s);
    t.get("seed", c.tablets.seed);
    t.get("request_timeout_ms", c.tablets.request_timeout_ms);
    t.get("history", c.tablets.history);
    if (t.has("transport")) {
      t.fail(t.key_path("transport"), "no longer an option: tablets read over each front end's tcp port (frontends[].tcp)");
    }
  });
}

}  // namespace

Config parse_config(const std::string& yaml, const std::string& source) {
  Config c;
  c.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) throw ConfigError(source + ": empty configuration");
  {
    MapReader r(root, source, "");
    fill(r, c);
  }
  validate(c);
  return c;
}

std::string to_yaml(const Config& c) {
  std::ostringstream out;
  auto num = [](double v) {  // the shortest text that reads back as the same double
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  };
  auto q = [](const std::string& s) {
    std::string r = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') r += '\\';
      r += ch;
    }
    return r + "\"";
  };
  out << "run_dir: " << q(c.run_dir) << "\n";
  out << "log_level: " << c.log_level << "\n";
  out << "consistency: " << to_string(c.consistency) << "\n";
  out << "security: " << to_string(c.security) << "\n";
  out << "keys_dir: " << q(c.keys_dir) << "\n";
  if (c.byzantine) out << "byzantine: true\nbyzantine_round_ms: " << c.byzantine_round_ms << "\n";
  if (c.replication == Replication::kGossip) out << "replication: gossip\ngossip_interval_ms: " << c.gossip_interval_ms << "\n";
  out << "events: [";
  for (size_t i = 0; i < c.events.size(); ++i) out << (i ? ", " : "") << q(c.events[i]);
  out << "]\n";
  out << "database: {";
  if (c.replicated()) {
    out << "replicas: [";
    for (size_t i = 0; i < c.database.replicas.size(); ++i) {
      const auto& r = c.database.replicas[i];
      out << (i ? ", " : "") << "{id: " << q(r.id) << ", address: " << q(r.address);
      if (!r.http.empty()) out << ", http: " << q(r.http);
      if (!r.metrics.empty()) out << ", metrics: " << q(r.metrics);
      out << "}";
    }
    out << "]";
  } else {
    out << "id: " << q(c.database.id) << ", address: " << q(c.database.address) << ", path: " << q(c.database.path);
    if (!c.database.metrics.empty()) out << ", metrics: " << q(c.database.metrics);
  }
  out << ", request_timeout_ms: " << c.database.request_timeout_ms
      << ", election_timeout_ms: " << c.database.election_timeout_ms
      << ", raft_heartbeat_ms: " << c.database.raft_heartbeat_ms << ", snapshot_every: " << c.database.snapshot_every
      << ", snapshot_trailing: " << c.database.snapshot_trailing << ", history_keep: " << c.database.history_keep
      << ", background_sync: " << (c.database.background_sync ? "true" : "false") << "}\n";
  out << "frontends:\n";
  for (const auto& f : c.frontends) {
    out << "  - {id: " << q(f.id) << ", address: " << q(f.address) << ", pub: " << q(f.pub);
    if (!f.http.empty()) out << ", http: " << q(f.http);
    out << ", tcp: " << q(f.tcp);
    out << "}\n";
  }
  out << "heartbeat: {interval_ms: " << c.heartbeat.interval_ms << ", timeout_ms: " << c.heartbeat.timeout_ms
      << ", settle_ms: " << c.heartbeat.settle_ms << "}\n";
  out << "lease: {duration_ms: " << c.lease.duration_ms << "}\n";
  out << "pull: {ttr: " << ttr_name(c.pull.ttr) << ", ttr_ms: " << c.pull.ttr_ms << ", ttr_min_ms: " << c.pull.ttr_min_ms
      << ", ttr_max_ms: " << c.pull.ttr_max_ms << ", fidelity: " << num(c.pull.fidelity)
      << ", hints: " << (c.pull.hints ? "true" : "false") << "}\n";
  out << "cache: {capacity: " << c.cache.capacity << "}\n";
  const auto& k = c.cacofonix;
  out << "cacofonix: {id: " << q(k.id) << ", token: " << q(k.token) << ", rate: " << num(k.rate)
      << ", seed: " << k.seed << ", feed: " << q(k.feed) << ", window: " << k.window
      << ", request_timeout_ms: " << k.request_timeout_ms << ", ack_log: " << q(k.ack_log);
  if (!k.metrics.empty()) out << ", metrics: " << q(k.metrics);
  out << "}\n";
  const auto& t = c.tablets;
  out << "tablets: {count: " << t.count << ", id_prefix: " << q(t.id_prefix)
      << ", read_interval_ms: " << t.read_interval_ms << ", jitter_ms: " << t.jitter_ms
      << ", events_per_tablet: " << t.events_per_tablet << ", zipf_s: " << num(t.zipf_s)
      << ", seed: " << t.seed << ", request_timeout_ms: " << t.request_timeout_ms
      << ", history: " << q(t.history) << "}\n";
  return out.str();
}

Config load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace oly
