// SimCluster: a whole cluster (database, front ends, Cacofonix, tablets) in one thread, over a
// MemoryNetwork with a VirtualClock and a seeded RNG, driven by the same Node loop as the real
// processes. A run replays exactly from its seed.
//
// Nodes are named as in the config ("db", or the replicas "db1", "db2", ... of a replicated tier;
// "fe1", "fe2", ...), "cacofonix" (and "bard", a second publisher, when asked) and "tablets".
// crash(name) stops a node and drops its traffic; restart(name) starts a fresh core for it (a
// new process incarnation: empty memory), except that a database node keeps its store (the disk)
// as of its last commit: a replica loses the writes it had not synced.
// pause(name) models SIGSTOP: the node keeps its state but is neither stepped nor ticked, and
// frames sent to it queue up in its inbox; resume(name) lets it run again (it then handles the
// queued frames and its overdue timers at the current time), like SIGCONT.
//
// The database runs behind a tap that records, as the database saw them, every successful
// master claim and every update it applied, with the endpoint that sent it and the epoch it
// carried (claims(), writes()), so that tests can check fencing without trusting the front ends.
// Replicas record what they apply (the first replica to apply a command records it: every
// replica applies the same log in the same order).
// observe(f) calls f after every simulation step (for checks that must hold at every instant);
// drop_if(f) drops the directed frames f picks (a precise message loss, e.g. one answer).
//
// Thread-safety: none.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "byzantine/signed_update.h"
#include "byzantine/traitor.h"
#include "cacofonix/publisher_core.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/memory_transport.h"
#include "common/node.h"
#include "database/database_core.h"
#include "database/replica_core.h"
#include "database/sqlite_store.h"
#include "frontend/frontend_core.h"
#include "gossip/replica_core.h"
#include "tablet/tablets_core.h"
#include "verify/epochs.h"

namespace oly::sim {

struct SimOptions {
  uint64_t seed = 1;
  int tablets = 20;
  double rate = 50;             // Cacofonix updates per second
  uint64_t max_updates = 0;     // 0 = no limit
  Duration min_delay = Duration(50);
  Duration max_delay = Duration(500);
  double drop = 0.0;
  size_t raft_part_bytes = 0;   // replicas: split Raft messages above this size (0: the default)
  // Byzantine mode (config.byzantine): the front end that is the traitor ("" for none), and how
  // it lies (byzantine/traitor.h).
  std::string traitor = {};
  byzantine::Strategy strategy = byzantine::Strategy::kFlip;
  // A second publisher node, "bard", writing random updates of the same events at the same rate
  // (gossip mode's concurrent writers, docs/gossip.md).
  bool second_publisher = false;
};

// What the database's tap saw (verify/epochs.h judges them).
using DbClaim = verify::EpochClaim;  // an epoch granted
using DbWrite = verify::EpochWrite;  // an update applied (not a deduplicated resend)

class SimCluster {
 public:
  SimCluster(Config cfg, SimOptions opt);
  ~SimCluster();

  // Runs the cluster until virtual time now() + d.
  void run_for(Duration d);
  // Runs until `pred` holds (checked after every step) or `limit` passes; returns pred().
  bool run_until(const std::function<bool()>& pred, Duration limit);

  void crash(const std::string& name);
  void restart(const std::string& name);
  // Replica `name` dies at its next sync, with the log entries it had appended since the last one
  // unsynced (lost): kill -9 before the fsync. It stays down until restart(name).
  void crash_at_next_sync(const std::string& name);
  // SIGSTOP / SIGCONT of a node (see above). REQUIRES: the node runs (not crashed).
  void pause(const std::string& name);
  void resume(const std::string& name);
  bool paused(const std::string& name) const { return paused_.count(name) > 0; }
  // Calls `f` after every step of the simulation, from now on.
  void observe(std::function<void()> f) { observers_.push_back(std::move(f)); }
  // Drops every directed frame (not notices) for which `f(from, to, message)` is true, before it
  // reaches the network: a precise message loss. An empty function drops nothing (the default).
  using DropFilter = std::function<bool(const std::string& from, const std::string& to, const Message& msg)>;
  void drop_if(DropFilter f) { drop_filter_ = std::move(f); }
  uint64_t filtered() const { return filtered_; }  // frames dropped by the filter so far
  // Stops Cacofonix from producing; what it produced is still delivered.
  void stop_publishing();

  TimePoint now() const { return clock_.now(); }
  MemoryNetwork& net() { return net_; }
  const Config& config() const { return cfg_; }

