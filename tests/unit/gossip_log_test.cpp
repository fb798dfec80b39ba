// The lazy (gossip) mode's pure pieces (issue 18): vector timestamps and the update log. Three
// replicas accept updates, some of them twice (a front end resending to another replica),
// exchange gossip over a lossy, reordering network, and must end with the same updates applied,
// each once, each publisher's in seq order, the same feed, and an empty log once every replica
// has told the others its clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "gossip/update_log.h"

namespace oly::gossip {
namespace {

using Order = VectorClock::Order;

TEST(VectorClock, CoversComparesAndMerges) {
  VectorClock a({{"db1", 2}, {"db2", 1}});
  VectorClock b({{"db1", 1}, {"db2", 1}, {"db3", 0}});
  EXPECT_TRUE(a.covers(b));
  EXPECT_FALSE(b.covers(a));
  EXPECT_EQ(VectorClock::compare(b, a), Order::kBefore);
  EXPECT_EQ(VectorClock::compare(a, b), Order::kAfter);
  EXPECT_EQ(b.text(), "db1:1 db2:1") << "a zero entry is not kept";
  VectorClock c({{"db3", 4}});
  EXPECT_EQ(VectorClock::compare(a, c), Order::kConcurrent);
  c.merge(a);
  EXPECT_EQ(c.text(), "db1:2 db2:1 db3:4");
  EXPECT_EQ(VectorClock::compare(c, VectorClock({{"db3", 4}, {"db2", 1}, {"db1", 2}})), Order::kEqual);
}

TEST(UpdateLog, AcceptsAnIdOnceAndStampsItsCausalPast) {
  UpdateLog db1("db1"), db2("db2");
  const auto u = db1.accept({"p", 1}, "a");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->ts.text(), "db1:1");
  EXPECT_FALSE(db1.accept({"p", 1}, "a")) << "known: the stored result answers a resend";
  db2.receive({*u});
  const auto v = db2.accept({"p", 2}, "b");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->ts.text(), "db1:1 db2:1") << "db2 had seen p/1 when it accepted p/2";
  EXPECT_EQ(VectorClock::compare(u->ts, v->ts), Order::kBefore);
}

TEST(UpdateLog, TakesEachOriginInOrderAndHoldsWhatComesPastAGap) {
  UpdateLog db1("db1"), db2("db2");
  const auto a = *db1.accept({"p", 1}, "a");
  const auto b = *db1.accept({"p", 2}, "b");
  EXPECT_TRUE(db2.receive({b}).empty()) << "db1's second before its first: held";
  EXPECT_EQ(db2.held(), 1u);
  EXPECT_EQ(db2.clock().at("db1"), 0u);
  EXPECT_EQ(db2.receive({a}).size(), 2u);
  EXPECT_EQ(db2.clock().text(), "db1:2");
  EXPECT_EQ(db2.held(), 0u);
  EXPECT_TRUE(db2.receive({a, b}).empty()) << "gossip that comes twice changes nothing";
  EXPECT_EQ(db1.missing_for(db2.clock()).size(), 0u);
  EXPECT_EQ(db1.missing_for(VectorClock({{"db1", 1}})), (std::vector<LogEntry>{b}));
}

TEST(UpdateLog, AppliesEachPublishersSeqsInOrderAndAnUpdateTakenTwiceOnce) {
  UpdateLog db1("db1"), db2("db2"), db3("db3");
  const auto p2 = *db1.accept({"p", 2}, "second");
  EXPECT_TRUE(db1.take_applicable().empty()) << "p/2 waits for p/1";
  // p/1 reached db2 and, resent, db3: two entries of one update.
  const auto p1 = *db2.accept({"p", 1}, "first");
  const auto p1_again = *db3.accept({"p", 1}, "first");
  db1.receive({p1, p1_again});
  const auto applied = db1.take_applicable();
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0].id, (UpdateId{"p", 1}));
  EXPECT_EQ(applied[1].id, (UpdateId{"p", 2}));
  EXPECT_TRUE(db1.take_applicable().empty());
  EXPECT_EQ(db1.clock().text(), "db1:1 db2:1 db3:1") << "both entries count in the clock";
  (void)p2;
}

