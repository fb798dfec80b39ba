// The replicated database tier (three replicas on Raft) in the whole-cluster simulation, over many
// seeds: the database leader or a follower crashes under load and comes back, a replica dies
// before syncing what it appended, the leader is cut off together with the master front end,
// frames between replicas are lost and delayed, the database leader crashes during a front-end
// handoff, and the master loses mastership with updates in flight at a stopped database leader. After every run, besides everything failover_sim_test checks (one writer per
// epoch, none lost, none twice, in order, push and pull freshness, no cache ahead, the master
// lease at every instant): one leader per term at every instant (RaftMonitor) and identical
// state on every replica once they have applied the same index.
//
// OLY_SIM_SEED, OLY_SIM_SEEDS and OLY_SIM_MAX_FAILED work as in failover_sim_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "tests/sim/invariants.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/replicated.h"
#include "tests/sim/sim_run.h"

namespace oly::sim {
namespace {

// Per test. Under AddressSanitizer (CI's second build, which checks memory, not more schedules)
// a tenth of them, to stay within the suite's time.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kReplicatedSeeds = 20;
#else
constexpr uint64_t kReplicatedSeeds = 200;
#endif

// Failover windows of the database leader (kill to the next acknowledgement), over a test.
std::vector<double> g_windows;

// Prints the windows and clears them; returns their median and maximum (0 when none).
std::pair<double, double> print_windows(const char* test) {
  if (g_windows.empty()) return {0, 0};
  std::sort(g_windows.begin(), g_windows.end());
  const std::pair<double, double> figures{g_windows[g_windows.size() / 2], g_windows.back()};
  std::printf("[ measured ] %s: database failover window (kill to next ack) over %zu kills: p50 %.0f ms, p99 %.0f ms, "
              "max %.0f ms\n",
              test, g_windows.size(), g_windows[g_windows.size() / 2], g_windows[g_windows.size() * 99 / 100],
              g_windows.back());
  g_windows.clear();
  return figures;
}

// The leader `leader`, down since `k`, is restarted after [down_min, down_max] ms; then the
// usual end-of-run checks. Cacofonix keeps publishing throughout, so the next acknowledgement
// after `k` measures the failover: returned, or nullopt when there was none.
std::optional<Duration> restart_and_check(SimRun& r, const RaftMonitor& raft, const std::string& leader, TimePoint k,
                                          int64_t down_min, int64_t down_max) {
  r.run(r.uniform(down_min, down_max));
  r.restart(leader);
  drain_and_check(r);
  check_replicas(r, raft);
  return next_ack_after(r.c, k);
}

// The followers see the dead leader's connections close (Incoming::lost), which brings their
// election forward by an election timeout, and a replica that would win an election another
// started (or a split vote) runs at once (Consensus::receive): the median window is below one
// election timeout, where waiting for the timeout alone costs one and a half on average, and
// every window within the timeout + 200 ms.
TEST(ReplicatedSim, DatabaseLeaderCrashesUnderLoadAndComesBack) {
  int64_t hints = 0;
  for_seeds(
      [&](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        const TimePoint k = r.crash(leader);
        r.run(50);
        for (const auto& id : r.c.replica_names()) {
          if (auto* core = r.c.replica(id)) hints += core->counters()["leader_connection_lost"];
        }
        const auto window = restart_and_check(r, raft, leader, k, 100, 2500);
        ASSERT_TRUE(window) << "nothing acknowledged after the database leader died; " << r.describe();
        g_windows.push_back(to_ms(*window));
        EXPECT_LT(*window, ms(1500)) << r.describe();
      },
      kReplicatedSeeds);
  const auto [median, max] = print_windows("DatabaseLeaderCrashesUnderLoadAndComesBack");
  const int timeout = replicated(Consistency::kPush).database.election_timeout_ms;
  EXPECT_GT(hints, 0) << "no follower heard of its leader's closed connection";
  EXPECT_LT(median, timeout);
  EXPECT_LT(max, timeout + 200);
}

// A clean stop (SIGTERM in database/main.cpp): the leader hands leadership over before it goes,
// so the window is a hand-over, shorter than the election timeout that a crash costs at least.
TEST(ReplicatedSim, ALeaderStoppedCleanlyHandsOverFasterThanAnElection) {
  for_seeds(
      [](uint64_t seed) {
        const Config cfg = replicated(mode_of(seed));
        SimRun r(cfg, options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        const TimePoint k = r.c.now();
        r.note("stop " + leader + " cleanly");
        r.c.replica(leader)->begin_stop(k);
        r.c.run_until([&] { return r.c.replica(leader)->may_stop(r.c.now()); }, ms(2 * cfg.database.election_timeout_ms));
        ASSERT_FALSE(r.c.replica(leader)->consensus().leading()) << leader << " still leads; " << r.describe();
        r.crash(leader);
        const auto window = restart_and_check(r, raft, leader, k, 100, 1500);
        ASSERT_TRUE(window) << "nothing acknowledged after the database leader stopped; " << r.describe();
        g_windows.push_back(to_ms(*window));
        EXPECT_LT(*window, ms(cfg.database.election_timeout_ms / 2)) << r.describe();
      },
      kReplicatedSeeds);
  print_windows("ALeaderStoppedCleanlyHandsOverFasterThanAnElection");
}

// get_feed through a front end (raft mode): the last applied updates, in the order the log applied
// them, whichever replica leads now.
void check_feed(SimRun& r) {
  r.c.ask("fe1", GetFeed{});
  r.c.run_for(ms(50));
  std::optional<FeedReply> feed;
  for (auto& m : r.c.operator_answers()) {
    if (auto* f = std::get_if<FeedReply>(&m.body)) feed = *f;
  }
  ASSERT_TRUE(feed) << "fe1 did not answer get_feed; " << r.describe();
  const auto& writes = r.c.writes();
  const size_t n = std::min<size_t>(GetFeed::kFeedMax, writes.size());
  ASSERT_EQ(feed->items.size(), n) << r.describe();
  for (size_t k = 0; k < n; ++k) {
    const auto& want = writes[writes.size() - n + k];
    EXPECT_EQ(feed->items[k].publisher + "/" + std::to_string(feed->items[k].seq), want.publisher + "/" + std::to_string(want.seq))
        << "item " << k << "; " << r.describe();
  }
}

TEST(ReplicatedSim, DatabaseFollowerCrashesAndComesBack) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        const std::string follower = leader == "db1" ? "db2" : "db1";
        r.crash(follower);
        r.run(r.uniform(100, 2500));
        r.restart(follower);
        drain_and_check(r);
        check_replicas(r, raft);
        EXPECT_EQ(db_leader(r.c), leader) << "a follower's crash moved the leadership; " << r.describe();
        check_feed(r);
      },
      kReplicatedSeeds);
}

