// The database binary: a thin shell that runs the database tier's core over ZeroMQ and one SQLite
// file. With database.replicas in the config it runs replica --id of the replicated tier
// (ReplicaCore over Raft); without, the single database (DatabaseCore).
// A replica with an HTTP address (database.replicas[].http, --http) also serves the key-value store
// (docs/kvstore.md) from the same loop. With --servers FILE, or with neither --config nor
// --servers in a directory holding servers.txt (and no config/cluster.yaml), it is one replica of a
// key-value tier described by that file alone (servers_mode below).
// On SIGINT/SIGTERM a leading replica first hands leadership over (at most two election timeouts).
// Exit status: 0 after SIGINT/SIGTERM, 1 when the file cannot be opened or the address bound,
// 2 on a bad config or flag, 3 when a replica's storage failed while running (restart it: it
// rebuilds its state from its log, as after a crash).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "byzantine/signing_key_files.h"
#include "common/cli.h"
#include "common/config_file.h"
#include "common/http_listen.h"
#include "common/log_setup.h"
#include "common/metrics_page.h"
#include "common/request.h"
#include "common/shell.h"
#include "database/database_core.h"
#include "database/replica_core.h"
#include "database/requests.h"
#include "database/sqlite_store.h"
#include "database/kv_gateway.h"
#include "database/wal_checkpointer.h"
#include "gossip/replica_core.h"
#include "http/server.h"
#include "common/servers_file.h"

namespace {

[[noreturn]] void die(const std::string& what, int status = 1) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(status);
}

// Logs how well group commit did over the whole run (bench/update reads this line).
void log_batches(oly::Counters& counters) {
  const int64_t applied = counters["updates_applied"], batches = counters["batches"];
  spdlog::info("stopped: {} updates applied in {} transactions ({:.1f} per transaction)", applied, batches,
               batches > 0 ? static_cast<double>(applied) / static_cast<double>(batches) : 0.0);
}

// The loop's connection no longer copies the WAL into the file (a stall of every reply behind
// that commit); a thread does, at SQLite's usual 1,000 pages.
std::unique_ptr<oly::database::WalCheckpointer> start_checkpointer(oly::database::SqliteStore& store,
                                                                   const std::string& path) {
  auto checkpointer = std::make_unique<oly::database::WalCheckpointer>(path, 1000);
  store.hand_checkpoints_to([c = checkpointer.get()](int pages) { c->wal_grew(pages); });
  return checkpointer;
}

// The /metrics endpoint at `address` ("" for none), serving render().
std::unique_ptr<oly::MetricsEndpoint> start_metrics(const std::string& address, std::function<std::string()> render) {
  if (address.empty()) return nullptr;
  try {
    auto m = std::make_unique<oly::MetricsEndpoint>(address, std::move(render));
    spdlog::info("serving /metrics on http://{}/metrics", address);
    return m;
  } catch (const std::exception& e) {
    die(e.what());
  }
}

// What run_loop runs after every step: the metrics endpoint's requests.
std::function<void()> serve_metrics(oly::MetricsEndpoint* m) {
  if (m == nullptr) return {};
  return [m] { m->serve(); };
}

int run_single(const oly::Config& config) {
  const std::string path = config.database_file(config.database.id);
  std::unique_ptr<oly::database::SqliteStore> store;
  std::unique_ptr<oly::database::WalCheckpointer> checkpointer;
  std::unique_ptr<oly::ZmqTransport> transport;
  oly::MasterInfo master;
  try {
    store = std::make_unique<oly::database::SqliteStore>(path);
    store->set_history_keep(config.database.history_keep);
    checkpointer = start_checkpointer(*store, path);
    // The database only answers: replies leave through its ROUTER, so it knows no peers.
    oly::ZmqOptions options;
    options.bind = config.database.address;
    options.curve = oly::node_curve_or_exit(config, oly::KeyRole::kDatabase, config.database.id, oly::ServerKind::kDatabase);
    transport = std::make_unique<oly::ZmqTransport>(config.database.id, options);
    master = store->master();
  } catch (const std::runtime_error& e) {
    die(e.what());
  }
  spdlog::info("serving {} on {}; master '{}' at epoch {}", path, config.database.address, master.frontend,
               master.epoch);
  oly::SteadyClock clock;
  oly::database::DatabaseCore core(config, *store, clock);
  oly::Node node(core, *transport, clock);
  auto metrics = start_metrics(config.database.metrics, [&] {
    oly::Stats s;
    s.node = config.database.id;
    s.role = "database";
    s.counters = core.counters();
    oly::add_link_counts(s, *transport);
    return oly::metrics_text(s, {});
  });
  if (metrics) transport->watch_fd(metrics->fd());
  oly::run_loop(node, *transport, clock, oly::ms(100), {}, serve_metrics(metrics.get()));
  log_batches(core.counters());
  return 0;
}

