// The cluster's configuration: one typed struct with defaults, loaded from YAML and validated.
//
// Every process of a cluster reads the same file (config/cluster.yaml is the default cluster)
// and finds its own part by id. Tests build the struct directly. Durations are in milliseconds
// (keys end in _ms); relative paths of files the processes write are relative to `run_dir`.
//
// The struct and its rules live here (cores link them); reading and writing YAML is in
// config_file.h, part of the shell library that only binaries and tools link.
//
// Errors: validate (and config_file.h's loaders) throw ConfigError whose what() names the file, the key and
// what was expected, e.g. "config/cluster.yaml: consistency: expected push or pull, got 'sideways'".
// Unknown keys are errors too (a typo must not silently fall back to a default).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace oly {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Consistency { kPush, kPull };
const char* to_string(Consistency c);

// The cluster's ZeroMQ links: plain TCP, or CurveZMQ (issue 19: every link encrypted, every node
// known by its key, each key admitted only to what its role does; common/admission.h).
enum class Security { kPlain, kCurve };
const char* to_string(Security s);

// How a replicated database tier keeps its replicas alike: Raft (a leader, a majority's disks
// before every ack), or lazily by gossip (docs/gossip.md: any replica takes any request and
// answers at once; replicas exchange their logs in the background).
enum class Replication { kRaft, kGossip };
const char* to_string(Replication r);

// One replica of a replicated database tier: its endpoint name and its ROUTER (clients and the
// other replicas). Its SQLite file is <id>.db in run_dir.
struct ReplicaConfig {
  std::string id;
  std::string address;
  std::string http = {};  // host:port of its key-value HTTP port (docs/kvstore.md); "" for none
  std::string metrics = {};  // host:port of its Prometheus /metrics (docs/api.md); "" for none
  bool operator==(const ReplicaConfig&) const = default;
};

struct DatabaseConfig {
  std::string id = "db";                           // endpoint name of the single database
  std::string address = "tcp://127.0.0.1:7100";    // its ROUTER
  std::string path = "olympics.db";                // its SQLite file, relative to run_dir
  std::string metrics = {};                        // host:port of its /metrics; "" for none
  int request_timeout_ms = 1000;                   // how long a front end waits for an answer
  // A replicated tier (Raft): 1, or 3 to 5 replicas instead of the single database above. Empty:
  // the single database.
  std::vector<ReplicaConfig> replicas;
  // Raft's timers. A follower that hears no leader for a random time in [1x, 2x) the election
  // timeout starts an election (after a pre-vote); the leader heartbeats every heartbeat_ms. With
  // 200/40 a leader's crash is followed by a new leader after 0.2-0.5 s (bench/RESULTS.md).
  int election_timeout_ms = 200;
  int raft_heartbeat_ms = 40;
  // Each replica snapshots its state every snapshot_every applied log entries and then drops the
  // log up to snapshot_trailing entries behind the snapshot; a replica further behind than that
  // (or joining) installs the leader's snapshot instead of replaying the log.
  unsigned snapshot_every = 4096;
  unsigned snapshot_trailing = 1024;
  // Each database file also keeps a history of every update it applied (outside the replicated
  // state: for `olympics check`). 0 keeps all of it (about 120 bytes of disk per update, 1.4 MB a
  // minute at 200 updates/s); N > 0 keeps the last N, for a long-running service whose runs are
  // not checked (the checker refuses such a run).
  uint64_t history_keep = 0;
  // A replicated tier's leader makes its log durable on a thread of its own instead of waiting for
  // its disk in its loop (consensus/consensus.h): a leader whose disk stalls goes on heartbeating
  // and answering, and commits with its followers' disks. false: it waits, as before.
  bool background_sync = true;
};

struct FrontendConfig {
  std::string id;       // e.g. "fe1"; the order of the list is the order of master priority
  std::string address;  // ROUTER for Cacofonix, peers and tools
  std::string pub;      // PUB for Cacofonix's master-change notices
  std::string http = {};  // host:port of its HTTP API, scoreboard page and /metrics (docs/api.md); "" for none
  std::string tcp = {};   // host:port of its native TCP port, where tablets read (docs/protocol.md, section 8)
};

struct HeartbeatConfig {
  int interval_ms = 100;  // how often each front end heartbeats each peer
  int timeout_ms = 500;   // silence after which a peer is suspected (several intervals)
  int settle_ms = 1000;   // a recovered front end takes its duties back after heartbeating this long
};

struct LeaseConfig {
  int duration_ms = 1000;  // push mode: how long a read lease lasts without renewal
};

// How a pull-mode peer chooses each key's time to refresh (frontend/ttr.h).
enum class TtrKind {
  kFixed,     // always ttr_ms
  kLimd,      // linear increase, multiplicative decrease on change ("adaptive" in older configs)
  kFidelity,  // from keys' read and change rates, to meet `fidelity` with the fewest polls (the default)
};

struct PullConfig {
  TtrKind ttr = TtrKind::kFidelity;
  int ttr_ms = 500;        // fixed time to refresh
  int ttr_min_ms = 50;     // limd and fidelity: lower bound
  int ttr_max_ms = 1000;   // limd and fidelity: upper bound; also the staleness bound with one round trip
  double fidelity = 0.95;  // fidelity: the share of a peer's reads that should get the latest version
  // Each poll's answer carries the changes since the peer's last one (frontend/change_log.h), so
  // that one poll confirms or refreshes every key the peer holds.
  bool hints = true;
  // The longest a value is served without a poll: the staleness bound, less one round trip.
  int longest_ttr_ms() const { return ttr == TtrKind::kFixed ? ttr_ms : ttr_max_ms; }
};