TEST(ReplicatedSim, AReplicaDiesBeforeSyncingWhatItAppended) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        // The leader on odd seeds, a follower on even ones.
        const std::string victim = seed % 4 < 2 ? leader : (leader == "db3" ? "db2" : "db3");
        r.note("crash at next sync " + victim);
        r.c.crash_at_next_sync(victim);
        r.c.run_until([&] { return r.c.replica(victim) == nullptr; }, ms(1000));
        ASSERT_EQ(r.c.replica(victim), nullptr) << victim << " never synced again; " << r.describe();
        r.run(r.uniform(100, 1500));
        r.restart(victim);
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kReplicatedSeeds);
}

TEST(ReplicatedSim, TheLeaderCutOffTogetherWithTheMasterFrontEnd) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        // {leader, fe1} on one side; the other replicas, fe2, Cacofonix and the tablets on the other.
        std::vector<std::string> minority = {leader, "fe1"};
        std::vector<std::string> majority = {"fe2", "cacofonix", "tablets"};
        for (const auto& rep : r.c.config().database.replicas) {
          if (rep.id != leader) majority.push_back(rep.id);
        }
        for (const auto& a : minority) {
          for (const auto& b : majority) r.partition(a, b);
        }
        r.run(r.uniform(1500, 3000));
        r.heal();
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kReplicatedSeeds);
}

