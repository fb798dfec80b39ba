// The nodes of a cluster as the tool sees them: which processes a config describes, in which
// order they start, where each keeps its pid, argv, log and stats files, the command line that
// starts each, and the listening ports they need.
//
// Nodes, in start order: the database (named by database.id) or every replica of a replicated
// tier (by its id), every front end (by its id),
// then the two clients, "cacofonix" and "tablets" (the tablet process). Files, under the run
// directory D: D/<node>.log (stdout and stderr), D/<node>.stats (clients' latest Stats),
// D/pids/<node>.pid and D/pids/<node>.cmd (the exact argv, one argument per line), and
// D/events.csv (every start, signal and stop the tool did, see events.h).
//
// Everything here is pure except tcp_port_in_use, which tries to bind.
//
// Thread-safety: plain values and free functions.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "verify/run_dir.h"

namespace oly::olympics {

enum class NodeKind { kDatabase, kFrontend, kCacofonix, kTablets };

struct NodeSpec {
  std::string name;  // what users type (kill fe2) and what names the node's files
  NodeKind kind = NodeKind::kDatabase;
  std::string address;  // servers: the ROUTER that answers requests (stats); "" for clients
  std::string pub;      // front ends: the PUB for notices; "" otherwise
  std::vector<std::string> http = {};  // host:port it serves HTTP on (API and page, key-value store, /metrics)
};

// Servers listen (and answer `stats`); clients write their stats to a file instead.
inline bool is_server(NodeKind k) {
  return k == NodeKind::kDatabase || k == NodeKind::kFrontend;
}
// The binary that runs a node of this kind: database, frontend, cacofonix or tablet.
const char* binary_name(NodeKind k);
// How a node of this kind is described to users: database, frontend, publisher, tablets.
const char* kind_name(NodeKind k);

inline constexpr const char* kCacofonixNode = "cacofonix";
inline constexpr const char* kTabletsNode = "tablets";

// Every node of `c`, in start order (see the file comment).
std::vector<NodeSpec> cluster_nodes(const Config& c);

using verify::RunLayout;  // verify/run_dir.h


// What `up` varies per run. Unset optionals leave the config's value.
struct LaunchOptions {
  std::string bin_dir;      // where the binaries are
  std::string config_path;  // absolute path of the config file
  std::string run_dir;      // absolute run directory, passed as --run-dir to every node
  std::optional<std::string> consistency;  // push or pull, to each front end
  std::optional<double> rate;              // updates/s, to cacofonix
  std::optional<int> tablets;              // tablet count, to the tablet process
  bool replicated = false;                 // the config lists database.replicas (each gets --id)
  std::optional<std::string> log_level = {};  // --log-level, to every node
  // Byzantine mode's tests and scenarios: the front end that lies, and how (--traitor S to it).
  std::string traitor = {};
  std::string strategy = {};
};

// The exact argv that starts `node`: the binary, --config, --run-dir, then the node's own flags.
std::vector<std::string> node_argv(const NodeSpec& node, const LaunchOptions& o);

// ---------------------------------------------------------------- ports

struct TcpEndpoint {
  std::string host;  // as written; "*" means every interface
  int port = 0;
};

// Parses "tcp://host:port" (host may be "[v6]"); nullopt for another transport or a malformed one.
std::optional<TcpEndpoint> parse_tcp_endpoint(const std::string& address);

// True when binding `e` fails because something already listens there (SO_REUSEADDR is set, as
// ZeroMQ does, so connections lingering in TIME_WAIT do not count).
bool tcp_port_in_use(const TcpEndpoint& e);

struct PortConflict {
  std::string node;
  std::string address;
};
using PortProbe = std::function<bool(const TcpEndpoint&)>;

// The first address a server of `nodes` would bind (database address, front end address and
// pub) that `in_use` reports taken; nullopt when all are free.
std::optional<PortConflict> find_port_conflict(const std::vector<NodeSpec>& nodes,
                                               const PortProbe& in_use);

// Free ports of 127.0.0.1, picked at random from 20000-32767 (below Linux's ephemeral range, so
// outgoing connections do not take them) and checked with `in_use`, so that runs side by side do
// not collide; never the same one twice. next() throws std::runtime_error when none is free.
class FreePorts {
 public:
  explicit FreePorts(PortProbe in_use = tcp_port_in_use);
  std::string next();  // "tcp://127.0.0.1:<port>"

 private:
  PortProbe in_use_;
  std::mt19937 rng_;
  std::set<int> taken_;
};

// `c` with every server (database, front end address and pub) moved to a free port (FreePorts).
Config with_free_ports(Config c, const PortProbe& in_use = tcp_port_in_use);

}  // namespace oly::olympics
