// The cluster at a glance: samples of every node's Stats, and what `olympics status` (and the
// demo) make of two of them: one row per node with its state, role, epoch and master, what it
// suspects, rates and the counters worth reading, as a table or as JSON.
//
// Tablets per front end: where tablets read now, as the tablet process counts them ("on_<fe>"
// counters in its stats file, while it runs); else the front end's own count of tablets that
// read there in the last 5 s (tablets_served, which lags behind a failover); else the database
// registry's home assignments.
//
// Servers are asked with a `stats` request; clients (Cacofonix, the tablet process) are read
// from the stats file they rewrite every second. Rates come from two samples of one counter
// (requests for servers, acknowledged updates for Cacofonix, successful reads for tablets), or
// from a "<counter>_per_s" gauge when a node reports one. Counters a node does not report are
// shown as "-": nothing here requires a key.
//
// Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/message.h"
#include "olympics/cluster.h"

namespace oly::olympics {

struct NodeSample {
  std::optional<Stats> stats;  // nullopt: no answer, or no stats file
  double at_s = 0;  // when `stats` was current, in seconds: steady clock for servers, file time
                    // for clients. Only differences between samples of one node mean anything.
};

struct ClusterSample {
  std::map<std::string, NodeSample> nodes;  // by node name; every node of the cluster
  std::map<std::string, int64_t> homes;     // home tablets per front end, from the database's
                                            // registry (empty when it did not answer)
};

// Asks every running server for stats and the database for its registry, all at once, waiting
// at most `timeout`; reads the clients' stats files.
ClusterSample take_sample(const Cluster& cluster, Duration timeout);

// Clients rewrite their file once a second, so two samples 500 ms apart may see the same file.
// Rereads, every 100 ms, the files of running clients that have not changed since `before`,
// until each has or `patience` passed.
void wait_for_client_updates(const Cluster& cluster, const ClusterSample& before,
                             ClusterSample& after, Duration patience);

struct NodeStatus {
  std::string node;
  std::string kind;            // kind_name(): database, frontend, publisher, tablets
  std::optional<pid_t> pid;    // when its pid file names a live process
  std::string state;           // up, down, paused (SIGSTOP), silent (alive, not answering stats)
  std::string role;            // Stats.role ("" when unknown)
  std::string epoch, master;   // info["epoch"] (or counters["epoch"]) and info["master"], or ""
  std::optional<double> rate;  // per second: requests (servers), acked updates, successful reads
  std::string suspects;        // front ends: info["suspected"], comma-joined ("" = none)
  std::string serving;         // info["serving"]: the master's serving set (front ends), the
                               // accepted one (tablets)
  bool handoff = false;        // front ends: a handoff is in progress (info["handoff"])
  std::optional<int64_t> tablets;  // front ends: tablets reading there (see the file comment)
  std::optional<double> hit_rate;  // front ends: cache_hits / (cache_hits + cache_misses)
  std::optional<int64_t> acked;    // Cacofonix: updates acknowledged
  std::optional<int64_t> reads_ok, reads_failed;  // tablets
  std::string consistency;                        // front ends: info["consistency"]
  std::string version;                            // info["version"]
  std::optional<double> uptime_s;                 // running processes, from /proc (cluster_status)
  std::optional<int64_t> memory_bytes;            // resident memory, likewise
  std::optional<int64_t> read_p99_us, ack_p99_us; // front ends: upper estimates (-1: over 2.5 s)
  std::map<std::string, int64_t> counters;        // everything the node reported
  std::map<std::string, std::string> info;
};

// The tablet process's count of tablets reading from each front end now, by front end (its
// "on_<fe>" counters); empty when it reports none.
std::map<std::string, int64_t> tablets_reading(const Stats& tablets);

// One node's row from its process state and samples. `before` (may be null) is the earlier
// sample for rates; `now` (may be null) the latest. `homes`: registry home tablets per front end;
// `reading`: tablets_reading() of a running tablet process (empty when unknown). A front end's
// TABLETS comes from `reading` even when it does not answer (tablets still pointed at it).
NodeStatus node_status(const NodeSpec& node, std::optional<pid_t> pid, ProcState proc,
                       const NodeSample* before, const NodeSample* now,
                       const std::map<std::string, int64_t>& homes,
                       const std::map<std::string, int64_t>& reading = {});

// Every node's row, in start order. `before` may be null (no rates).
std::vector<NodeStatus> cluster_status(const Cluster& cluster, const ClusterSample* before,
                                       const ClusterSample& now);

// Columns: NODE PID STATE ROLE EPOCH MASTER SUSPECTS REQ/S TABLETS HIT% DETAIL ("-" where
// unknown or none). A front end's DETAIL is its consistency, then "serving <set>" (master) and
// "handoff" while one is in progress.
std::string format_status_table(const std::vector<NodeStatus>& rows);
// A JSON array with one object per node, one node per line; unknown values are null.
std::string format_status_json(const std::vector<NodeStatus>& rows);

// The replica that leads the database tier in `sample` (Stats info raft_ready), or "".
std::string database_leader(const ClusterSample& sample);

// Whether the cluster serves, for scripts (`olympics health`, like `redis-cli ping` or `etcdctl
// endpoint health`): every server (database nodes, front ends) up, one master that every front
// end follows, and for a replicated tier a leader ready (`db_leader`, from database_leader()).
// Clients (Cacofonix, tablets) are not judged: a cluster started without them still serves.
struct Health {
  bool healthy = false;
  std::string line;  // "healthy: <what serves>" or "unhealthy: <each thing wrong>"
};
// `gossip`: the tier replicates by gossip (docs/gossip.md): it has no leader to ask for.
Health judge_health(const std::vector<NodeStatus>& rows, const std::string& db_leader, bool replicated,
                    bool gossip = false);

}  // namespace oly::olympics
