// Gossip replication (`replication: gossip`; docs/gossip.md) on real processes: three gossip
// replicas, two front ends, Cacofonix and 50 tablets over CurveZMQ. Two replicas of three are
// killed (SIGKILL) under load and come back later: the one left goes on acknowledging updates, and
// verify/ judges the run as every run is (none lost, none twice, in order, fresh and monotonic
// reads). Afterwards the three replicas hold the same scores and tallies, and get_feed answers the
// same play-by-play on each. A fourth replica joins under load and serves. Two publishers write
// the same events at once and every replica ends with each event's last-written score. Board reads
// at either front end show every acknowledged update while the replicas disagree.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "database/sqlite_store.h"
#include "tests/support/cluster.h"
#include "tests/support/feed_writes.h"
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

// Stops the front ends, then `replicas`; each must hold the rows the first holds, and verify/'s
// data guarantees must hold with every update acknowledged.
JudgedRun stop_and_judge(ProcessCluster& cluster, const std::vector<std::string>& replicas) {
  for (const char* fe : {"fe1", "fe2"}) {
    cluster.signal(fe, SIGTERM);
    cluster.wait(fe, ms(5000));
  }
  for (const auto& db : replicas) {
    cluster.signal(db, SIGTERM);
    cluster.wait(db, ms(5000));
  }
  const std::string first = rows(cluster.config(), replicas.front());
  EXPECT_FALSE(first.empty());
  for (const auto& db : replicas) EXPECT_EQ(rows(cluster.config(), db), first) << db;
  JudgedRun run = judge_run(cluster.config());
  expect_data_guarantees(run.report);
  EXPECT_NE(cluster.log_tail("cacofonix", 5).find(", 0 unacknowledged"), std::string::npos) << cluster.log_tail("cacofonix");
  return run;
}

// The cluster started under load: Cacofonix at 50 updates/s for 9 s, 50 tablets for 10 s.
void start_under_load(ProcessCluster& cluster) {
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  cluster.start_cacofonix({"--rate", "50", "--duration", "9", "--drain", "15"});
  cluster.start_tablets({"--count", "50", "--duration", "10"});
}

// The replicas, with the gossip cut `cut` (OLY_DEBUG_GOSSIP_CUT, read by each at its start), and
// the two front ends.
void start_with_cut(ProcessCluster& cluster, const char* cut) {
  ::setenv("OLY_DEBUG_GOSSIP_CUT", cut, 1);
  const bool started = cluster.start_database();
  ::unsetenv("OLY_DEBUG_GOSSIP_CUT");
  ASSERT_TRUE(started);
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
}

TEST(GossipProcess, TwoReplicasOfThreeKilledUnderLoadAndNothingLost) {
  ProcessCluster cluster = gossip_cluster();
  start_under_load(cluster);
  if (::testing::Test::HasFatalFailure()) return;
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
  const JudgedRun run = stop_and_judge(cluster, {"db1", "db2", "db3"});
  EXPECT_GE(run.records.acks.size(), 400u) << cluster.log_tail("cacofonix");
}

