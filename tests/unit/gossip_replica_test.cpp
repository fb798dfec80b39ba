// GossipReplicaCore on its own (gossip/replica_core.h): an update applied and acknowledged at once
// with the replica's clock and kept across a restart; the fencing rules; an update past its
// publisher's gap parked until gossip brings the gap, or answered seq_gap; a read for a clock not
// reached held until gossip brings it, or answered partial once the replica holding the rest is
// silent; gossip taken, applied and collected; the master row and homes spreading; the feed; a
// seed's refusals and a joiner taking its state in parts (and the state copy on its own); a
// member removed; concurrent set_scores of two publishers ending the same on both replicas.
#include "gossip/replica_core.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "database/sqlite_store.h"

namespace oly::gossip {
namespace {

GetScore score_read() {
  GetScore g;
  g.event = "Curling";
  return g;
}

GetFeed feed_of(std::string event) {
  GetFeed f;
  f.event = std::move(event);
  return f;
}

Config gossip_config() {
  Config c;
  c.database.replicas = {{"db1", "tcp://127.0.0.1:9120"}, {"db2", "tcp://127.0.0.1:9121"}, {"db3", "tcp://127.0.0.1:9122"}};
  c.replication = Replication::kGossip;
  return c;
}

SetScore score(uint64_t seq, int64_t gauls, uint64_t epoch = 1) {
  return SetScore{"Curling", gauls, 0, "p", seq, std::nullopt, epoch, std::nullopt};
}

struct Replica {
  Replica(const std::string& id, database::SqliteStore& store, VirtualClock& clock)
      : core(gossip_config(), id, store, clock, clock.now()), clock(clock) {}
  // One step: `body` from `from`, then the batch end; what went out.
  std::vector<Effects::Out> step(const std::string& from, Body body, bool notice = false) {
    Effects out;
    core.on_message(from, Message{++req, std::move(body)}, notice, clock.now(), out);
    core.on_batch_end(clock.now(), out);
    return out.items();
  }
  std::vector<Effects::Out> tick() {
    Effects out;
    core.on_tick(clock.now(), out);
    return out.items();
  }
  GossipReplicaCore core;
  VirtualClock& clock;
  uint64_t req = 0;
};

template <class T>
std::optional<T> reply_of(const std::vector<Effects::Out>& out, const std::string& to = "fe1") {
  for (const auto& o : out) {
    if (o.to == to && std::holds_alternative<T>(o.msg.body)) return std::get<T>(o.msg.body);
  }
  return std::nullopt;
}

// Everything `from` would gossip to `to` now (its periodic round).
Gossip gossip_from(Replica& from, const std::string& to) {
  from.clock.advance(ms(100));
  for (auto& o : from.tick()) {
    if (o.to == to && std::holds_alternative<Gossip>(o.msg.body)) return std::get<Gossip>(o.msg.body);
  }
  return {};
}

class GossipReplica : public ::testing::Test {
 protected:
  void SetUp() override {
    db1 = std::make_unique<Replica>("db1", s1, clock);
    db2 = std::make_unique<Replica>("db2", s2, clock);
    ASSERT_TRUE(reply_of<MasterInfo>(db1->step("fe1", ClaimMaster{"fe1", 1})));
  }
  VirtualClock clock;
  database::SqliteStore s1{":memory:"}, s2{":memory:"};
  std::unique_ptr<Replica> db1, db2;
};

TEST_F(GossipReplica, AnUpdateIsAppliedAndAcknowledgedAtOnceWithTheClockAndSurvivesARestart) {
  auto a = reply_of<Ack>(db1->step("fe1", score(1, 3)));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->version, 1u);
  ASSERT_TRUE(a->clock);
  EXPECT_EQ(*a->clock, (VectorStamp{{"db1", 1}}));
  EXPECT_EQ(s1.score("Curling").gauls, 3);
  db1 = std::make_unique<Replica>("db1", s1, clock);  // a restart over the same file
  EXPECT_EQ(db1->core.log().clock().text(), "db1:1");
  EXPECT_EQ(db1->core.log().size(), 1u) << "kept until every replica has it";
  auto again = reply_of<Ack>(db1->step("fe1", score(1, 3)));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate) << "a resend is answered with the stored result";
}

