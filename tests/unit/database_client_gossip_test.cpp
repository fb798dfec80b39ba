// DatabaseClient in gossip mode (docs/gossip.md): reads to the least loaded live replica with the
// newest clock seen, everything else to the first live replica, the dead list, an update that one
// replica alone acknowledged kept and sent again after seq_gap, a partial answer asked again.
#include "dbclient/database_client.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

GetScore score_read() {
  GetScore g;
  g.event = "Curling";
  return g;
}

GetMedalTally tally_read() {
  GetMedalTally g;
  g.team = "Gauls";
  return g;
}

const TimePoint t0 = TimePoint(ms(10'000));

DatabaseClient gossip_client() {
  DatabaseClient c({"db1", "db2", "db3"});
  c.set_gossip(true);
  return c;
}

SetScore update(uint64_t seq) { return SetScore{"Curling", 1, 0, "p", seq, std::nullopt, 1, std::nullopt}; }

Ack ack(uint64_t seq, VectorStamp clock) {
  Ack a{"p", seq, "score/Curling", seq, false, std::nullopt, std::nullopt};
  a.clock = std::move(clock);
  return a;
}

TEST(DatabaseClientGossip, ReadsSpreadOverTheLeastLoadedReplicasAndTheRestGoToTheFirst) {
  DatabaseClient c = gossip_client();
  Effects out;
  for (uint64_t req = 1; req <= 3; ++req) c.send(req, score_read(), ms(900), t0, out);
  std::set<std::string> to;
  for (const auto& o : out.items()) to.insert(o.to);
  EXPECT_EQ(to, (std::set<std::string>{"db1", "db2", "db3"})) << "three reads in flight: one per replica";
  out.clear();
  c.send(4, update(1), ms(900), t0, out);
  c.send(5, ClaimMaster{"fe1", 1}, ms(900), t0, out);
  ASSERT_EQ(out.items().size(), 2u);
  EXPECT_EQ(out.items()[0].to, "db1");
  EXPECT_EQ(out.items()[1].to, "db1") << "mastership meets at the first live replica";
}

TEST(DatabaseClientGossip, ReadsCarryTheNewestClockItsAnswersCarried) {
  DatabaseClient c = gossip_client();
  Effects out;
  c.send(1, update(1), ms(900), t0, out);
  EXPECT_TRUE(c.on_reply("db1", Message{1, ack(1, {{"db1", 5}, {"db2", 2}})}, t0, out));
  c.send(2, score_read(), ms(900), t0, out);
  ScoreReply r;
  r.clock = VectorStamp{{"db2", 4}};
  EXPECT_TRUE(c.on_reply(out.items().back().to, Message{2, r}, t0, out));
  EXPECT_EQ(c.clock(), (VectorStamp{{"db1", 5}, {"db2", 4}})) << "the pointwise maximum";
  out.clear();
  c.send(3, tally_read(), ms(900), t0, out);
  ASSERT_EQ(out.items().size(), 1u);
  const auto& sent = std::get<GetMedalTally>(out.items()[0].msg.body);
  ASSERT_TRUE(sent.clock.has_value());
  EXPECT_EQ(*sent.clock, (VectorStamp{{"db1", 5}, {"db2", 4}}));
  c.merge_clock({{"db3", 7}});
  EXPECT_EQ(c.clock().at("db3"), 7u) << "an invalidation's clock counts too";
  // The whole board too (get_scoreboard), and its answer's clock counts.
  out.clear();
  c.send(4, GetScoreboard{}, ms(900), t0, out);
  ASSERT_EQ(out.items().size(), 1u);
  const auto& board = std::get<GetScoreboard>(out.items()[0].msg.body);
  ASSERT_TRUE(board.clock.has_value());
  EXPECT_EQ(*board.clock, (VectorStamp{{"db1", 5}, {"db2", 4}, {"db3", 7}}));
  Scoreboard answer;
  answer.clock = VectorStamp{{"db1", 9}};
  EXPECT_TRUE(c.on_reply(out.items()[0].to, Message{4, answer}, t0, out));
  EXPECT_EQ(c.clock().at("db1"), 9u);
}

TEST(DatabaseClientGossip, ADeadReplicaIsSkippedUntilHeardFromOrASecondPassed) {
  DatabaseClient c = gossip_client();
  Effects out;
  c.lost("db1", t0, out);
  EXPECT_FALSE(c.live(0, t0));
  c.send(1, update(1), ms(900), t0, out);
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db2") << "the first live replica";
  // An attempt db2 lets time out with nothing heard: db2 joins the dead list, db3 is asked.
  out.clear();
  c.tick(t0 + ms(300), out);
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db3");
  EXPECT_FALSE(c.live(1, t0 + ms(300)));
  c.heard("db1", t0 + ms(400));
  EXPECT_TRUE(c.live(0, t0 + ms(400))) << "heard from again";
  EXPECT_TRUE(c.live(1, t0 + ms(300) + DatabaseClient::kDeadRetry)) << "tried again after a second";
}

TEST(DatabaseClientGossip, AfterSeqGapTheUpdatesOneReplicaAloneAcknowledgedGoFirst) {
  DatabaseClient c = gossip_client();
  Effects out;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    c.send(seq, update(seq), ms(900), t0, out);
    EXPECT_TRUE(c.on_reply("db1", Message{seq, ack(seq, {{"db1", seq}})}, t0, out));
  }
  // db2's read answer shows it has db1's first entry: update 1 is no longer kept.
  c.send(9, score_read(), ms(900), t0, out);
  ScoreReply r;
  r.clock = VectorStamp{{"db1", 1}};
  EXPECT_TRUE(c.on_reply("db2", Message{9, r}, t0, out));
  EXPECT_EQ(c.retained(), 2u);
  c.lost("db1", t0, out);
  out.clear();
  c.send(4, update(4), ms(900), t0, out);
  ASSERT_EQ(out.items().size(), 1u);
  const std::string to = out.items()[0].to;
  EXPECT_EQ(to, "db2");
  out.clear();
  EXPECT_FALSE(c.on_reply(to, Message{4, make_error(ErrorCode::kSeqGap, "expects 2")}, t0, out)) << "consumed";
  ASSERT_EQ(out.items().size(), 3u) << "updates 2 and 3, then 4 again";
  EXPECT_EQ(std::get<SetScore>(out.items()[0].msg.body).seq, 2u);
  EXPECT_EQ(std::get<SetScore>(out.items()[1].msg.body).seq, 3u);
  EXPECT_EQ(std::get<SetScore>(out.items()[2].msg.body).seq, 4u);
  EXPECT_EQ(out.items()[2].msg.req, 4u);
  for (const auto& o : out.items()) EXPECT_EQ(o.to, "db2");
  const uint64_t own = out.items()[0].msg.req;
  EXPECT_GE(own, DatabaseClient::kOwnReq);
  EXPECT_TRUE(c.owns(own));
  EXPECT_FALSE(c.on_reply("db2", Message{own, ack(2, {{"db1", 3}, {"db2", 1}})}, t0, out)) << "its own: consumed";
  out.clear();
  EXPECT_TRUE(c.on_reply("db2", Message{4, make_error(ErrorCode::kSeqGap, "still")}, t0, out))
      << "only once: a second seq_gap is the caller's";
  EXPECT_TRUE(out.items().empty());
  // The other kept update sent again got no answer: forgotten after the update's share of its
  // timeout, never sent anywhere else.
  const uint64_t unanswered = own + 1;
  EXPECT_TRUE(c.owns(unanswered));
  c.tick(t0 + ms(300), out);
  EXPECT_FALSE(c.owns(unanswered));
  EXPECT_TRUE(out.items().empty());
}

TEST(DatabaseClientGossip, APartialAnswerIsAskedOfEveryOtherLiveReplicaBeforeItIsTaken) {
  DatabaseClient c = gossip_client();
  Effects out;
  c.send(1, score_read(), ms(900), t0, out);
  std::set<std::string> asked{out.items()[0].to};
  ScoreReply partial;
  partial.partial = true;
  for (int k = 0; k < 2; ++k) {
    const std::string from = out.items().back().to;
    out.clear();
    EXPECT_FALSE(c.on_reply(from, Message{1, partial}, t0, out));
    ASSERT_EQ(out.items().size(), 1u);
    EXPECT_FALSE(asked.count(out.items()[0].to)) << "a replica not asked yet";
    asked.insert(out.items()[0].to);
  }
  out.clear();
  EXPECT_TRUE(c.on_reply(*asked.rbegin(), Message{1, partial}, t0, out)) << "every replica said partial: taken";
  EXPECT_EQ(c.partial_reads(), 3);
}

TEST(DatabaseClientGossip, AReplicaThatJoinedIsLearntAndTakesReadsAndOneRemovedIsNot) {
  DatabaseClient c = gossip_client();
  Effects out;
  Members m;
  m.members = {{"db1", "tcp://h:1", "gossip", std::nullopt}, {"db2", "tcp://h:2", "gossip", std::nullopt},
               {"db3", "tcp://h:3", "gossip", std::nullopt}, {"db4", "tcp://h:4", "gossip", std::nullopt}};
  m.index = 4;
  c.learn(m, out);
  EXPECT_EQ(c.replicas(), (std::vector<std::string>{"db1", "db2", "db3", "db4"}));
  ASSERT_EQ(out.connects().size(), 1u);
  EXPECT_EQ(out.connects()[0], (std::pair<std::string, std::string>{"db4", "tcp://h:4"}));
  out.clear();
  for (uint64_t req = 1; req <= 4; ++req) c.send(req, score_read(), ms(900), t0, out);
  std::set<std::string> to;
  for (const auto& o : out.items()) to.insert(o.to);
  EXPECT_EQ(to.count("db4"), 1u) << "four reads in flight: one on the new replica";
  out.clear();
  c.send(5, update(1), ms(900), t0, out);
  EXPECT_EQ(out.items().at(0).to, "db1") << "updates still go to the first live replica";
  // An older or shorter list changes nothing: members only join a gossip tier.
  m.members.pop_back();
  m.index = 3;
  c.learn(m, out);
  EXPECT_EQ(c.replicas().size(), 4u);
  // The new replica has its share of the dead list: its connection closes, reads avoid it.
  c.lost("db4", t0, out);
  EXPECT_FALSE(c.live(3, t0));
  // A replica removed (no longer listed, a newer list) is never chosen again.
  m.members = {{"db1", "tcp://h:1", "gossip", std::nullopt}, {"db3", "tcp://h:3", "gossip", std::nullopt},
               {"db4", "tcp://h:4", "gossip", std::nullopt}};
  m.index = 5;
  c.learn(m, out);
  EXPECT_FALSE(c.live(1, t0 + ms(5000)));
  EXPECT_TRUE(c.live(3, t0 + ms(5000))) << "db4's dead-list time is over";
  out.clear();
  for (uint64_t req = 10; req <= 15; ++req) c.send(req, score_read(), ms(900), t0 + ms(5000), out);
  for (const auto& o : out.items()) EXPECT_NE(o.to, "db2");
}

}  // namespace
}  // namespace oly