// Membership on real processes: db4 joins the running tier under load through db2 (database
// --join), is killed and restarted without --join (its file says it is a member); every replica
// and front end knows it, it answers reads, and afterwards it holds the same rows as the others.
TEST(GossipProcess, AReplicaJoinsUnderLoadAndServes) {
  ProcessCluster cluster = gossip_cluster();
  start_under_load(cluster);
  if (::testing::Test::HasFatalFailure()) return;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(cluster.join_replica("db4", "db2")) << cluster.log_tail("db4") << cluster.log_tail("db2");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster.signal("db4", SIGKILL);
  cluster.wait("db4", ms(5000));
  ASSERT_TRUE(cluster.start_replica("db4")) << cluster.log_tail("db4");
  ASSERT_EQ(cluster.wait("cacofonix", ms(60000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(30000)), 0) << cluster.log_tail("tablets");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last gossip rounds
  for (const char* db : {"db1", "db3", "db4"}) {
    const auto st = cluster.ask(db, GetStats{});
    ASSERT_TRUE(st && st->is<Stats>()) << db;
    EXPECT_EQ(st->as<Stats>().info.at("members"), "db1,db2,db3,db4") << db;
  }
  for (const char* fe : {"fe1", "fe2"}) {
    const auto st = cluster.ask(fe, GetStats{});
    ASSERT_TRUE(st && st->is<Stats>()) << fe;
    EXPECT_EQ(st->as<Stats>().info.at("database_replicas"), "db1,db2,db3,db4") << fe << " did not learn db4";
  }
  GetScore read;
  read.event = cluster.config().events.front();
  const auto answer = cluster.ask("db4", read);
  ASSERT_TRUE(answer && answer->is<ScoreReply>()) << "db4 does not serve reads; " << cluster.log_tail("db4");
  stop_and_judge(cluster, {"db1", "db2", "db3", "db4"});
}

// Concurrent writers on real processes (docs/gossip.md): a second Cacofonix ("bard", its own run
// directory for its ack log) writes the same events as the first, at once, while db1, where the
// master writes, exchanges no gossip with the others (OLY_DEBUG_GOSSIP_CUT, for the first 5 s);
// both finish inside the cut, so the others take db1's entries in one batch after it, publisher
// by publisher, in another order than db1 applied them. Afterwards every replica holds the same
// rows, each event's score is the set_score with the greatest (written_at_us, publisher, seq) in
// the play-by-play, each replica applied every update of both publishers, and verify/ judges the
// run on each replica's own record (docs/gossip.md). Fails without the rule (db2's rows differ
// from db1's).
TEST(GossipProcess, TwoPublishersAtOnceEndWithTheLastWrittenScoreEverywhere) {
  ProcessCluster cluster = gossip_cluster();
  ASSERT_NO_FATAL_FAILURE(start_with_cut(cluster, "db1@0+5000"));
  const std::string second = cluster.run_file("second");
  std::filesystem::create_directories(second);
  std::filesystem::create_directory_symlink(cluster.run_file(cluster.config().keys_dir), second + "/" + cluster.config().keys_dir);
  const std::vector<std::string> load = {"--rate", "60", "--duration", "2", "--drain", "15"};
  cluster.start_cacofonix(load);
  std::vector<std::string> bard = load;
  for (const char* a : {"--run-dir", second.c_str(), "--seed", "77"}) bard.emplace_back(a);
  cluster.start_cacofonix(bard, "bard");
  cluster.start_tablets({"--count", "20", "--duration", "4"});
  ASSERT_EQ(cluster.wait("cacofonix", ms(60000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("bard", ms(60000)), 0) << cluster.log_tail("bard");
  // The cut ends 5 s after the replicas started; the others then take db1's entries.
  const auto caught_up = [&] {
    const auto a = cluster.ask("db1", GetStats{});
    const auto b = cluster.ask("db2", GetStats{});
    const auto c = cluster.ask("db3", GetStats{});
    return a && b && c && a->is<Stats>() && b->is<Stats>() && c->is<Stats>() &&
           a->as<Stats>().info.at("clock") == b->as<Stats>().info.at("clock") &&
           a->as<Stats>().info.at("clock") == c->as<Stats>().info.at("clock");
  };
  for (int i = 0; i < 200 && !caught_up(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(cluster.wait("tablets", ms(30000)), 0) << cluster.log_tail("tablets");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the last applies
  stop_and_judge(cluster, {"db1", "db2", "db3"});

  database::SqliteStore store(cluster.config().database_file("db2"));
  const FeedWrites writes = feed_writes(store);
  ASSERT_EQ(writes.undecodable, 0u);
  const size_t items = writes.items;
  const auto& last = writes.last;
  ASSERT_LT(items, 1000u) << "the feed keeps the last 1,000 updates: the test needs all of them";
  ASSERT_FALSE(last.empty());
  for (const auto& [event, w] : last) {
    const Score s = store.score(event);
    EXPECT_EQ(std::to_string(s.gauls) + "-" + std::to_string(s.romans), std::to_string(w.gauls) + "-" + std::to_string(w.romans))
        << event << " v" << s.version << ": " << w.publisher << " seq " << w.seq << " wrote last";
  }
  const auto seqs = store.last_seqs();
  ASSERT_EQ(seqs.size(), 2u) << "both publishers' updates applied";
  for (const auto& [publisher, n] : seqs) EXPECT_GE(n, 100u) << publisher;
  for (const char* who : {"cacofonix", "bard"}) {
    EXPECT_NE(cluster.log_tail(who, 5).find(", 0 unacknowledged"), std::string::npos) << cluster.log_tail(who);
  }
}

// The whole board while the replicas disagree (docs/gossip.md "Reads"): db1, where the master
// writes every update, exchanges no gossip (OLY_DEBUG_GOSSIP_CUT, for the first 30 s), so db2 and
// db3 lack every update. No tablet reads, so the front end that is not master has heard of no
// update. A get_scoreboard at either front end must still show every acknowledged update, not
// partial: the master's read carries its clock (a replica lacking the updates says partial and the
// master asks db1), and the other front end asks the master. A board read at each front end
// before the updates makes the next go to db2 (reads rotate over the replicas from the first).
// Without the forward to the master, the other front end's first read after the updates shows
// none of them; without the clock on board reads, the master's shows none either.
TEST(GossipProcess, BoardReadsAtEitherFrontEndShowEveryAckWhileTheReplicasDisagree) {
  ProcessCluster cluster = gossip_cluster();
  ASSERT_NO_FATAL_FAILURE(start_with_cut(cluster, "db1@0+30000"));
  const auto text = [](const Scoreboard& b) {
    std::string out;
    for (const auto& s : b.scores) out += s.event + "=" + std::to_string(s.gauls) + "-" + std::to_string(s.romans) + "v" + std::to_string(s.version) + " ";
    for (const auto& t : b.tallies) {
      out += t.team + "=" + std::to_string(t.gold) + "/" + std::to_string(t.silver) + "/" + std::to_string(t.bronze) + "v" + std::to_string(t.version) + " ";
    }
    return out;
  };
  const auto board_of = [&](const std::string& node) -> std::optional<Scoreboard> {
    const auto m = cluster.ask(node, GetScoreboard{}, ms(5000));
    if (!m || !m->is<Scoreboard>()) return std::nullopt;
    return m->as<Scoreboard>();
  };
  // One board read at each front end before any update: the next goes to another replica (reads
  // rotate over the replicas from the first), one that will lack the updates.
  for (const char* fe : {"fe1", "fe2"}) ASSERT_TRUE(board_of(fe)) << fe;
  cluster.start_cacofonix({"--rate", "50", "--duration", "2", "--drain", "10"});
  ASSERT_EQ(cluster.wait("cacofonix", ms(30000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_NE(cluster.log_tail("cacofonix", 5).find(", 0 unacknowledged"), std::string::npos) << cluster.log_tail("cacofonix");
  const auto all = board_of("db1");
  const auto behind = board_of("db2");
  ASSERT_TRUE(all && behind);
  ASSERT_NE(text(*all), text(*behind)) << "db2 has db1's updates: the cut did not hold, and the test judges nothing";
  for (const char* fe : {"fe1", "fe2"}) {
    for (int i = 0; i < 6; ++i) {
      const auto board = board_of(fe);
      ASSERT_TRUE(board) << fe;
      EXPECT_FALSE(board->partial.value_or(false)) << fe;
      EXPECT_EQ(text(*board), text(*all)) << fe << " read " << i;
    }
  }
}

}  // namespace
}  // namespace oly::testing