TEST_F(GossipReplica, AnOlderEpochIsFencedAndANewerOneFromAFrontEndIsTakenAsTheMaster) {
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(1, 3))));
  auto e = reply_of<Error>(db1->step("fe1", score(2, 4, 0)));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::kFenced);
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe2", score(2, 4, 2)), "fe2")) << "fe2 claimed epoch 2 elsewhere";
  EXPECT_EQ(s1.master().frontend, "fe2");
  EXPECT_EQ(s1.master().epoch, 2u);
  EXPECT_EQ(reply_of<Error>(db1->step("fe1", score(3, 5, 1)))->code, ErrorCode::kFenced) << "fe1 is deposed";
}

TEST_F(GossipReplica, AnUpdatePastAGapWaitsForGossipOrIsAnsweredSeqGap) {
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(1, 3))));
  // db2 gets seq 2 before it has seq 1: parked, not answered.
  auto out = db2->step("fe1", score(2, 4));
  EXPECT_FALSE(reply_of<Ack>(out));
  EXPECT_FALSE(reply_of<Error>(out));
  // db1's gossip brings seq 1: both are applied, seq 2 is acknowledged.
  out = db2->step("db1", gossip_from(*db1, "db2"));
  auto a = reply_of<Ack>(out);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->seq, 2u);
  EXPECT_EQ(a->version, 2u);
  EXPECT_EQ(s2.score("Curling").gauls, 4);
  // Seq 4 with 3 nowhere: seq_gap once it waited four gossip intervals.
  EXPECT_FALSE(reply_of<Error>(db2->step("fe1", score(4, 6))));
  clock.advance(ms(4 * gossip_config().gossip_interval_ms));
  auto e = reply_of<Error>(db2->tick());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::kSeqGap);
  EXPECT_NE(e->error.find("expects 3"), std::string::npos) << e->error;
}

TEST_F(GossipReplica, AReadWaitsForTheClockItCarriesOrSaysPartialWhenTheHolderIsSilent) {
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(1, 3))));
  GetScore read = score_read();
  read.clock = VectorStamp{{"db1", 1}};
  EXPECT_FALSE(reply_of<ScoreReply>(db2->step("fe2", read), "fe2")) << "db2 has not seen db1's update";
  auto out = db2->step("db1", gossip_from(*db1, "db2"));
  auto r = reply_of<ScoreReply>(out, "fe2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->score.gauls, 3);
  EXPECT_FALSE(r->partial.value_or(false));
  // An update db3 has that nobody else does, and db3 silent for a heartbeat timeout: partial.
  read.clock = VectorStamp{{"db3", 1}};
  clock.advance(ms(gossip_config().heartbeat.timeout_ms));
  r = reply_of<ScoreReply>(db2->step("fe2", read), "fe2");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->partial.value_or(false));
  EXPECT_EQ(r->score.gauls, 3) << "what it has";
  // The whole board waits the same way, and says partial the same way (db1 heard from again
  // first: it is not silent).
  db2->step("db1", gossip_from(*db1, "db2"));
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(2, 4))));
  GetScoreboard board;
  board.clock = VectorStamp{{"db1", 2}};
  EXPECT_FALSE(reply_of<Scoreboard>(db2->step("fe2", board), "fe2")) << "db2 has not seen db1's second update";
  auto b = reply_of<Scoreboard>(db2->step("db1", gossip_from(*db1, "db2")), "fe2");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->partial.value_or(false));
  ASSERT_TRUE(b->clock);
  EXPECT_EQ(b->clock->at("db1"), 2u);
  const auto curling = std::find_if(b->scores.begin(), b->scores.end(), [](const Score& s) { return s.event == "Curling"; });
  ASSERT_NE(curling, b->scores.end());
  EXPECT_EQ(curling->gauls, 4);
  board.clock = VectorStamp{{"db3", 1}};
  b = reply_of<Scoreboard>(db2->step("fe2", board), "fe2");
  ASSERT_TRUE(b) << "db3 is silent: answered at once";
  EXPECT_TRUE(b->partial.value_or(false));
}

