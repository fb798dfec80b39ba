// What the simulations of the replicated database tier share: its config (three replicas), the
// database leader, and the checks at the end of every run.
#pragma once

#include <optional>
#include <string>

#include "tests/sim/invariants.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_run.h"

namespace oly::sim {

inline Config replicated(Consistency mode, int frontends = 2) {
  Config c = config(mode, frontends);
  c.database.replicas = {{"db1", "tcp://127.0.0.1:7120"}, {"db2", "tcp://127.0.0.1:7121"}, {"db3", "tcp://127.0.0.1:7122"}};
  return c;
}

inline Consistency mode_of(uint64_t seed) { return seed % 2 ? Consistency::kPush : Consistency::kPull; }

// The replica that leads and is ready, or "" (none, or the simulation has none running).
inline std::string db_leader(SimCluster& c) {
  for (const auto& id : c.replica_names()) {
    const database::ReplicaCore* core = c.replica(id);
    if (core != nullptr && core->consensus().leading()) return id;
  }
  return "";
}

inline std::string wait_for_db_leader(SimRun& r, Duration limit = ms(3000)) {
  r.c.run_until([&] { return !db_leader(r.c).empty(); }, limit);
  return db_leader(r.c);
}

// What every replicated run checks at its end, after drain_and_check: one leader per term, and
// the replicas identical once they caught up.
inline void check_replicas(SimRun& r, const RaftMonitor& raft) {
  r.c.run_until([&] { return check_replicas_identical(r.c).empty(); }, ms(3000));
  EXPECT_EQ(join(check_replicas_identical(r.c)), "") << r.describe();
  EXPECT_EQ(join(raft.violations()), "") << r.describe();
}

// The first acknowledgement Cacofonix got after `t`, measured from `t`.
inline std::optional<Duration> next_ack_after(SimCluster& c, TimePoint t) {
  std::optional<TimePoint> first;
  for (const auto& a : c.acks()) {
    if (a.acked > t && (!first || a.acked < *first)) first = a.acked;
  }
  if (!first) return std::nullopt;
  return *first - t;
}

}  // namespace oly::sim
