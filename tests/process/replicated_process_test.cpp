// The replicated database tier with the real binaries on loopback: three replicas (Raft), two
// front ends, Cacofonix and tablets under load, while the database leader is killed with kill -9
// (in push and in pull), a follower is killed, or the leader is stopped (SIGSTOP) past the
// election timeout and continued. The checker (verify/) judges every run from what the processes
// recorded; each test also prints the failover window it saw (kill to Cacofonix's next ack).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

#include "common/codec.h"
#include "common/zmq_transport.h"
#include "verify/check.h"
#include "verify/load.h"
#include "verify/report.h"
#include "tests/support/cluster.h"
#include "tests/support/judge.h"

namespace oly::testing {
namespace {

ProcessCluster replicated_cluster(Consistency mode) {
  return ProcessCluster([&](Config& c) {
    c.consistency = mode;
    c.tablets.read_interval_ms = 200;
    replicate(c, 3);
    tolerate_descheduling(c);
  });
}

// Starts the replicas, the front ends and the clients (`seconds` of load).
void start_all(ProcessCluster& cluster, int seconds) {
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  cluster.start_cacofonix({"--rate", "100", "--duration", std::to_string(seconds)});
  cluster.start_tablets({"--count", "50", "--duration", std::to_string(seconds + 1)});
}

// Waits for the clients, stops the front ends and the replicas cleanly and judges the run.
void stop_and_judge(ProcessCluster& cluster, JudgedRun& run) {
  ASSERT_EQ(cluster.wait("cacofonix", ms(30000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(30000)), 0) << cluster.log_tail("tablets");
  for (const char* fe : {"fe1", "fe2"}) {
    cluster.child(fe)->signal(SIGTERM);
    ASSERT_TRUE(cluster.child(fe)->wait(ms(5000)).has_value());
  }
  for (const auto& r : cluster.config().database.replicas) {
    if (Child* c = cluster.child(r.id)) {
      c->signal(SIGTERM);
      c->wait(ms(5000));
    }
  }
  run = judge_run(cluster.config());
}

// stop_and_judge, then the data guarantees and enough acknowledged.
void finish_and_check(ProcessCluster& cluster) {
  JudgedRun run;
  ASSERT_NO_FATAL_FAILURE(stop_and_judge(cluster, run));
  expect_data_guarantees(run.report);
  EXPECT_GT(run.records.acks.size(), 300u);
}

// From `t` to the first acknowledgement after it, in ms (-1: none).
double window_after(ProcessCluster& cluster, TimePoint t) {
  const verify::RunRecords records = verify::read_records(cluster.config());
  std::optional<TimePoint> first;
  for (const auto& a : records.acks) {
    if (a.acked > t && (!first || a.acked < *first)) first = a.acked;
  }
  return first ? to_ms(*first - t) : -1;
}

class KillLeader : public ::testing::TestWithParam<Consistency> {};

TEST_P(KillLeader, NoAcknowledgedUpdateIsLostAndANewLeaderServesWithinASecond) {
  ProcessCluster cluster = replicated_cluster(GetParam());
  start_all(cluster, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  const std::string leader = cluster.db_leader();
  ASSERT_FALSE(leader.empty());
  SteadyClock clock;
  const TimePoint killed = clock.now();
  cluster.signal(leader, SIGKILL);
  EXPECT_TRUE(eventually([&] { return !cluster.db_leader().empty(); }, ms(5000))) << "no new leader";
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_TRUE(cluster.start_replica(leader));
  finish_and_check(cluster);
  const double window = window_after(cluster, killed);
  std::printf("[ measured ] database leader %s killed: next acknowledgement after %.0f ms\n", leader.c_str(), window);
  EXPECT_GE(window, 0) << "nothing acknowledged after the kill";
}

INSTANTIATE_TEST_SUITE_P(Modes, KillLeader, ::testing::Values(Consistency::kPush, Consistency::kPull),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(ReplicatedProcess, KillingAFollowerChangesNothing) {
  ProcessCluster cluster = replicated_cluster(Consistency::kPush);
  start_all(cluster, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::string leader = cluster.db_leader();
  ASSERT_FALSE(leader.empty());
  const std::string follower = leader == "db1" ? "db2" : "db1";
  cluster.signal(follower, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(cluster.db_leader(), leader);
  ASSERT_TRUE(cluster.start_replica(follower));
  finish_and_check(cluster);
}

// A replica's role in the membership `reply` lists, or "".
std::string role_in(const std::optional<Message>& reply, const std::string& id) {
  const auto* m = reply ? std::get_if<Members>(&reply->body) : nullptr;
  if (m == nullptr) return "";
  for (const auto& r : m->members) {
    if (r.id == id) return r.role;
  }
  return "";
}

// A fourth replica joins through a follower under load and becomes a voter; fe2 knows only that
// follower from its config. With four voters, the old leader's death leaves no majority without
// the newcomer: the updates that keep being acknowledged are on its disk.
TEST(ReplicatedProcess, AReplicaJoinsUnderLoadAndCarriesTheQuorumWhenTheOldLeaderDies) {
  ProcessCluster cluster = replicated_cluster(Consistency::kPush);
  ASSERT_TRUE(cluster.start_database());
  const std::string leader = cluster.db_leader();
  ASSERT_FALSE(leader.empty());
  const std::string follower = leader == "db1" ? "db2" : "db1";
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend_knowing("fe2", follower));
  cluster.start_cacofonix({"--rate", "100", "--duration", "8"});
  cluster.start_tablets({"--count", "50", "--duration", "9"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(cluster.join_replica("db4", follower));
  EXPECT_TRUE(eventually([&] { return role_in(cluster.ask(leader, GetMembers{}, ms(300)), "db4") == "voter"; }, ms(10000)))
      << cluster.log_tail("db4") << cluster.log_tail(leader);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_EQ(cluster.db_leader(), leader) << "the leader changed before the kill";
  SteadyClock clock;
  const TimePoint killed = clock.now();
  cluster.signal(leader, SIGKILL);
  EXPECT_TRUE(eventually([&] { return !cluster.db_leader().empty(); }, ms(5000))) << "no new leader";
  // fe2 learnt the whole tier from `follower`: it names the replica it believes leads.
  EXPECT_TRUE(eventually(
      [&] {
        const auto reply = cluster.ask("fe2", GetStats{}, ms(300));
        const auto* s = reply ? std::get_if<Stats>(&reply->body) : nullptr;
        return s != nullptr && s->info.at("database") == cluster.db_leader();
      },
      ms(5000)));
  finish_and_check(cluster);
  const double window = window_after(cluster, killed);
  std::printf("[ measured ] database leader %s killed with 4 voters: next acknowledgement after %.0f ms\n", leader.c_str(),
              window);
  EXPECT_GE(window, 0) << "nothing acknowledged after the kill";
}

// Every replica's disk stalls for 2 s, four times the 500 ms master lease, 3.5 s after they start
// (OLY_DEBUG_DISK_STALL: the syncs that start meanwhile end with it, in the replicas' WalSyncer).
// No replica's loop waits for its disk, and renewals and reads are confirmed by a read index,
// which needs none: the master keeps its lease throughout, every tablet read is answered, and
// updates are acknowledged, late for those of the stall.
TEST(ReplicatedProcess, ADiskStallLongerThanTheLeaseStopsNoReadAndNoLease) {
  ProcessCluster cluster = replicated_cluster(Consistency::kPush);
  ::setenv("OLY_DEBUG_DISK_STALL", "3500:2000", 1);  // read by the replicas only
  start_all(cluster, 6);
  ::unsetenv("OLY_DEBUG_DISK_STALL");
  JudgedRun run;
  ASSERT_NO_FATAL_FAILURE(stop_and_judge(cluster, run));
  expect_data_guarantees(run.report);
  EXPECT_GT(run.records.acks.size(), 100u);
  size_t failed = 0;
  for (const auto& r : run.records.reads) failed += r.outcome == "ok" ? 0 : 1;
  EXPECT_GT(run.records.reads.size(), 1000u);
  EXPECT_EQ(failed, 0u) << "tablet reads failed while the disks were slow";
  for (const auto& [fe, stats] : run.records.frontend_stats) {
    const auto it = stats.counters.find("step_downs");
    EXPECT_EQ(it == stats.counters.end() ? 0 : it->second, 0) << fe << " lost its master lease";
  }
  // The stall happened: no update was acknowledged for most of it.
  std::vector<TimePoint> acked;
  for (const auto& a : run.records.acks) acked.push_back(a.acked);
  std::sort(acked.begin(), acked.end());
  Duration gap{};
  for (size_t i = 1; i < acked.size(); ++i) gap = std::max(gap, acked[i] - acked[i - 1]);
  EXPECT_GT(gap, ms(1500)) << "the disks did not stall";
  std::printf("[ measured ] every disk stalled 2 s: %zu reads, %zu failed, %zu updates acknowledged, longest gap "
              "between acknowledgements %.0f ms\n",
              run.records.reads.size(), failed, run.records.acks.size(), to_ms(gap));
}

TEST(ReplicatedProcess, ALeaderStoppedPastTheElectionTimeoutStepsDownWhenContinued) {
  ProcessCluster cluster = replicated_cluster(Consistency::kPush);
  start_all(cluster, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  const std::string leader = cluster.db_leader();
  ASSERT_FALSE(leader.empty());
  cluster.signal(leader, SIGSTOP);
  // Well past the election timeout (200 ms, randomised to at most 400 ms): the others elect.
  EXPECT_TRUE(eventually([&] { const auto l = cluster.db_leader(); return !l.empty() && l != leader; }, ms(5000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cluster.signal(leader, SIGCONT);
  // It learns of the newer term from the first message it handles and serves nothing as leader.
  EXPECT_TRUE(eventually(
      [&] {
        const auto reply = cluster.ask(leader, GetStats{}, ms(300));
        const auto* s = reply ? std::get_if<Stats>(&reply->body) : nullptr;
        return s != nullptr && s->info.at("raft_role") == "follower";
      },
      ms(3000)));
  finish_and_check(cluster);
}

// Sends `n` get_score requests one after the other to `replica` over one connection; returns
// the latencies in microseconds, sorted, and the last answer.
std::pair<std::vector<double>, Message> timed_reads(const Config& cfg, const std::string& replica,
                                                    std::optional<uint64_t> min_version, int n) {
  ZmqTransport t("reader", {});
  t.add_peer(replica, cfg.replica(replica)->address);
  SteadyClock clock;
  std::vector<double> us;
  Message last;
  // The connection is up once a first request is answered (frames to a peer not yet connected
  // are dropped, ZMQ_IMMEDIATE).
  eventually(
      [&] {
        t.send(replica, encode(Message{1'000'000, GetStats{}}));
        t.wait(ms(20));
        while (auto in = t.receive()) {
          if (Decoded dd = decode(in->frame); dd.ok && dd.message.req == 1'000'000) return true;
        }
        return false;
      },
      ms(3000));
  for (int i = 0; i < n; ++i) {
    const TimePoint sent = clock.now();
    t.send(replica, encode(Message{static_cast<uint64_t>(i + 1), GetScore{cfg.events.front(), min_version, std::nullopt, std::nullopt}}));
    while (clock.now() - sent < ms(2000)) {
      t.wait(ms(50));
      auto in = t.receive();
      if (!in) continue;
      Decoded d = decode(in->frame);
      if (!d.ok || d.message.req != static_cast<uint64_t>(i + 1)) continue;
      us.push_back(to_ms(clock.now() - sent) * 1000);
      last = d.message;
      break;
    }
  }
  std::sort(us.begin(), us.end());
  return {us, last};
}

// Linearizable reads (no min_version) wait for a quorum round at the leader; a min_version read
// that the replica's applied state satisfies is answered at once, by any replica. The front ends
// fill their caches with the first kind. Both are measured here (printed, not asserted).
TEST(ReplicatedProcess, LinearizableReadsGoThroughTheLeaderMinVersionReadsAnyReplica) {
  ProcessCluster cluster = replicated_cluster(Consistency::kPush);
  ASSERT_TRUE(cluster.start_database());
  const std::string leader = cluster.db_leader();
  ASSERT_FALSE(leader.empty());
  const std::string follower = leader == "db1" ? "db2" : "db1";
  const Config& cfg = cluster.config();
  const int n = 300;
  const auto [linearizable, a] = timed_reads(cfg, leader, std::nullopt, n);
  const auto [leader_local, b] = timed_reads(cfg, leader, 0, n);
  const auto [follower_local, c] = timed_reads(cfg, follower, 0, n);
  const auto [refused, d] = timed_reads(cfg, follower, std::nullopt, 1);
  ASSERT_EQ(linearizable.size(), static_cast<size_t>(n));
  ASSERT_EQ(leader_local.size(), static_cast<size_t>(n));
  ASSERT_EQ(follower_local.size(), static_cast<size_t>(n));
  EXPECT_TRUE(a.is<ScoreReply>());
  EXPECT_TRUE(b.is<ScoreReply>());
  EXPECT_TRUE(c.is<ScoreReply>());
  ASSERT_TRUE(d.is<Error>());
  EXPECT_EQ(d.as<Error>().code, ErrorCode::kNotLeader);
  EXPECT_EQ(d.as<Error>().leader, leader);
  const auto p = [](const std::vector<double>& v, double q) { return v[static_cast<size_t>(q * (v.size() - 1))]; };
  std::printf("[ measured ] get_score over one connection, %d each: linearizable at the leader p50 %.0f / p99 %.0f us; "
              "min_version at the leader p50 %.0f / p99 %.0f us; min_version at a follower p50 %.0f / p99 %.0f us\n",
              n, p(linearizable, 0.5), p(linearizable, 0.99), p(leader_local, 0.5), p(leader_local, 0.99),
              p(follower_local, 0.5), p(follower_local, 0.99));
}

}  // namespace
}  // namespace oly::testing