  FrontendCore* frontend(const std::string& id);
  PublisherCore& publisher();
  // Every publisher node running ("cacofonix", and "bard" when SimOptions::second_publisher).
  std::vector<PublisherCore*> publishers();
  // Whether every publisher is finished (stopped, everything acknowledged); how many updates
  // they still wait for.
  bool publishers_finished();
  size_t unacknowledged();
  TabletsCore& tablets();
  // The database's store: the single database's, or the store of the live replica that applied
  // the most (the committed state furthest along).
  database::SqliteStore& store();
  database::SqliteStore& store(const std::string& node) { return *stores_.at(node); }
  // What the database tier has committed: the key's version and the master. For the single
  // database, its rows; for replicas, the most any replica ever applied (a committed entry may
  // not be applied on any live replica yet, e.g. right after the leader that applied it died).
  uint64_t committed_version(const std::string& key);
  MasterInfo committed_master();
  // The replica `name`, or nullptr when it is down (or the tier is not replicated by Raft).
  database::ReplicaCore* replica(const std::string& name);
  // Gossip mode: the replica `name`, or nullptr when it is down (or the tier is not in gossip mode).
  gossip::GossipReplicaCore* gossip_replica(const std::string& name);
  // The replicated tier's replicas: the config's, then those that joined.
  std::vector<std::string> replica_names() const;
  bool is_replica(const std::string& name) const;
  // Starts a new replica `name` (an empty store) that joins the running tier through replica
  // `via`, as `database --id name --join` does. restart(name) restarts it the same way.
  void join_replica(const std::string& name, const std::string& via);
  // Sends `body` to endpoint `to` from an operator's endpoint ("operator", as `olympics db` is);
  // operator_answers() takes what has come back since.
  void ask(const std::string& to, Body body);
  std::vector<Message> operator_answers();

  // Everything recorded so far.
  const std::vector<AckRecord>& acks() const { return acks_; }
  const std::vector<ReadRecord>& reads() const { return reads_; }
  // What the database granted and applied, in the order it did (see the tap above).
  const std::vector<DbClaim>& claims() const { return claims_; }
  const std::vector<DbWrite>& writes() const { return writes_; }
  // The updates Cacofonix acknowledged so far, per "<team>/<medal>" (its own count, over all of
  // its incarnations).
  std::map<std::string, int64_t> medal_counts() const;

  // Byzantine mode: every update Cacofonix sent (any incarnation), and every update the database
  // applied, each as (publisher, seq) -> its canonical bytes (byzantine/signed_update.h).
  using UpdateBytes = std::map<std::pair<std::string, uint64_t>, std::string>;
  const UpdateBytes& sent_updates() const { return sent_updates_; }
  const UpdateBytes& applied_updates() const { return applied_updates_; }
  // Byzantine mode: each front end's first decision of each agreement instance, by front end and
  // then (commander, publisher, seq); a value is an update's frame, none is nullopt.
  using InstanceId = std::tuple<std::string, std::string, uint64_t>;
  using Decisions = std::map<std::string, std::map<InstanceId, byzantine::Value>>;
  const Decisions& decisions() const { return decisions_; }
  // What tablets took, (key, version, text) each, and what the database applied: key -> version ->
  // text (TabletsCore::text_of).
  struct TakenRead {
    std::string key;
    uint64_t version;
    std::string text;
  };
  const std::vector<TakenRead>& taken_reads() const { return taken_reads_; }
  const std::map<std::string, std::map<uint64_t, std::string>>& applied_values() const { return applied_values_; }
  // The traitor's transport (nullptr when there is none or it is down).
  const byzantine::TraitorTransport* traitor() const;

  // A one-line description of the run, to print when a check fails.
  std::string describe() const;

 private:
  struct SimNode {
    std::unique_ptr<Transport> wrapped;  // the traitor's own transport, under `transport`
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Core> core;
    std::unique_ptr<Node> node;
  };
  class DatabaseTap;
  void record_apply(const database::Command& command, const database::Result& result);
  void record_sent(const std::string& frame);
  class FilteredTransport;
  void start(const std::string& name);
  void collect();

  Config cfg_;
  SimOptions opt_;
  VirtualClock clock_;
  MemoryNetwork net_;
  std::map<std::string, std::unique_ptr<database::SqliteStore>> stores_;  // per database node
  std::set<std::pair<std::string, uint64_t>> recorded_writes_;  // (publisher, seq) in writes_
  uint64_t recorded_epoch_ = 0;                                 // the last epoch in claims_
  std::map<std::string, uint64_t> applied_versions_;            // replicas: key -> highest applied
  std::map<std::string, SimNode> nodes_;
  std::map<std::string, std::string> joined_;  // replicas that joined -> the replica they joined via
  std::unique_ptr<Transport> operator_;
  uint64_t operator_req_ = 0;
  int incarnation_ = 0;
  std::vector<AckRecord> acks_;
  std::vector<ReadRecord> reads_;
  std::vector<DbClaim> claims_;
  std::vector<DbWrite> writes_;
  std::set<std::string> paused_;
  std::vector<std::function<void()>> observers_;
  DropFilter drop_filter_;
  uint64_t filtered_ = 0;
  std::map<std::string, int64_t> dead_medal_counts_;  // of Cacofonix incarnations that crashed
  byzantine::SigningKeys signing_;  // Byzantine mode: the publisher's
  UpdateBytes sent_updates_;
  UpdateBytes applied_updates_;
  Decisions decisions_;
  std::vector<TakenRead> taken_reads_;
  std::map<std::string, std::map<uint64_t, std::string>> applied_values_;
};

}  // namespace oly::sim