TEST_F(GossipReplica, GossipSpreadsUpdatesTheMasterAndHomesAndTheLogIsCollected) {
  for (uint64_t seq = 1; seq <= 3; ++seq) EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(seq, int64_t(seq)))));
  EXPECT_TRUE(reply_of<TabletHome>(db1->step("fe1", AssignHome{"t1", {"fe1", "fe2"}})));
  db2->step("db1", gossip_from(*db1, "db2"));
  EXPECT_EQ(s2.score("Curling").gauls, 3);
  EXPECT_EQ(s2.score("Curling").version, 3u);
  EXPECT_EQ(s2.master().frontend, "fe1");
  EXPECT_EQ(s2.home("t1").value_or(""), "fe1");
  EXPECT_EQ(db2->core.applied_clock().text(), "db1:3");
  // Once db1 has heard every member's clock covering its entries, they go.
  db1->step("db2", gossip_from(*db2, "db1"));
  EXPECT_EQ(db1->core.log().size(), 3u) << "db3 has said nothing: it holds collection back";
  Gossip from3;
  from3.clock = VectorStamp{{"db1", 3}};
  db1->step("db3", from3);
  EXPECT_EQ(db1->core.log().size(), 0u);
  EXPECT_TRUE(s1.gossip_entries().empty()) << "from the file too";
  // Another's gossip from an endpoint that is not a replica is ignored.
  Gossip forged;
  forged.master = MasterInfo{"fe2", 9, std::nullopt};
  db1->step("fe2", forged);
  EXPECT_EQ(s1.master().epoch, 1u);
}

TEST_F(GossipReplica, TheFeedIsThePlayByPlayInOrderAndFiltersByEvent) {
  for (uint64_t seq = 1; seq <= 4; ++seq) EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(seq, int64_t(seq)))));
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", IncrementMedalTally{"Gauls", "gold", "p", 5, std::nullopt, 1, std::nullopt})));
  auto f = reply_of<FeedReply>(db1->step("fe1", GetFeed{}));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->items.size(), 5u);
  for (size_t k = 0; k < 5; ++k) EXPECT_EQ(f->items[k].seq, k + 1);
  EXPECT_EQ(f->items[4].op, "increment_medal_tally");
  EXPECT_EQ(f->items[4].medal, "gold");
  EXPECT_EQ(f->items[3].gauls, 4);
  f = reply_of<FeedReply>(db1->step("fe1", GetFeed{"Curling", f->items[1].at, 1}));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->items.size(), 1u);
  EXPECT_EQ(f->items[0].seq, 4u) << "the latest one after the second";
  EXPECT_EQ(reply_of<Error>(db1->step("fe1", feed_of("Chess")))->code, ErrorCode::kUnknownEvent);
  // db2, having applied the same by gossip, shows the same feed.
  db2->step("db1", gossip_from(*db1, "db2"));
  auto f1 = reply_of<FeedReply>(db1->step("fe1", GetFeed{}));
  auto f2 = reply_of<FeedReply>(db2->step("fe1", GetFeed{}));
  ASSERT_TRUE(f1 && f2);
  ASSERT_EQ(f1->items.size(), f2->items.size());
  for (size_t k = 0; k < f1->items.size(); ++k) {
    EXPECT_EQ(f1->items[k].seq, f2->items[k].seq);
    EXPECT_EQ(f1->items[k].at, f2->items[k].at);
  }
}

