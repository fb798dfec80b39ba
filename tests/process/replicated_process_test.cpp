// The replicated database tier with the real binaries on loopback: three replicas (Raft), two
// front ends, Cacofonix and tablets under load, while the database leader is killed with kill -9
// (in push and in pull), a follower is killed, or the leader is stopped (SIGSTOP) past the
// election timeout and continued. The checker (verify/) judges every run from what the processes
// recorded; each test also prints the failover window it saw (kill to Cacofonix's next ack).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "verify/check.h"
#include "verify/load.h"
#include "verify/report.h"
#include "tests/support/cluster.h"

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

// Waits for the clients, stops the front ends cleanly and judges the run.
void finish_and_check(ProcessCluster& cluster) {
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
  const verify::RunRecords records = verify::read_records(cluster.config());
  const verify::CheckReport report = verify::check_run(verify::check_input(cluster.config(), records, ms(50)));
  SCOPED_TRACE(verify::format_check(report));
  for (size_t g : {verify::kNoneLost, verify::kNoneTwice, verify::kInOrder, verify::kFreshReads,
                   verify::kMonotonicReads}) {
    EXPECT_EQ(report.verdicts[g].status, verify::Status::kPass) << report.verdicts[g].guarantee;
  }
  EXPECT_GT(records.acks.size(), 300u);
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

}  // namespace
}  // namespace oly::testing
