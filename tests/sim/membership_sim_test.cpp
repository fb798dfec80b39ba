// The replicated tier's membership in the whole-cluster simulation, over many seeds, under load:
// a new replica joins through one replica (after the log was compacted, so it installs a
// snapshot, sent in parts), is promoted to voter, and carries the quorum when the old leader dies; the leader is
// removed (it hands leadership over first); a follower is removed. After every run the usual
// checks (drain_and_check: nothing acknowledged lost or applied twice, push and pull freshness)
// and the replicas' (one leader per term, identical states).
//
// OLY_SIM_SEED, OLY_SIM_SEEDS and OLY_SIM_MAX_FAILED work as in failover_sim_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/sim/replicated.h"

namespace oly::sim {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kMembershipSeeds = 5;
#else
constexpr uint64_t kMembershipSeeds = 50;
#endif

// Snapshots often enough that a replica joining after a second or two cannot replay the log
// from its start.
Config compacting(uint64_t seed) {
  Config c = replicated(mode_of(seed));
  c.database.snapshot_every = 64;
  c.database.snapshot_trailing = 16;
  return c;
}

// `name`'s standing in the configuration of the replica `at`, or "" when it is not a member.
std::string standing(SimCluster& c, const std::string& at, const std::string& name) {
  const database::ReplicaCore* core = c.replica(at);
  if (core == nullptr) return "";
  for (const auto& m : core->consensus().configuration()) {
    if (m.member.name == name) return consensus::to_string(m.standing);
  }
  return "";
}

// Runs until the leader's configuration lists `name` as `what` ("" : not at all).
bool wait_for_standing(SimRun& r, const std::string& name, const std::string& what, Duration limit) {
  return r.c.run_until(
      [&] {
        const std::string l = db_leader(r.c);
        return !l.empty() && standing(r.c, l, name) == what;
      },
      limit);
}

TEST(MembershipSim, AReplicaJoinsUnderLoadInstallsASnapshotAndCarriesTheQuorum) {
  for_seeds(
      [](uint64_t seed) {
        SimOptions o = options(seed);
        o.raft_part_bytes = 4096;  // the snapshot (and large appends) go in parts
        SimRun r(compacting(seed), o);
        RaftMonitor raft(r.c);
        r.run(r.uniform(1500, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        ASSERT_TRUE(r.c.store(leader).snapshot().has_value()) << "the leader never compacted its log; " << r.describe();
        // Through any one replica, the leader or not.
        const std::string via = "db" + std::to_string(1 + r.uniform(0, 2));
        r.note("join db4 via " + via);
        r.c.join_replica("db4", via);
        ASSERT_TRUE(wait_for_standing(r, "db4", "voter", ms(5000))) << "db4 never became a voter; " << r.describe();
        EXPECT_TRUE(r.c.store("db4").snapshot().has_value()) << "db4 caught up without a snapshot; " << r.describe();
        int64_t parts = 0;
        for (const auto& id : r.c.replica_names()) {
          if (auto* core = r.c.replica(id)) parts += core->counters()["raft_parts_sent"];
        }
        EXPECT_GT(parts, 0) << "no Raft message went in parts; " << r.describe();
        // Four voters: with the old leader gone, no majority (3) forms without the newcomer.
        const std::string old = wait_for_db_leader(r);
        ASSERT_FALSE(old.empty()) << r.describe();
        ASSERT_NE(old, "db4") << r.describe();
        const TimePoint k = r.crash(old);
        const auto window = [&] {
          r.c.run_until([&] { return next_ack_after(r.c, k).has_value(); }, ms(3000));
          return next_ack_after(r.c, k);
        }();
        ASSERT_TRUE(window) << "nothing acknowledged after the old leader died; " << r.describe();
        r.run(r.uniform(100, 1000));
        r.restart(old);
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kMembershipSeeds);
}

TEST(MembershipSim, RemovingTheLeaderHandsLeadershipOverThenRemovesIt) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2000));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        r.note("remove " + leader);
        r.c.ask(leader, RemoveReplica{leader});
        // The operator's tool (olympics db remove): on not_leader, ask the leader again a little
        // later until the replica is gone.
        TimePoint ask_again = TimePoint::max();
        const bool removed = r.c.run_until(
            [&] {
              for (const auto& m : r.c.operator_answers()) {
                const auto* e = std::get_if<Error>(&m.body);
                if (e == nullptr) continue;
                if (e->code != ErrorCode::kNotLeader) ADD_FAILURE() << e->error;
                ask_again = r.c.now() + ms(100);
              }
              if (r.c.now() >= ask_again && !db_leader(r.c).empty()) {
                r.c.ask(db_leader(r.c), RemoveReplica{leader});
                ask_again = TimePoint::max();
              }
              const std::string now = db_leader(r.c);
              return !now.empty() && now != leader && standing(r.c, now, leader).empty();
            },
            ms(5000));
        ASSERT_TRUE(removed) << leader << " is still a member; " << r.describe();
        r.crash(leader);  // the operator stops it once removed
        r.run(r.uniform(500, 1500));
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kMembershipSeeds);
}

TEST(MembershipSim, AFollowerIsRemovedUnderLoadAndTheTierGoesOn) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2000));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        const std::string follower = leader == "db2" ? "db3" : "db2";
        r.note("remove " + follower);
        r.c.ask(leader, RemoveReplica{follower});
        bool answered = false;
        ASSERT_TRUE(r.c.run_until(
            [&] {
              for (const auto& m : r.c.operator_answers()) {
                if (const auto* members = std::get_if<Members>(&m.body)) {
                  answered = std::none_of(members->members.begin(), members->members.end(),
                                          [&](const ReplicaInfo& i) { return i.id == follower; });
                }
              }
              return answered;
            },
            ms(3000)))
            << "no answer listing the members without " << follower << "; " << r.describe();
        r.crash(follower);
        r.run(r.uniform(500, 1500));
        // Two voters left: both are needed, and both are up.
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kMembershipSeeds);
}

}  // namespace
}  // namespace oly::sim