TEST_F(GossipReplica, ASeedRefusesBadJoinsAndAJoinerTakesItsStateInParts) {
  for (uint64_t seq = 1; seq <= 3; ++seq) EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(seq, int64_t(seq)))));
  auto refused = [&](FetchState f) {
    const auto e = reply_of<Error>(db1->step("db9", std::move(f)), "db9");
    return e ? std::string(error_code_name(e->code)) + ": " + e->error : std::string("not refused");
  };
  EXPECT_NE(refused({"db 4", "tcp://127.0.0.1:9123", 0}).find("bad_value: fetch_state: expected a replica name"), std::string::npos);
  EXPECT_NE(refused({"db4", "udp://x", 0}).find("bad_value"), std::string::npos);
  EXPECT_NE(refused({"db2", "tcp://127.0.0.1:1", 0}).find("replica 'db2' is a member at tcp://127.0.0.1:9121"), std::string::npos);
  EXPECT_NE(refused({"db4", "tcp://127.0.0.1:9123", 7}).find("unavailable: fetch_state: no state copy under way"), std::string::npos);
  EXPECT_EQ(db1->core.members().size(), 3u) << "nothing refused is a member";

  // db4 joins through db1: it asks, db1 answers part by part, db4 loads the copy.
  database::SqliteStore s4{":memory:"};
  GossipReplicaCore db4(gossip_config(), "db4", s4, clock, clock.now(),
                        GossipReplicaCore::Join{"tcp://127.0.0.1:9123", "db1", "tcp://127.0.0.1:9120"});
  EXPECT_TRUE(db4.joining());
  {
    Effects out;
    db4.on_message("fe1", Message{1, score_read()}, false, clock.now(), out);
    ASSERT_EQ(out.items().size(), 1u);
    EXPECT_EQ(std::get<Error>(out.items()[0].msg.body).code, ErrorCode::kUnavailable) << "it serves nothing yet";
  }
  db1->core.set_state_part(200);  // several parts
  size_t parts = 0;
  while (db4.joining() && parts < 100) {
    Effects out;
    db4.on_tick(clock.now(), out);
    ASSERT_EQ(out.items().size(), 1u);
    const auto ask = out.items()[0];
    ASSERT_EQ(ask.to, "db1");
    auto answer = db1->step("db4", ask.msg.body);
    ASSERT_EQ(answer.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<StatePart>(answer[0].msg.body)) << std::get<Error>(answer[0].msg.body).error;
    Effects in;
    db4.on_message("db1", Message{ask.msg.req, answer[0].msg.body}, false, clock.now(), in);
    db4.on_batch_end(clock.now(), in);
    ++parts;
  }
  EXPECT_FALSE(db4.joining());
  EXPECT_GT(parts, 3u);
  EXPECT_EQ(s4.score("Curling").gauls, 3);
  EXPECT_EQ(s4.last_seqs(), s1.last_seqs());
  EXPECT_EQ(s4.master().frontend, "fe1");
  EXPECT_EQ(db4.log().clock().text(), "db1:3");
  EXPECT_EQ(db4.members().size(), 4u);
  EXPECT_EQ(db1->core.members().size(), 4u);
  EXPECT_EQ(s1.gossip_members().size(), 1u) << "the seed keeps the new member in its file";
  auto read = reply_of<ScoreReply>([&] {
    Effects out;
    db4.on_message("fe1", Message{2, score_read()}, false, clock.now(), out);
    db4.on_batch_end(clock.now(), out);
    return out.items();
  }());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->score.gauls, 3);
  // db2 learns db4 from db1's gossip; get_members lists db4 once it was heard from.
  db2->step("db1", gossip_from(*db1, "db2"));
  EXPECT_EQ(db2->core.members().size(), 4u);
  // The tier takes at most kMaxMembers.
  for (int k = 5; k <= 7; ++k) {
    EXPECT_TRUE(reply_of<StatePart>(db1->step("db" + std::to_string(k), FetchState{"db" + std::to_string(k), "tcp://127.0.0.1:" + std::to_string(9120 + k), 0}), "db" + std::to_string(k)));
  }
  EXPECT_NE(refused({"db8", "tcp://127.0.0.1:9128", 0}).find("the tier has 7 replicas"), std::string::npos);
}

