// Gossip replication (`replication: gossip`; docs/gossip.md) on real processes: three gossip
// replicas, two front ends, Cacofonix and 50 tablets over CurveZMQ. Two replicas of three are
// killed (SIGKILL) under load and come back later: the one left goes on acknowledging updates, and
// verify/ judges the run as every run is (none lost, none twice, in order, fresh and monotonic
// reads). Afterwards the three replicas hold the same scores and tallies, and get_feed answers the
// same play-by-play on each.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "database/sqlite_store.h"
#include "tests/support/cluster.h"
#include "tests/support/judge.h"

namespace oly::testing {
namespace {

ProcessCluster gossip_cluster() {
  return ProcessCluster([](Config& c) {
    c.security = Security::kCurve;
    replicate(c, 3);
    c.replication = Replication::kGossip;
    c.tablets.read_interval_ms = 300;
    tolerate_descheduling(c);
  });
}

std::string rows(const Config& cfg, const std::string& replica) {
  database::SqliteStore store(cfg.database_file(replica));
  std::string out;
  for (const auto& s : store.scores()) out += s.event + "=" + std::to_string(s.gauls) + "-" + std::to_string(s.romans) + "v" + std::to_string(s.version) + " ";
  for (const auto& t : store.tallies()) {
    out += t.team + "=" + std::to_string(t.gold) + "/" + std::to_string(t.silver) + "/" + std::to_string(t.bronze) + " ";
  }
  return out;
}

TEST(GossipProcess, TwoReplicasOfThreeKilledUnderLoadAndNothingLost) {
  ProcessCluster cluster = gossip_cluster();
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  cluster.start_cacofonix({"--rate", "50", "--duration", "9", "--drain", "15"});
  cluster.start_tablets({"--count", "50", "--duration", "10"});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster.signal("db1", SIGKILL);
  cluster.wait("db1", ms(5000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cluster.signal("db2", SIGKILL);
  cluster.wait("db2", ms(5000));
  // One replica left for three seconds: updates must go on being acknowledged.
  const auto before = cluster.ask("db3", GetStats{});
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const auto after = cluster.ask("db3", GetStats{});
  ASSERT_TRUE(before && before->is<Stats>() && after && after->is<Stats>());
  const int64_t applied = after->as<Stats>().counters.at("updates_applied") - before->as<Stats>().counters.at("updates_applied");
  EXPECT_GE(applied, 50) << "the replica left took too few updates; " << cluster.log_tail("db3");
  ASSERT_TRUE(cluster.start_replica("db1"));
  ASSERT_TRUE(cluster.start_replica("db2"));
  ASSERT_EQ(cluster.wait("cacofonix", ms(60000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(30000)), 0) << cluster.log_tail("tablets");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last gossip rounds

  // get_feed is the same on every replica.
  std::string first;
  for (const char* db : {"db1", "db2", "db3"}) {
    const auto f = cluster.ask(db, GetFeed{});
    ASSERT_TRUE(f && f->is<FeedReply>()) << db;
    std::string text;
    for (const auto& i : f->as<FeedReply>().items) text += i.publisher + "/" + std::to_string(i.seq) + " ";
    EXPECT_FALSE(text.empty());
    if (first.empty()) first = text;
    EXPECT_EQ(text, first) << db;
  }
  for (const char* fe : {"fe1", "fe2"}) {
    cluster.signal(fe, SIGTERM);
    cluster.wait(fe, ms(5000));
  }
  for (const char* db : {"db1", "db2", "db3"}) {
    cluster.signal(db, SIGTERM);
    cluster.wait(db, ms(5000));
  }
  const std::string r1 = rows(cluster.config(), "db1");
  EXPECT_FALSE(r1.empty());
  EXPECT_EQ(rows(cluster.config(), "db2"), r1);
  EXPECT_EQ(rows(cluster.config(), "db3"), r1);
  const JudgedRun run = judge_run(cluster.config());
  expect_data_guarantees(run.report);
  EXPECT_GE(run.records.acks.size(), 400u) << cluster.log_tail("cacofonix");
  EXPECT_NE(cluster.log_tail("cacofonix", 5).find(", 0 unacknowledged"), std::string::npos) << cluster.log_tail("cacofonix");
}

}  // namespace
}  // namespace oly::testing
