// SimCluster: a whole cluster (database, front ends, Cacofonix, tablets) in one thread, over a
// MemoryNetwork with a VirtualClock and a seeded RNG, driven by the same Node loop as the real
// processes. A run replays exactly from its seed.
//
// Nodes are named as in the config ("db", "fe1", "fe2", ...), "cacofonix" and "tablets".
// crash(name) stops a node and drops its traffic; restart(name) starts a fresh core for it (a
// new process incarnation: empty memory), except that the database keeps its store (the disk).
//
// Thread-safety: none.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cacofonix/publisher_core.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/memory_transport.h"
#include "common/node.h"
#include "database/database_core.h"
#include "database/sqlite_store.h"
#include "frontend/frontend_core.h"
#include "tablet/tablets_core.h"

namespace oly::sim {

struct SimOptions {
  uint64_t seed = 1;
  int tablets = 20;
  double rate = 50;             // Cacofonix updates per second
  uint64_t max_updates = 0;     // 0 = no limit
  Duration min_delay = Duration(50);
  Duration max_delay = Duration(500);
  double drop = 0.0;
};

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
  // Stops Cacofonix from producing; what it produced is still delivered.
  void stop_publishing();

  TimePoint now() const { return clock_.now(); }
  MemoryNetwork& net() { return net_; }
  const Config& config() const { return cfg_; }

  FrontendCore* frontend(const std::string& id);
  PublisherCore& publisher();
  TabletsCore& tablets();
  database::Store& store() { return *store_; }

  // Everything recorded so far.
  const std::vector<AckRecord>& acks() const { return acks_; }
  const std::vector<ReadRecord>& reads() const { return reads_; }

  // A one-line description of the run, to print when a check fails.
  std::string describe() const;

 private:
  struct SimNode {
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Core> core;
    std::unique_ptr<Node> node;
  };
  void start(const std::string& name);
  void collect();

  Config cfg_;
  SimOptions opt_;
  VirtualClock clock_;
  MemoryNetwork net_;
  std::unique_ptr<database::SqliteStore> store_;
  std::map<std::string, SimNode> nodes_;
  int incarnation_ = 0;
  std::vector<AckRecord> acks_;
  std::vector<ReadRecord> reads_;
};

}  // namespace oly::sim