// remove_replica: db3 never speaks and holds collection back until it is removed; the tombstone
// spreads by gossip, its name cannot join again, and a removed replica that hears of it serves
// nothing.
TEST_F(GossipReplica, ARemovedReplicaNoLongerHoldsCollectionBackAndServesNothing) {
  for (uint64_t seq = 1; seq <= 3; ++seq) EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", score(seq, int64_t(seq)))));
  db2->step("db1", gossip_from(*db1, "db2"));
  db1->step("db2", gossip_from(*db2, "db1"));
  EXPECT_EQ(db1->core.log().size(), 3u) << "db3 holds collection back";
  EXPECT_EQ(reply_of<Error>(db1->step("operator", RemoveReplica{"db1"}), "operator")->code, ErrorCode::kBadValue)
      << "a replica does not remove itself";
  const auto m = reply_of<Members>(db1->step("operator", RemoveReplica{"db3"}), "operator");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->members.size(), 2u);
  EXPECT_EQ(m->members[1].id, "db2");
  EXPECT_EQ(m->index, 4u) << "two listed, one removed";
  db1->step("db2", gossip_from(*db2, "db1"));
  EXPECT_EQ(db1->core.log().size(), 0u) << "collected without db3";
  // db2 hears of it by gossip, and collects too.
  db2->step("db1", gossip_from(*db1, "db2"));
  const auto& members2 = db2->core.members();
  ASSERT_EQ(members2.size(), 3u);
  EXPECT_EQ(members2[2].role, "removed");
  db2->step("db1", gossip_from(*db1, "db2"));
  EXPECT_EQ(db2->core.log().size(), 0u);
  EXPECT_NE(reply_of<Error>(db1->step("db3", FetchState{"db3", "tcp://127.0.0.1:9122", 0}), "db3")->error.find("was removed"),
            std::string::npos);
  // db3 itself, when it hears of it: it serves nothing, and says so, across a restart too.
  database::SqliteStore s3{":memory:"};
  auto db3 = std::make_unique<Replica>("db3", s3, clock);
  EXPECT_TRUE(gossip_from(*db1, "db3").members.empty()) << "no gossip goes to a removed replica";
  const auto told = db1->step("db3", gossip_from(*db3, "db1"));
  const auto back = std::find_if(told.begin(), told.end(), [](const Effects::Out& o) { return o.to == "db3"; });
  ASSERT_NE(back, told.end()) << "a removed replica that gossips is told";
  db3->step("db1", back->msg.body);
  EXPECT_TRUE(db3->core.removed());
  auto e = reply_of<Error>(db3->step("fe1", score_read()));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::kUnavailable);
  EXPECT_NE(e->error.find("was removed from the tier"), std::string::npos);
  db3 = std::make_unique<Replica>("db3", s3, clock);
  EXPECT_TRUE(db3->core.removed());
}