// get_members for whichever replica is at `seed`. With CurveZMQ a client must know the server's
// key, and which replica listens there is not known: one request per replica key of the ring, of
// which only the one with the right key completes its handshake.
std::vector<oly::Request> seed_requests(const std::string& seed) {
  const auto& curve = oly::request_curve();
  if (!curve) return {{"seed", seed, oly::GetMembers{}}};
  std::vector<oly::Request> out;
  for (const auto& e : curve->ring->entries()) {
    if (e.role == oly::KeyRole::kDatabase) out.push_back({e.name, seed, oly::GetMembers{}});
  }
  return out;
}

// The membership of the running tier, asked of the replica at `seed` (again and again for
// `patience`: it may be starting too).
oly::Members discover(const std::string& seed, std::chrono::seconds patience) {
  oly::SteadyClock clock;
  const auto deadline = clock.now() + patience;
  while (clock.now() < deadline) {
    for (const auto& reply : oly::request_all(seed_requests(seed), oly::ms(1000))) {
      if (!reply) continue;
      if (auto* m = std::get_if<oly::Members>(&reply->body); m != nullptr && !m->members.empty()) return *m;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  die("--join " + seed + ": no replica of a running tier answered there within " + std::to_string(patience.count()) + " s");
}

// After SIGTERM or SIGINT: a leader hands leadership over and keeps stepping until another
// replica leads and has been named to the requests still sent here (ReplicaCore::may_stop).
void hand_over_and_stop(oly::database::ReplicaCore& core, oly::Node& node, oly::ZmqTransport& transport,
                        const oly::Clock& clock, const std::function<void()>& every_pass) {
  const auto began = clock.now();
  const bool leading = core.consensus().leading();
  core.begin_stop(began);
  oly::run_until(node, transport, clock, [&](oly::TimePoint now) { return core.may_stop(now); }, oly::ms(5), {},
                 every_pass);
  if (!leading) return;
  const auto took = std::chrono::duration<double, std::milli>(clock.now() - began).count();
  const auto next = core.consensus().leader();
  if (core.consensus().leading() || !next) {
    spdlog::warn("stopping after {:.0f} ms without a hand-over: the others will elect a leader", took);
  } else {
    spdlog::info("stopping after {:.0f} ms: '{}' leads now", took, next->name);
  }
}

// The key-value store's HTTP server at `http` (host:port).
std::unique_ptr<oly::http::Server> start_http(const std::string& http) {
  return std::make_unique<oly::http::Server>(oly::http_listen_options(http, "olympics-kv/1.0", true));
}

// GET /metrics of a replica: its counters, its links', and Raft's state as gauges.
std::string replica_metrics(oly::database::ReplicaCore& core, const std::string& id, const oly::ZmqTransport& transport) {
  const auto& raft = core.consensus();
  oly::Stats s;
  s.node = id;
  s.role = std::string(oly::consensus::to_string(raft.role()));
  s.counters = core.counters();
  oly::add_link_counts(s, transport);
  s.counters["raft_term"] = static_cast<int64_t>(raft.term());
  s.counters["raft_commit_index"] = static_cast<int64_t>(raft.commit_index());
  s.counters["raft_applied_index"] = static_cast<int64_t>(raft.last_applied());
  s.counters["raft_last_index"] = static_cast<int64_t>(raft.last_index());
  s.counters["raft_leading"] = raft.leading() ? 1 : 0;
  s.counters["raft_members"] = static_cast<int64_t>(raft.configuration().size());
  return oly::metrics_text(s, {"raft_term", "raft_commit_index", "raft_applied_index", "raft_last_index",
                               "raft_leading", "raft_members"});
}

// The config's replica ids, comma-separated (for "no replica with id" errors).
std::string known_replicas(const oly::Config& config) {
  std::string known;
  for (const auto& r : config.database.replicas) known += (known.empty() ? "" : ", ") + r.id;
  return known;
}

// A replica of a tier in gossip mode (docs/gossip.md): one of the config's replicas, or one that
// joined (then or before: its file says so), which gossips with the others; no Raft, no key-value
// store.
int run_gossip_replica(const oly::Config& config, const std::string& id, const std::string& join, std::string address) {
  const oly::ReplicaConfig* me = config.replica(id);
  if (me != nullptr && !address.empty() && address != me->address) {
    die("--address " + address + ": replica '" + id + "' is one of the config's, at " + me->address, 2);
  }
  if (me != nullptr && !join.empty()) spdlog::info("'{}' is one of the config's replicas: --join is not needed", id);
  if (me != nullptr) address = me->address;
  const std::string path = config.database_file(id);
  std::optional<std::string> known_address;  // a replica that joined before: where it said it listens
  if (me == nullptr && std::filesystem::exists(path)) {
    try {
      oly::database::SqliteStore file(path);
      for (const auto& m : file.gossip_members()) {
        if (m.id == id) known_address = m.address;
      }
    } catch (const std::exception& e) {
      die(e.what());
    }
  }
  if (me == nullptr && !known_address && join.empty()) {
    die(config.source + ": database.replicas: no replica with id '" + id + "' (known: " + known_replicas(config) +
            "); to add a new replica to a running tier, give --join ADDRESS and --address", 2);
  }
  if (known_address && !address.empty() && address != *known_address) {
    die("--address " + address + ": replica '" + id + "' joined the tier at " + *known_address + " (its file " + path + " says so)", 2);
  }
  if (known_address) address = *known_address;
  if (address.empty()) die("--address: give the address replica '" + id + "' listens on (tcp://host:port)", 2);
  if (!oly::database::valid_replica_name(id)) die("--id '" + id + "': expected letters, digits, - _ . (at most 64)", 2);
  const auto curve = oly::node_curve_or_exit(config, oly::KeyRole::kDatabase, id, oly::ServerKind::kDatabase);
  std::optional<oly::gossip::GossipReplicaCore::Join> joining;
  if (me == nullptr && !known_address) {
    oly::set_request_curve(curve);  // discover() asks as this replica
    const oly::Members m = discover(join, std::chrono::seconds(30));
    const auto seed = std::find_if(m.members.begin(), m.members.end(), [&](const auto& r) { return r.address == join; });
    if (seed == m.members.end()) die("--join " + join + ": the replica there does not list itself at that address", 2);
    for (const auto& r : m.members) {
      if (r.id == id && r.address != address) {
        die("--id " + id + ": replica '" + id + "' is a member of the tier at " + r.address + ", not " + address +
                " (a new replica needs a new name)", 2);
      }
    }
    joining = oly::gossip::GossipReplicaCore::Join{address, seed->id, join};
    spdlog::info("joining the gossip tier of {} replicas through '{}' at {}", m.members.size(), seed->id, join);
  }
  oly::SteadyClock clock;
  std::unique_ptr<oly::database::SqliteStore> store;
  std::unique_ptr<oly::database::WalCheckpointer> checkpointer;
  std::unique_ptr<oly::ZmqTransport> transport;
  std::unique_ptr<oly::gossip::GossipReplicaCore> core;
  try {
    store = std::make_unique<oly::database::SqliteStore>(path);
    store->set_history_keep(config.database.history_keep);
    checkpointer = start_checkpointer(*store, path);
    oly::ZmqOptions options;
    options.bind = address;
    options.curve = curve;
    transport = std::make_unique<oly::ZmqTransport>(id, options);
    for (const auto& r : config.database.replicas) {
      if (r.id != id) transport->add_peer(r.id, r.address);
    }
    core = std::make_unique<oly::gossip::GossipReplicaCore>(config, id, *store, clock, clock.now(), joining);
    // Scenarios (scenarios/gossip-partition.sh): "<replica>@<after_ms>+<for_ms>" cuts that replica
    // off from the other replicas' gossip, from after_ms after this process started, for for_ms.
    if (const char* cut = std::getenv("OLY_DEBUG_GOSSIP_CUT"); cut != nullptr) {
      char who[65] = {};
      int after = 0, length = 0;
      if (std::sscanf(cut, "%64[^@]@%d+%d", who, &after, &length) != 3 || after < 0 || length <= 0) {
        die(std::string("OLY_DEBUG_GOSSIP_CUT: expected <replica>@<after_ms>+<for_ms>, got '") + cut + "'", 2);
      }
      const auto from = clock.now() + oly::ms(after);
      core->cut(who, from, from + oly::ms(length));
      spdlog::warn("OLY_DEBUG_GOSSIP_CUT: {} is cut off from the other replicas' gossip for {} ms, {} ms from now (for tests)",
                   who, length, after);
    }
  } catch (const std::exception& e) {
    die(e.what());
  }
  spdlog::info("gossip replica {} of {} serving {} on {}, pid {}; clock {}", id, core->members().size(), path, address,
               ::getpid(), core->log().clock().text());
  oly::Node node(*core, *transport, clock);
  auto metrics = start_metrics(me != nullptr ? me->metrics : std::string(), [&] {
    oly::Stats s;
    s.node = id;
    s.role = "gossip";
    s.counters = core->counters();
    s.counters["gossip_log_entries"] = static_cast<int64_t>(core->log().size());
    oly::add_link_counts(s, *transport);
    return oly::metrics_text(s, {"gossip_log_entries"});
  });
  if (metrics) transport->watch_fd(metrics->fd());
  const auto serve = serve_metrics(metrics.get());
  oly::run_loop(node, *transport, clock, oly::ms(std::max(1, config.gossip_interval_ms / 4)), {}, [&] {
    if (core->join_failed()) die(*core->join_failed());
    if (core->removed()) die("replica '" + id + "' was removed from the tier: stopping (a new replica needs a new name)");
    if (serve) serve();
  });
  log_batches(core->counters());
  return 0;
}

int run_replica(const oly::Config& config, const std::string& id, const std::string& join, std::string address,
                std::string http) {
  const oly::ReplicaConfig* me = config.replica(id);
  if (me == nullptr && join.empty()) {
    die(config.source + ": database.replicas: no replica with id '" + id + "' (known: " + known_replicas(config) +
            "); to add a new replica to a running tier, give --join ADDRESS (and --address)", 2);
  }
  if (address.empty() && me != nullptr) address = me->address;
  if (http.empty() && me != nullptr) http = me->http;
  if (address.empty()) die("--address: give the address replica '" + id + "' listens on (tcp://host:port)", 2);
  oly::database::ReplicaStart start{id, address, {}, http};
  const auto curve = oly::node_curve_or_exit(config, oly::KeyRole::kDatabase, id, oly::ServerKind::kDatabase);
  oly::set_request_curve(curve);  // discover() asks as this replica
  std::vector<oly::ReplicaInfo> known;
  if (!join.empty()) {
    const oly::Members m = discover(join, std::chrono::seconds(30));
    for (const auto& r : m.members) {
      if (r.id == id) continue;
      start.join.push_back(r.id);
      known.push_back(r);
    }
    spdlog::info("joining the tier of {} replicas found at {} (leader '{}')", m.members.size(), join, m.leader.value_or(""));
  }
  const std::string path = config.database_file(id);
  oly::SteadyClock clock;
  std::unique_ptr<oly::database::SqliteStore> store;
  std::unique_ptr<oly::database::WalCheckpointer> checkpointer;
  std::unique_ptr<oly::ZmqTransport> transport;
  std::unique_ptr<oly::database::ReplicaCore> core;
  std::unique_ptr<oly::http::Server> http_server;
  try {
    if (!http.empty()) http_server = start_http(http);
    store = std::make_unique<oly::database::SqliteStore>(path);
    store->set_history_keep(config.database.history_keep);
    checkpointer = start_checkpointer(*store, path);
    if (config.database.background_sync) {
      store->sync_in_background();
      // Tests: a disk that stalls, "<after_ms>:<for_ms>" from now (tests/process/replicated_process_test).
      if (const char* stall = std::getenv("OLY_DEBUG_DISK_STALL"); stall != nullptr) {
        int after = 0, length = 0;
        if (std::sscanf(stall, "%d:%d", &after, &length) == 2 && after >= 0 && length > 0) {
          spdlog::warn("OLY_DEBUG_DISK_STALL: the log's syncs stall for {} ms, {} ms from now (for tests)", length, after);
          const auto from = std::chrono::steady_clock::now() + std::chrono::milliseconds(after);
          store->stall_syncs(from, from + std::chrono::milliseconds(length));
        }
      }
    }
    oly::ZmqOptions options;
    options.bind = address;
    options.report_lost_peers = true;  // a dead leader's closed connection starts an election
    options.curve = curve;
    transport = std::make_unique<oly::ZmqTransport>(id, options);
    for (const auto& r : config.database.replicas) {
      if (r.id != id) transport->add_peer(r.id, r.address);
    }
    for (const auto& r : known) transport->connect(r.id, r.address);
    const auto seed = static_cast<uint64_t>(oly::to_us(clock.now())) ^ (static_cast<uint64_t>(::getpid()) << 32);
    core = std::make_unique<oly::database::ReplicaCore>(config, start, *store, clock, clock.now(), seed);
    if (config.byzantine) core->set_publisher_key(oly::byzantine::publisher_key_or_exit(config, oly::byzantine::KeyUse::kVerify));
  } catch (const std::exception& e) {
    die(e.what());
  }
  const auto& raft = core->consensus();
  spdlog::info("replica {} (Raft id {}) of {} serving {} on {}, pid {}; log up to index {} at term {}", id, raft.id(),
               raft.configuration().size(), path, address, ::getpid(), raft.last_index(), raft.term());
  std::unique_ptr<oly::database::KvGateway> gateway;
  if (http_server) {
    transport->watch_fd(http_server->fd());
    gateway = std::make_unique<oly::database::KvGateway>(*transport, *http_server, clock);
    spdlog::info("serving the key-value store over HTTP on {}", http);
  }
  oly::Node node(*core, gateway ? static_cast<oly::Transport&>(*gateway) : *transport, clock);
  // A background sync's end wakes the loop, whose next pass fires what it covered.
  if (store->sync_fd() >= 0) transport->watch_fd(store->sync_fd(), [&store] { store->drain_sync_fd(); });
  auto metrics = start_metrics(me != nullptr ? me->metrics : "", [&] { return replica_metrics(*core, id, *transport); });
  if (metrics) transport->watch_fd(metrics->fd());
  try {
    const auto every_pass = serve_metrics(metrics.get());
    oly::run_loop(node, *transport, clock, oly::ms(std::max(1, config.database.raft_heartbeat_ms / 4)), {},
                  every_pass);
    hand_over_and_stop(*core, node, *transport, clock, every_pass);
  } catch (const std::runtime_error& e) {
    spdlog::critical("{}", e.what());
    die(e.what(), 3);
  }
  log_batches(core->counters());
  return 0;
}

// The config of a key-value tier given by a servers file (docs/kvstore.md, "Start-up"): each entry
// host:port is a replica serving HTTP there and Raft at port + `offset`, named by its entry; the
// replicas are ordered by name, so that every replica's file, whatever its order, gives each the
// same Raft id. Returns the config and this replica's id (the file's first entry).
std::pair<oly::Config, std::string> servers_mode(const std::string& file, int offset) {
  std::ifstream in(file);
  if (!in) die("--servers: cannot read '" + file + "'", 2);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> entries;
  try {
    entries = oly::kv::parse_servers_text(text.str(), file);
  } catch (const std::invalid_argument& e) {
    die(e.what(), 2);
  }
  oly::Config c;
  c.source = file;
  c.run_dir = "kvstore-data";
  // A tier described by a servers file alone has no key directory: its replicas' Raft links are
  // plain ZeroMQ, as its HTTP port is plain HTTP (docs/kvstore.md).
  c.security = oly::Security::kPlain;
  std::vector<oly::ReplicaConfig> replicas;
  std::string self;
  for (const auto& entry : entries) {
    const oly::kv::HostPort hp = oly::kv::parse_host_port(entry);
    if (hp.port + offset > 65535 || hp.port + offset < 1) {
      die(file + ": entry '" + entry + "': its Raft port " + std::to_string(hp.port + offset) +
              " (the HTTP port + --peer-port-offset) is not a port", 2);
    }
    std::string id;
    for (char ch : hp.str()) {
      if (ch == '[' || ch == ']') continue;
      id += (ch == ':') ? '-' : ch;
    }
    if (self.empty()) self = id;
    for (const auto& r : replicas) {
      if (r.id == id) die(file + ": entry '" + entry + "' is listed twice", 2);
    }
    replicas.push_back({id, "tcp://" + hp.host + ":" + std::to_string(hp.port + offset), hp.str()});
  }
  std::sort(replicas.begin(), replicas.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  c.database.replicas = replicas;
  try {
    oly::validate(c);
  } catch (const oly::ConfigError& e) {
    die(e.what(), 2);
  }
  return {c, self};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"database — the database tier of the Olympic scores cluster"};
  oly::CommonFlags flags;
  std::string id, join, address, http, servers;
  int peer_port_offset = 1000;
  oly::add_common_flags(app, flags);
  app.add_option("--http", http, "serve the key-value store over HTTP at host:port (default: the replica's database.replicas entry)");
  app.add_option("--servers", servers, "run one replica of the key-value tier listed in this servers.txt (its first entry is this replica)");
  app.add_option("--peer-port-offset", peer_port_offset, "with --servers: each replica's Raft port is its HTTP port plus this")
      ->capture_default_str();
  app.add_option("--id", id, "which of database.replicas this process is, or the name of a new replica (replicated tier only)");
  app.add_option("--join", join, "add this new replica to the running tier that has a replica at this address (tcp://host:port)");
  app.add_option("--address", address, "where this replica listens (default: its entry in database.replicas)");
  if (const auto rc = oly::cli::parse(app, argc, argv, "database")) return *rc;

  if (servers.empty() && app.count("--config") == 0 && std::filesystem::exists("servers.txt") &&
      !std::filesystem::exists(flags.config)) {
    servers = "servers.txt";
  }
  oly::Config config;
  if (!servers.empty()) {
    if (!id.empty() || !address.empty() || !http.empty()) die("--servers: the file's first entry names this replica; give no --id, --address or --http", 2);
    auto [c, self] = servers_mode(servers, peer_port_offset);
    config = std::move(c);
    id = self;
    if (!flags.run_dir.empty()) config.run_dir = flags.run_dir;
    if (!flags.log_level.empty()) config.log_level = flags.log_level;
  } else {
    config = oly::load_config_or_exit(flags);
  }
  if (config.replicated() && id.empty()) die(config.source + ": database.replicas: give --id (one of them)", 2);
  if (!config.replicated() && (!join.empty() || !address.empty())) die("--join and --address are for a replicated tier (database.replicas)", 2);
  if (!join.empty() && join.rfind("tcp://", 0) != 0) die("--join '" + join + "': expected tcp://host:port", 2);
  if (!address.empty() && address.rfind("tcp://", 0) != 0) die("--address '" + address + "': expected tcp://host:port", 2);
  if (!config.replicated() && !id.empty() && id != config.database.id) {
    die("--id '" + id + "': the config has a single database '" + config.database.id + "', not replicas", 2);
  }
  oly::init_logging(config.replicated() ? id : config.database.id, config.log_level, flags.log_file);
  oly::set_role("database");

  std::error_code ec;
  std::filesystem::create_directories(config.run_dir, ec);
  if (ec) die("cannot create run_dir '" + config.run_dir + "': " + ec.message());
  if (!config.replicated() && !http.empty()) die("--http is for a replica of a replicated tier (database.replicas)", 2);
  if (!http.empty()) {
    try {
      oly::kv::parse_host_port(http);
    } catch (const std::invalid_argument& e) {
      die(std::string("--http: ") + e.what(), 2);
    }
  }
  if (config.replicated() && config.replication == oly::Replication::kGossip) {
    if (!http.empty()) die("--http needs replication: raft (a gossip tier serves no key-value store)", 2);
    return run_gossip_replica(config, id, join, address);
  }
  return config.replicated() ? run_replica(config, id, join, address, http) : run_single(config);
}