TEST(ReplicatedSim, LossAndDelayBetweenReplicas) {
  for_seeds(
      [](uint64_t seed) {
        SimOptions o = options(seed, 0.01 * (1 + seed % 3));
        o.max_delay = Duration(2000 + 500 * static_cast<int64_t>(seed % 5));
        SimRun r(replicated(mode_of(seed)), o);
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        if (seed % 2 == 0) {
          r.crash(leader);
          r.run(r.uniform(300, 1500));
          r.restart(leader);
        }
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kReplicatedSeeds);
}

TEST(ReplicatedSim, DatabaseLeaderCrashesDuringAFrontEndHandoff) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        const Config& cfg = r.c.config();
        r.run(r.uniform(1200, 2000));
        r.crash("fe1");
        ASSERT_TRUE(r.c.run_until([&] { return r.c.frontend("fe2")->holds_master_lease(r.c.now()); }, ms(3000)))
            << r.describe();
        r.run(r.uniform(0, 500));
        const TimePoint back = r.restart("fe1");
        const bool started = r.c.run_until(
            [&] { return r.c.frontend("fe2")->stats(r.c.now()).info.count("handoff") > 0; },
            ms(cfg.heartbeat.settle_ms + 1500));
        ASSERT_TRUE(started) << "fe2 never started a handoff; " << r.describe();
        r.note("handoff started");
        r.run_us(r.uniform(0, 4000));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        r.crash(leader);
        r.run(r.uniform(200, 1500));
        r.restart(leader);
        expect_recovery(r, back, ms(cfg.heartbeat.settle_ms) + failed_handoff_recovery_bound(cfg) + ms(3000));
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kReplicatedSeeds);
}