// Two publishers set one event's score at two replicas at once (docs/gossip.md, "Concurrent
// writers"): whatever order gossip brings them in, both replicas end with the later-written one,
// at the same version; equal stamps are decided by the publisher's name. Before the rule, each
// replica kept the one it applied last: db1 5-0, db2 3-0.
TEST_F(GossipReplica, ConcurrentSetScoresOfTwoPublishersEndTheSameOnEveryReplica) {
  auto written = [](const std::string& publisher, uint64_t seq, int64_t gauls, int64_t at_us) {
    SetScore s{"Curling", gauls, 0, publisher, seq, std::nullopt, 1, std::nullopt};
    s.written_at_us = at_us;
    return s;
  };
  auto a1 = reply_of<Ack>(db1->step("fe1", written("a", 1, 3, 200)));
  auto b1 = reply_of<Ack>(db2->step("fe1", written("b", 1, 5, 100)));
  ASSERT_TRUE(a1 && b1);
  EXPECT_EQ(a1->score->gauls, 3);
  EXPECT_EQ(b1->score->gauls, 5) << "each replica takes its own at once";
  db2->step("db1", gossip_from(*db1, "db2"));
  db1->step("db2", gossip_from(*db2, "db1"));
  for (auto* s : {&s1, &s2}) {
    EXPECT_EQ(s->score("Curling").gauls, 3) << "a's, written at 200, is the later";
    EXPECT_EQ(s->score("Curling").version, 2u) << "both writes count";
  }
  EXPECT_EQ(db1->core.counters().at("set_scores_overtaken"), 1) << "b's came to db1 after a's";
  // A write stamped before the score's, accepted late: acknowledged with the score it leaves.
  auto late = reply_of<Ack>(db1->step("fe1", written("c", 1, 7, 150)));
  ASSERT_TRUE(late);
  EXPECT_EQ(late->version, 3u);
  EXPECT_EQ(late->score->gauls, 3);
  // Equal stamps: the greater publisher's name wins, whichever replica took which.
  EXPECT_TRUE(reply_of<Ack>(db1->step("fe1", written("b", 2, 9, 300))));
  EXPECT_TRUE(reply_of<Ack>(db2->step("fe1", written("a", 2, 8, 300))));
  db2->step("db1", gossip_from(*db1, "db2"));
  db1->step("db2", gossip_from(*db2, "db1"));
  for (auto* s : {&s1, &s2}) {
    EXPECT_EQ(s->score("Curling").gauls, 9);
    EXPECT_EQ(s->score("Curling").version, 5u);
    EXPECT_EQ(s->score_writer("Curling"), (database::ScoreWriter{300, "b", 2}));
  }
  // The feed shows each update as written, the same on both.
  auto f1 = reply_of<FeedReply>(db1->step("fe1", feed_of("Curling")));
  auto f2 = reply_of<FeedReply>(db2->step("fe1", feed_of("Curling")));
  ASSERT_TRUE(f1 && f2);
  ASSERT_EQ(f1->items.size(), 5u);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(f1->items[k].gauls, f2->items[k].gauls) << k;
    EXPECT_EQ(f1->items[k].written_at_us, f2->items[k].written_at_us) << k;
  }
  EXPECT_EQ(reply_of<Error>(db1->step("fe1", written("d", 1, 1, -5)))->code, ErrorCode::kBadValue);
}

TEST(GossipStore, AStateCopyRoundTripsAndABadOneIsRefused) {
  database::SqliteStore a{":memory:"}, b{":memory:"};
  a.begin();
  a.put_score({"Curling", 2, 1, 4, 99});
  a.gossip_put("db1", 1, "entry");
  a.gossip_set_clock("db1", 1);
  a.gossip_put_member({"db4", "tcp://127.0.0.1:9123", false});
  a.gossip_put_member({"db3", "tcp://127.0.0.1:9122", true});
  a.put_score_writer("Curling", {1'700'000'000'000'000, "p", 4});
  a.commit();
  b.begin();
  b.put_score({"Chess", 1, 1, 1, 1});
  b.restore_gossip(a.gossip_dump());
  b.commit();
  EXPECT_EQ(b.scores().size(), 1u) << "the copy replaces what was there";
  EXPECT_EQ(b.score("Curling").version, 4u);
  EXPECT_EQ(b.gossip_clock(), a.gossip_clock());
  EXPECT_EQ(b.gossip_entries(), a.gossip_entries());
  EXPECT_EQ(b.gossip_members(), a.gossip_members());
  EXPECT_EQ(b.score_writer("Curling"), a.score_writer("Curling")) << "which write a score holds, too";
  EXPECT_FALSE(b.score_writer("Chess"));
  b.begin();
  EXPECT_THROW(b.restore_gossip(a.state_dump()), std::runtime_error) << "a Raft snapshot is not a gossip copy";
  std::string cut = a.gossip_dump();
  cut.resize(cut.size() - 3);
  try {
    b.restore_gossip(cut);
    ADD_FAILURE() << "a truncated copy loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("snapshot:"), std::string::npos) << e.what();
  }
  b.rollback();
  EXPECT_EQ(b.score("Curling").version, 4u) << "a bad copy changes nothing";
}

}  // namespace
}  // namespace oly::gossip