TEST(UpdateLog, CollectsOnlyWhatEveryMemberHasAndADownMemberHoldsIt) {
  UpdateLog db1("db1");
  db1.accept({"p", 1}, "a");
  db1.accept({"p", 2}, "b");
  db1.take_applicable();
  const std::vector<std::string> members = {"db1", "db2", "db3"};
  std::map<std::string, VectorClock> clocks = {{"db1", db1.clock()}, {"db2", VectorClock({{"db1", 2}})}};
  EXPECT_EQ(db1.collect(members, clocks).size(), 0u) << "db3 said nothing: it may be down";
  clocks["db3"] = VectorClock({{"db1", 1}});
  EXPECT_EQ(db1.collect(members, clocks).size(), 1u) << "only p/1 is everywhere";
  EXPECT_EQ(db1.size(), 1u);
  clocks["db3"] = VectorClock({{"db1", 2}});
  EXPECT_EQ(db1.collect(members, clocks).size(), 1u);
  EXPECT_EQ(db1.size(), 0u);
  EXPECT_FALSE(db1.accept({"p", 2}, "b")) << "collected, still known: never applied twice";
  EXPECT_TRUE(db1.applied({"p", 2}));
}

// Three replicas, two publishers; each update is accepted by a random replica and a fifth of
// them again by another; gossip between random pairs loses and reorders entries. After a last
// full exchange every replica must hold the same: checked over many seeds.
TEST(UpdateLog, ReplicasConvergeOverALossyNetworkWithEveryUpdateAppliedOnce) {
  const std::vector<std::string> names = {"db1", "db2", "db3"};
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<UpdateLog> logs;
    for (const auto& n : names) logs.emplace_back(n);
    std::vector<std::vector<LogEntry>> applied(3);
    std::map<std::string, uint64_t> next_seq = {{"p", 1}, {"q", 1}};
    const auto apply_all = [&](size_t i) {
      for (auto& e : logs[i].take_applicable()) applied[i].push_back(e);
    };
    const auto gossip = [&](size_t from, size_t to, bool lossy) {
      auto entries = logs[from].missing_for(logs[to].clock());
      std::shuffle(entries.begin(), entries.end(), rng);
      if (lossy) std::erase_if(entries, [&](const LogEntry&) { return rng() % 4 == 0; });
      logs[to].receive(std::move(entries));
      apply_all(to);
    };
    for (int step = 0; step < 120; ++step) {
      if (rng() % 2 == 0) {
        const std::string pub = rng() % 2 ? "p" : "q";
        const UpdateId id{pub, next_seq[pub]++};
        const size_t at = rng() % 3;
        logs[at].accept(id, pub + std::to_string(id.seq));
        apply_all(at);
        if (rng() % 5 == 0) {
          const size_t again = (at + 1 + rng() % 2) % 3;
          logs[again].accept(id, pub + std::to_string(id.seq));
          apply_all(again);
        }
      } else {
        const size_t a = rng() % 3, b = (a + 1 + rng() % 2) % 3;
        gossip(a, b, true);
      }
    }
    for (int round = 0; round < 2; ++round) {
      for (size_t a = 0; a < 3; ++a) {
        for (size_t b = 0; b < 3; ++b) {
          if (a != b) gossip(a, b, false);
        }
      }
    }
    const uint64_t total = next_seq["p"] - 1 + next_seq["q"] - 1;
    for (size_t i = 0; i < 3; ++i) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", " + names[i]);
      ASSERT_EQ(logs[i].clock(), logs[0].clock());
      ASSERT_EQ(applied[i].size(), total) << "every update applied, none twice";
      std::map<std::string, uint64_t> last;
      for (const auto& e : applied[i]) {
        ASSERT_EQ(e.id.seq, last[e.id.publisher] + 1) << "a publisher's seqs in order";
        last[e.id.publisher] = e.id.seq;
      }
      ASSERT_EQ(logs[i].feed(1000), logs[0].feed(1000)) << "the same feed everywhere";
      ASSERT_EQ(logs[i].held(), 0u);
    }
    // Every replica tells the others its clock: the log empties.
    std::map<std::string, VectorClock> clocks;
    for (size_t i = 0; i < 3; ++i) clocks[names[i]] = logs[i].clock();
    for (auto& log : logs) {
      log.collect(names, clocks);
      ASSERT_EQ(log.size(), 0u) << "seed " << seed;
    }
  }
}

TEST(UpdateLog, TheFeedIsACausalOrder) {
  UpdateLog db1("db1"), db2("db2");
  const auto a = *db1.accept({"p", 1}, "a");
  db2.receive({a});
  db2.accept({"q", 1}, "b");  // after a, at db2
  db1.accept({"r", 1}, "c");  // concurrent with b
  db1.receive(db2.missing_for(db1.clock()));
  db2.receive(db1.missing_for(db2.clock()));
  db1.take_applicable();
  db2.take_applicable();
  const auto feed = db1.feed(10);
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_EQ(feed[0].id, (UpdateId{"p", 1}));
  EXPECT_EQ(feed, db2.feed(10));
  EXPECT_EQ(db1.feed(2).size(), 2u);
  EXPECT_EQ(db1.feed(2).back(), feed.back()) << "the latest";
}

}  // namespace
}  // namespace oly::gossip