// "fixed", "limd" or "fidelity".
std::string_view ttr_name(TtrKind k);

struct CacheConfig {
  int capacity = 4096;  // entries per front end; least recently used is evicted
};

struct CacofonixConfig {
  std::string id = "cacofonix";    // publisher name; an incarnation suffix is added at start
  std::string token = "getafix";   // shared secret the master checks on every update
  double rate = 20;                // updates per second of the random feed
  uint64_t seed = 42;              // seed of the random feed
  std::string feed;                // scripted feed file; "" for the random feed
  int window = 256;                // most updates in flight (sent, not yet acknowledged)
  int request_timeout_ms = 500;    // resend after this long without an acknowledgement
  std::string ack_log = "acks.csv";  // acknowledged updates, relative to run_dir
  std::string metrics = {};        // host:port of its /metrics (docs/api.md); "" for none
};

struct TabletsConfig {
  int count = 50;                   // logical tablets in the tablet process
  std::string id_prefix = "t";      // tablet ids are <prefix><index>
  int read_interval_ms = 1000;      // each tablet reads its keys this often
  int jitter_ms = 100;              // +- random spread of that interval
  int events_per_tablet = 3;        // events each tablet follows (plus both medal tallies)
  double zipf_s = 1.0;              // popularity skew of events (0 = uniform)
  uint64_t seed = 7;                // seed for event choice and jitter
  int request_timeout_ms = 300;     // after this a tablet retries on the next front end
  std::string history = "reads.csv";  // every read, relative to run_dir ("" = none)
};

struct Config {
  std::string source = "<built-in>";  // where it was loaded from, for messages
  std::string run_dir = "run";        // pid, log and data files
  std::string log_level = "info";     // trace, debug, info, warn, error
  Consistency consistency = Consistency::kPush;
  std::vector<std::string> events = {"Curling", "Skating", "Skiing"};
  DatabaseConfig database;
  std::vector<FrontendConfig> frontends = {
      {"fe1", "tcp://127.0.0.1:7101", "tcp://127.0.0.1:7111", "", "127.0.0.1:7201"},
      {"fe2", "tcp://127.0.0.1:7102", "tcp://127.0.0.1:7112", "", "127.0.0.1:7202"}};
  HeartbeatConfig heartbeat;
  LeaseConfig lease;
  PullConfig pull;
  CacheConfig cache;
  CacofonixConfig cacofonix;
  TabletsConfig tablets;
  // curve unless a config says plain: a cluster is encrypted and authenticated by default. Plain
  // saves the master about 3 µs of CPU per update (bench/curve), for a trusted network.
  Security security = Security::kCurve;
  // curve: the key directory (common/key_files.h), relative to run_dir unless absolute.
  std::string keys_dir = "keys";
  // Byzantine mode (docs/byzantine.md): exactly four front ends tolerate one traitor. Cacofonix
  // signs its updates, the front ends agree on each by OM(1) and the database applies one only
  // when two front ends submit it. Needs security: curve (OM(1) trusts a link's sender).
  bool byzantine = false;
  // Byzantine mode: how long a round of the agreement waits for a message that does not come.
  int byzantine_round_ms = 50;
  // The replicated tier's mode (database.replicas; ignored for the single database). gossip needs
  // 2 to 5 replicas, each of which gossips to every other every gossip_interval_ms (and at once
  // with what it accepted).
  Replication replication = Replication::kRaft;
  int gossip_interval_ms = 20;

  // Whether the database tier is replicated (database.replicas given).
  bool replicated() const { return !database.replicas.empty(); }
  // The database tier's nodes: the replicas, or the single database.
  std::vector<ReplicaConfig> database_nodes() const;
  // Their endpoint names, in config order.
  std::vector<std::string> database_ids() const;
  // The replica with this id, or nullptr.
  const ReplicaConfig* replica(const std::string& id) const;
  // The SQLite file of database node `id`: database.path for the single database, <id>.db for a
  // replica, in run_dir.
  std::string database_file(const std::string& id) const;
  // The front end with this id, or nullptr.
  const FrontendConfig* frontend(const std::string& id) const;
  // The id of the front end after `id` in config order, wrapping around (the first one when `id`
  // is not a front end): where clients fail over to.
  const std::string& next_frontend(const std::string& id) const;
  // run_dir joined with a relative path (absolute paths are returned as they are).
  std::string in_run_dir(const std::string& path) const;
};

// The teams and medal kinds are fixed by the data model (a score has one column per team).
inline const std::vector<std::string>& teams() {
  static const std::vector<std::string> t = {"Gauls", "Romans"};
  return t;
}
inline const std::vector<std::string>& medals() {
  static const std::vector<std::string> m = {"gold", "silver", "bronze"};
  return m;
}

// Checks cross-field rules (ids unique, timeouts above intervals, ...). Throws ConfigError.
void validate(const Config& c);

// The name of the operator's key (the olympics tool and other tools), beside the nodes' ids.
inline constexpr const char* kOperatorKeyName = "olympics";

// security: curve: every node's name (front ends, database nodes, cacofonix.id, the operator's key)
// can be a key file's and none begins with another's and '-'. Part of validate; also for a name
// added at run time. Throws ConfigError.
void validate_key_names(const Config& c);

}  // namespace oly