// The master loses mastership with updates in flight: the database leader stops (SIGSTOP), so
// the master's updates wait unanswered at it and its lease cannot be renewed; once it has some
// in flight the master stops too, for longer than the failure-detection timeout, so fe2 claims
// mastership through the leader the other replicas elect. The two resume in either order (odd
// seeds: the old database leader first). The old master's in-flight updates may be answered
// late, fenced, or lost with the old leader's uncommitted entries; Cacofonix resends each to
// whoever is master. Nothing acknowledged may be lost or applied twice, and no epoch may have
// two writers (drain_and_check), and the resumed old master must follow fe2, not write.
TEST(ReplicatedSim, TheMasterLosesMastershipWithUpdatesInFlight) {
  for_seeds(
      [](uint64_t seed) {
        SimRun r(replicated(mode_of(seed)), options(seed));
        RaftMonitor raft(r.c);
        const Config& cfg = r.c.config();
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        ASSERT_TRUE(r.c.frontend("fe1")->is_master()) << r.describe();
        const TimePoint k = r.pause(leader);
        // An update the master received and has not acknowledged is waiting at the database.
        const auto updates_waiting = [&] {
          const Stats st = r.c.frontend("fe1")->stats(r.c.now());
          const auto count = [&](const char* name) {
            const auto it = st.counters.find(name);
            return it == st.counters.end() ? int64_t{0} : it->second;
          };
          return count("updates_received") > count("updates_acked") + count("held_updates");
        };
        ASSERT_TRUE(r.c.run_until(updates_waiting, ms(1000))) << "no update waited at the stopped leader; " << r.describe();
        r.pause("fe1");
        r.run(r.uniform(cfg.heartbeat.timeout_ms + 500, cfg.heartbeat.timeout_ms + 2500));
        const DbClaim* cl = claim_by(r.c, "fe2", k);
        EXPECT_NE(cl, nullptr) << "fe2 never took over from the stopped master; " << r.describe();
        TimePoint back;
        if (seed % 4 < 2) {
          r.resume(leader);
          r.run_us(r.uniform(0, 300'000));
          back = r.resume("fe1");
        } else {
          r.resume("fe1");
          r.run_us(r.uniform(0, 300'000));
          back = r.resume(leader);
        }
        r.run(cfg.heartbeat.timeout_ms);
        EXPECT_FALSE(r.c.frontend("fe1")->holds_master_lease(r.c.now())) << r.describe();
        expect_recovery(r, back);
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kReplicatedSeeds);
}

// Counter `name` summed over every running front end.
int64_t frontend_counter(SimCluster& c, const char* name) {
  int64_t total = 0;
  for (const auto& fe : c.config().frontends) {
    if (FrontendCore* core = c.frontend(fe.id)) {
      const Stats st = core->stats(c.now());
      if (auto it = st.counters.find(name); it != st.counters.end()) total += it->second;
    }
  }
  return total;
}

// The tablets' reads that started in [from, from + span): how many, how many an attempt did not
// answer, how many of those were not answered at once by the tablet's retry at its next front
// end, and the slowest that succeeded.
struct ReadsDuring {
  int64_t total = 0;
  int64_t failed = 0;
  int64_t unanswered = 0;
  Duration slowest{};
};
ReadsDuring reads_during(SimCluster& c, TimePoint from, Duration span) {
  ReadsDuring out;
  const auto& reads = c.reads();
  for (const auto& read : reads) {
    if (read.start < from || read.start >= from + span) continue;
    ++out.total;
    if (read.outcome == "ok") {
      out.slowest = std::max(out.slowest, read.end - read.start);
      continue;
    }
    ++out.failed;
    const bool retried = std::any_of(reads.begin(), reads.end(), [&](const ReadRecord& again) {
      return again.tablet == read.tablet && again.key == read.key && again.outcome == "ok" &&
             again.start >= read.end && again.start <= read.end + ms(1);
    });
    if (!retried) ++out.unanswered;
  }
  return out;
}

// Disks that stall: each sync of the stalled replicas takes 2 s, four times the master lease. No
// replica's loop waits for its disk (consensus.h); renewals, and the reads of keys with no write
// in flight, are confirmed by a read index, which needs no disk; the master reads a key with an
// update in flight past its grace as `committed`, which does not wait for that update either. So
// the master front end keeps its lease (no step-down), and tablets' reads go on. Odd seeds stall
// the leader's disk alone: after an election timeout it hands leadership to a follower, whose
// disk works, and writes go on there. Even seeds stall every disk, as a disk hog beside them all
// would (the followers' up to 30 ms after the leader's): nobody is handed leadership, writes wait,
// reads do not. Every read that starts during a stall succeeds: the check would also accept a
// timed-out attempt answered at once by its retry at the next front end, but none happens.
TEST(ReplicatedSim, DisksStallLongerThanTheLeaseAndReadsGoOn) {
  ReadsDuring alone, all;
  for_seeds(
      [&](uint64_t seed) {
        SimRun r(replicated(mode_of(seed / 2)), options(seed));
        RaftMonitor raft(r.c);
        r.run(r.uniform(1200, 2500));
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        const bool every_disk = seed % 2 == 0;
        const int64_t step_downs = frontend_counter(r.c, "step_downs");
        std::vector<std::string> stalled = {leader};
        if (every_disk) stalled = r.c.replica_names();
        r.note(every_disk ? "every disk stalls" : "the disk of " + leader + " stalls");
        const TimePoint from = r.c.now();
        // Every disk: the leader's first, the followers' up to 30 ms later, so that a follower
        // may have stored more than the leader when the leader's stall has lasted an election
        // timeout (it must not be handed leadership: its disk stalls too).
        r.c.store(leader).set_sync_delay(ms(2000));
        if (every_disk) r.run(r.uniform(0, 30));
        for (const auto& id : stalled) r.c.store(id).set_sync_delay(ms(2000));
        r.c.run_for(ms(2000) - (r.c.now() - from));
        for (const auto& id : stalled) r.c.store(id).set_sync_delay({});
        EXPECT_EQ(frontend_counter(r.c, "step_downs"), step_downs) << "the master lost its lease; " << r.describe();
        // Reads that started while the disks stalled (those of the last 300 ms may end after).
        const ReadsDuring reads = reads_during(r.c, from, ms(1700));
        EXPECT_GT(reads.total, 0) << r.describe();
        EXPECT_EQ(reads.unanswered, 0) << r.describe();
        if (!every_disk) {
          EXPECT_NE(db_leader(r.c), leader) << "the stalled leader kept leading; " << r.describe();
          EXPECT_EQ(reads.failed, 0) << r.describe();
        }
        ReadsDuring& sum = every_disk ? all : alone;
        sum.total += reads.total;
        sum.failed += reads.failed;
        sum.unanswered += reads.unanswered;
        sum.slowest = std::max(sum.slowest, reads.slowest);
        drain_and_check(r);
        check_replicas(r, raft);
      },
      kReplicatedSeeds);
  for (const auto& [what, s] : {std::pair{"the leader's disk", &alone}, std::pair{"every disk", &all}}) {
    std::printf("[ measured ] reads during 2 s stalls of %s: %lld, attempts timed out %lld (each answered at once "
                "by its retry but %lld), slowest success %.0f ms\n",
                what, static_cast<long long>(s->total), static_cast<long long>(s->failed),
                static_cast<long long>(s->unanswered), to_ms(s->slowest));
  }
}

}  // namespace
}  // namespace oly::sim
