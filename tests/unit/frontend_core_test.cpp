// The front end's core: mastership at start, the publisher checks, fencing.
#include <gtest/gtest.h>

#include "frontend_harness.h"

namespace oly {
namespace {

TEST(FrontendCore, RestartedHomeMasterClaimsTheNextEpochAndAnnouncesIt) {
  Harness h("fe1");
  auto sent = h.tick();
  sent = h.answer_db(sent, "get_master", MasterInfo{"fe1", 4, {}});  // its own earlier incarnation
  const auto* claim = h.find(sent, "claim_master");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->msg.as<ClaimMaster>().epoch, 5u);
  sent = h.answer_db(sent, "claim_master", MasterInfo{"fe1", 5, {}});
  EXPECT_TRUE(h.core.is_master());
  const auto* notice = h.find(sent, "master_changed");
  ASSERT_NE(notice, nullptr);
  EXPECT_TRUE(notice->notice);
  EXPECT_EQ(notice->to, "publisher");
}

// An answer to one of the front end's requests counts only from the endpoint it asked (here the
// database): the same req from a client (a tablet's connection, a tool) is dropped and counted, and
// the real answer still counts.
TEST(FrontendCore, AnAnswerFromAnEndpointThatWasNotAskedIsDropped) {
  Harness h("fe1");
  const auto sent = h.tick();
  const auto* ask = h.find(sent, "get_master");
  ASSERT_NE(ask, nullptr);
  for (const std::string forger : {"tcp/1", "fe2", "cacofonix-1"}) {
    EXPECT_TRUE(h.deliver(forger, Message{ask->msg.req, MasterInfo{"fe2", 9, {}}}).empty()) << forger;
  }
  EXPECT_EQ(h.core.counters().at("foreign_replies"), 3);
  const auto after = h.answer_db(sent, "get_master", MasterInfo{"fe1", 4, {}});
  const auto* claim = h.find(after, "claim_master");
  ASSERT_NE(claim, nullptr) << "the database's answer was taken";
  EXPECT_EQ(claim->msg.as<ClaimMaster>().epoch, 5u);
}

TEST(FrontendCore, PeerAnswersUpdatesWithNotMasterAndTheMastersAddress) {
  Harness h("fe2");
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"fe1", 1, {}});
  auto reply = h.deliver("bard", Message{9, SetScore{"Curling", 1, 0, "bard", 1, h.cfg.cacofonix.token, {}, {}}});
  ASSERT_EQ(reply.size(), 1u);
  const auto& e = reply[0].msg.as<Error>();
  EXPECT_EQ(e.code, ErrorCode::kNotMaster);
  EXPECT_EQ(e.master, "fe1");
  EXPECT_EQ(e.address, h.cfg.frontends[0].address);
  EXPECT_EQ(reply[0].msg.req, 9u);
}

TEST(FrontendCore, WrongTokenIsUnauthorisedAndNothingReachesTheDatabase) {
  Harness h("fe1");
  auto reply = h.deliver("intruder", Message{3, IncrementMedalTally{"Gauls", "gold", "x", 1, std::string("nope"), {}, {}}});
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].to, "intruder");
  EXPECT_EQ(reply[0].msg.as<Error>().code, ErrorCode::kUnauthorised);
}

TEST(FrontendCore, MasterStampsItsEpochAndDemotesWhenFenced) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  auto fwd = h.deliver("bard", Message{5, SetScore{"Curling", 2, 1, "bard", 1, h.cfg.cacofonix.token, {}, {}}});
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(fwd[0].to, "db");
  EXPECT_EQ(fwd[0].msg.as<SetScore>().epoch, 1u);
  EXPECT_FALSE(fwd[0].msg.as<SetScore>().token.has_value());  // the secret stays at the front end

  Error fenced = make_error(ErrorCode::kFenced, "stale epoch");
  fenced.epoch = 2;
  fenced.master = "fe2";
  auto reply = h.deliver("db", Message{fwd[0].msg.req, fenced});
  EXPECT_FALSE(h.core.is_master());
  EXPECT_EQ(h.core.master(), "fe2");
  const Effects::Out* to_bard = nullptr;  // besides heartbeats telling fe2 we follow it
  for (const auto& r : reply) {
    if (r.to == "bard") to_bard = &r;
  }
  ASSERT_NE(to_bard, nullptr);
  EXPECT_EQ(to_bard->msg.as<Error>().code, ErrorCode::kNotMaster);
}

Score curling_at(uint64_t version) {
  Score s;
  s.event = "Curling";
  s.version = version;
  return s;
}

// The last of `sent` that goes to `to`, or nullptr.
const Effects::Out* last_to(const std::vector<Effects::Out>& sent, const std::string& to) {
  const Effects::Out* found = nullptr;
  for (const auto& o : sent) {
    if (o.to == to) found = &o;
  }
  return found;
}

// A min_version that no version reaches (the database's own linearizable read is older) gets an
// error naming it, never an older value; one the database has is answered with it.
TEST(FrontendCore, AMinVersionAheadOfTheDatabaseIsRefusedNotAnsweredOlder) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  const Score at3 = curling_at(3);
  for (const uint64_t asked : {uint64_t{999}, uint64_t{3}}) {
    SCOPED_TRACE(asked);
    auto sent = h.deliver("t", Message{7, GetScore{"Curling", asked, "t1", std::nullopt}});
    if (h.find(sent, "get_score") != nullptr) sent = h.answer_db(sent, "get_score", ScoreReply{at3, {}});  // the fill
    if (h.find(sent, "get_score") != nullptr) sent = h.answer_db(sent, "get_score", ScoreReply{at3, {}});  // the read for it
    const Effects::Out* to_tablet = last_to(sent, "t");
    ASSERT_NE(to_tablet, nullptr);
    EXPECT_EQ(to_tablet->msg.req, 7u);
    if (asked == 999) {
      ASSERT_TRUE(to_tablet->msg.is<Error>()) << op_name(to_tablet->msg.body);
      EXPECT_EQ(to_tablet->msg.as<Error>().code, ErrorCode::kBadValue);
      EXPECT_NE(to_tablet->msg.as<Error>().error.find("min_version 999"), std::string::npos) << to_tablet->msg.as<Error>().error;
    } else {
      ASSERT_TRUE(to_tablet->msg.is<ScoreReply>()) << op_name(to_tablet->msg.body);
      EXPECT_EQ(to_tablet->msg.as<ScoreReply>().score.version, 3u);
    }
  }
}

// Gossip mode: an answer the database marked partial (the replica lacked what the front end had
// seen) is served to the tablet marked so, and is not cached: the next read asks the database again.
TEST(FrontendCore, APartialDatabaseAnswerIsServedMarkedAndNotCached) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  const Score at3 = curling_at(3);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto sent = h.deliver("t", Message{static_cast<uint64_t>(7 + round), GetScore{"Curling", {}, "t1", std::nullopt}});
    ASSERT_NE(h.find(sent, "get_score"), nullptr) << "the read went to the database (nothing cached)";
    ScoreReply partial{at3, {}};
    partial.partial = true;
    sent = h.answer_db(sent, "get_score", partial);
    const Effects::Out* to_tablet = last_to(sent, "t");
    ASSERT_NE(to_tablet, nullptr);
    ASSERT_TRUE(to_tablet->msg.is<ScoreReply>()) << op_name(to_tablet->msg.body);
    EXPECT_EQ(to_tablet->msg.as<ScoreReply>().score.version, 3u);
    EXPECT_EQ(to_tablet->msg.as<ScoreReply>().partial, std::optional<bool>(true));
  }
}

// A board of one score (Curling v3) a replica answered partial at `clock`.
Scoreboard partial_board(VectorStamp clock) {
  Scoreboard board;
  board.scores.push_back(curling_at(3));
  board.clock = std::move(clock);
  board.partial = true;
  return board;
}

// The board `sent` gives tablet "t" (a failure when there is none).
Scoreboard board_to_tablet(const std::vector<Effects::Out>& sent) {
  const Effects::Out* to_tablet = last_to(sent, "t");
  EXPECT_NE(to_tablet, nullptr);
  if (to_tablet == nullptr) return {};
  EXPECT_TRUE(to_tablet->msg.is<Scoreboard>()) << op_name(to_tablet->msg.body);
  return to_tablet->msg.is<Scoreboard>() ? to_tablet->msg.as<Scoreboard>() : Scoreboard{};
}

Config gossip_config() {
  Config c;
  c.database.replicas = {{"db1", "tcp://127.0.0.1:1"}, {"db2", "tcp://127.0.0.1:2"}};
  c.replication = Replication::kGossip;
  return c;
}

// Gossip mode: a peer's clock covers only the updates it heard of, so a tablet's whole-board read
// at a peer goes to the master, whose clock covers every update it acknowledged (the push
// guarantee; docs/gossip.md). The answer, clock and partial mark included, goes to the tablet, and
// its clock is the peer's from then on. When the master gives no board in a fill's time (it is
// heard from all along) or answers something else, the peer reads the database with its clock and
// serves the board partial; with the master silent from the start, the database, unmarked (as a
// fill during a failover).
TEST(FrontendCore, APeersBoardReadGoesToTheMasterInGossipMode) {
  const Config c = gossip_config();
  Harness h("fe2", c);
  h.answer_all(h.tick(), "get_master", MasterInfo{"fe1", 1, {}});
  h.heartbeat("fe1", "fe1", 1);
  ASSERT_FALSE(h.core.is_master());

  auto sent = h.deliver("t", Message{7, GetScoreboard{"t1"}});
  const Effects::Out* ask = h.find(sent, "get_scoreboard");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->to, "fe1") << "asked of the master, not the database";
  Scoreboard board = board_to_tablet(h.answer_all(sent, "get_scoreboard", partial_board({{"db1", 9}})));
  EXPECT_EQ(board.partial, std::optional<bool>(true));
  EXPECT_EQ(board.clock, std::optional<VectorStamp>(VectorStamp{{"db1", 9}}));
  ASSERT_EQ(board.scores.size(), 1u);
  EXPECT_EQ(board.scores[0].version, 3u);

  // The master, heard from all along, gives no board in a fill's time: the database, with the
  // clock the master's answer brought, and the board served partial.
  sent = h.deliver("t", Message{8, GetScoreboard{"t1"}});
  ASSERT_EQ(h.find(sent, "get_scoreboard")->to, "fe1");
  h.advance(ms(c.database.request_timeout_ms / 8));
  h.heartbeat("fe1", "fe1", 1);
  sent = h.advance(ms(c.database.request_timeout_ms / 8));
  ask = h.find(sent, "get_scoreboard");
  ASSERT_NE(ask, nullptr) << "the database asked once the master let a fill's time pass";
  EXPECT_EQ(ask->to.rfind("db", 0), 0u) << ask->to;
  const auto& asked = ask->msg.as<GetScoreboard>();
  ASSERT_TRUE(asked.clock.has_value());
  EXPECT_EQ(asked.clock->at("db1"), 9u);
  board = board_to_tablet(h.answer_all(sent, "get_scoreboard", Scoreboard{}));
  EXPECT_EQ(board.partial, std::optional<bool>(true)) << "the peer cannot vouch for it";

  // The master answers not_master: the same.
  sent = h.deliver("t", Message{9, GetScoreboard{"t1"}});
  sent = h.answer_all(sent, "get_scoreboard", make_error(ErrorCode::kNotMaster, "not master"));
  ASSERT_NE(h.find(sent, "get_scoreboard"), nullptr);
  board = board_to_tablet(h.answer_all(sent, "get_scoreboard", Scoreboard{}));
  EXPECT_EQ(board.partial, std::optional<bool>(true));

  // Another front end's board read at a front end that is not master: not_master, not passed on
  // (no ping-pong), not one of its reads.
  h.heartbeat("fe1", "fe1", 1);
  const int64_t reads = h.core.stats(h.now).counters.at("reads");
  EXPECT_EQ(reads, 3);
  sent = h.deliver("fe1", Message{10, GetScoreboard{}});
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "fe1");
  ASSERT_TRUE(sent[0].msg.is<Error>()) << op_name(sent[0].msg.body);
  EXPECT_EQ(sent[0].msg.as<Error>().code, ErrorCode::kNotMaster);
  EXPECT_EQ(h.core.stats(h.now).counters.at("reads"), reads);

  // The master silent from the start: the database, the board unmarked.
  h.advance(ms(c.heartbeat.timeout_ms * 2));
  sent = h.deliver("t", Message{11, GetScoreboard{"t1"}});
  ask = h.find(sent, "get_scoreboard");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->to.rfind("db", 0), 0u) << ask->to;
  board = board_to_tablet(h.answer_all(sent, "get_scoreboard", Scoreboard{}));
  EXPECT_FALSE(board.partial.value_or(false));
  EXPECT_EQ(h.core.stats(h.now).counters.at("boards_from_master"), 3);
  EXPECT_EQ(h.core.stats(h.now).counters.at("boards_from_database"), 3);
}

// Gossip mode, a key: a peer whose fetch the master (heard from all along) does not answer in
// time fills from the database with its own clock, which may lack what the master acknowledged:
// the value is served partial and not cached (the next read asks the master again).
TEST(FrontendCore, APeersFillAfterALateMasterIsServedPartialInGossipMode) {
  const Config c = gossip_config();
  Harness h("fe2", c);
  h.answer_all(h.tick(), "get_master", MasterInfo{"fe1", 1, {}});
  h.heartbeat("fe1", "fe1", 1);
  auto sent = h.deliver("t", Message{7, GetScore{"Curling", {}, "t1", std::nullopt}});
  ASSERT_NE(h.find(sent, "fetch"), nullptr);
  h.advance(ms(c.heartbeat.timeout_ms / 4));
  h.heartbeat("fe1", "fe1", 1);
  sent = h.advance(ms(c.heartbeat.timeout_ms / 4));
  const Effects::Out* fill = h.find(sent, "get_score");
  ASSERT_NE(fill, nullptr) << "the database asked once the fetch timed out";
  EXPECT_EQ(fill->to.rfind("db", 0), 0u) << fill->to;
  sent = h.answer_all(sent, "get_score", ScoreReply{curling_at(3), {}});
  const Effects::Out* to_tablet = last_to(sent, "t");
  ASSERT_NE(to_tablet, nullptr);
  ASSERT_TRUE(to_tablet->msg.is<ScoreReply>()) << op_name(to_tablet->msg.body);
  EXPECT_EQ(to_tablet->msg.as<ScoreReply>().score.version, 3u);
  EXPECT_EQ(to_tablet->msg.as<ScoreReply>().partial, std::optional<bool>(true)) << "the peer cannot vouch for it";
  sent = h.deliver("t", Message{8, GetScore{"Curling", {}, "t1", std::nullopt}});
  EXPECT_NE(h.find(sent, "fetch"), nullptr) << "not cached: the master asked again";
}

// The master reads a peer's board from the database and answers the peer (not counted as one of
// its reads: the peer counted it). A single database (as raft's linearizable leader): every front
// end reads the board from the database.
TEST(FrontendCore, TheMasterReadsAPeersBoardAndOutsideGossipModeEveryFrontEndReadsTheDatabase) {
  Harness master("fe1", gossip_config());
  auto sent = master.answer_all(master.tick(), "get_master", MasterInfo{"", 0, {}});
  master.answer_all(sent, "claim_master", MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(master.core.is_master());
  const int64_t reads = master.core.stats(master.now).counters.at("reads");
  sent = master.deliver("fe2", Message{4, GetScoreboard{}});
  const Effects::Out* ask = master.find(sent, "get_scoreboard");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->to.rfind("db", 0), 0u) << ask->to;
  Scoreboard board = partial_board({{"db2", 1}});
  board.partial.reset();  // a partial one is asked of the other replica first
  sent = master.answer_all(sent, "get_scoreboard", board);
  const Effects::Out* to_peer = last_to(sent, "fe2");
  ASSERT_NE(to_peer, nullptr);
  ASSERT_TRUE(to_peer->msg.is<Scoreboard>()) << op_name(to_peer->msg.body);
  EXPECT_EQ(to_peer->msg.as<Scoreboard>().scores.size(), 1u);
  EXPECT_EQ(to_peer->msg.as<Scoreboard>().clock, std::optional<VectorStamp>(VectorStamp{{"db2", 1}}));
  EXPECT_EQ(master.core.stats(master.now).counters.at("reads"), reads);

  Harness single("fe2");
  single.answer_db(single.tick(), "get_master", MasterInfo{"fe1", 1, {}});
  single.heartbeat("fe1", "fe1", 1);
  sent = single.deliver("t", Message{7, GetScoreboard{"t1"}});
  ask = single.find(sent, "get_scoreboard");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->to, "db");
}

TEST(FrontendCore, UnknownEventIsRejectedNamingIt) {
  Harness h("fe2");
  auto reply = h.deliver("t", Message{1, GetScore{"Quidditch", {}, {}, std::nullopt}});
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].msg.as<Error>().code, ErrorCode::kUnknownEvent);
  EXPECT_NE(reply[0].msg.as<Error>().error.find("Quidditch"), std::string::npos);
}

TEST(FrontendCore, MasterRejectsAPeersFetchOrPollOfSomethingThatIsNotAKey) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  for (Body bad : {Body{Fetch{"scores/Curling", std::nullopt}}, Body{Poll{"Curling", 0, std::nullopt}}}) {
    auto reply = h.deliver("fe2", Message{4, bad});
    ASSERT_EQ(reply.size(), 1u) << op_name(bad);
    EXPECT_EQ(reply[0].to, "fe2");
    const auto& e = reply[0].msg.as<Error>();
    EXPECT_EQ(e.code, ErrorCode::kBadValue);
    EXPECT_EQ(e.error.find("Curling"), std::string::npos) << "echoed: " << e.error;
  }
  // A well-formed key is served (here: a fill from the database).
  auto fill = h.deliver("fe2", Message{5, Fetch{"score/Curling", std::nullopt}});
  ASSERT_NE(h.find(fill, "get_score"), nullptr);
}

Score curling(uint64_t version, int64_t gauls) {
  Score s;
  s.event = "Curling";
  s.gauls = gauls;
  s.version = version;
  return s;
}

// What a pull master's answer says changed (hints, frontend/change_log.h).
const Changes& changes_in(const std::vector<Effects::Out>& sent) {
  for (const auto& s : sent) {
    if (const auto* v = std::get_if<Value>(&s.msg.body); v && v->changes) return *v->changes;
    if (const auto* nm = std::get_if<NotModified>(&s.msg.body); nm && nm->changes) return *nm->changes;
  }
  static const Changes none;
  ADD_FAILURE() << "no answer with changes";
  return none;
}

TEST(FrontendCore, APullMastersAnswersListWhatChangedSinceThePeersCursorAndWhatIsInFlight) {
  Config cfg;
  cfg.consistency = Consistency::kPull;
  cfg.database.request_timeout_ms = 100;  // an update's answer is lost well within the master lease
  Harness h("fe1", cfg);
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  // fe2's first fetch: the master reads the database and gives fe2 its place in the changes.
  auto read = h.deliver("fe2", Message{5, Fetch{"score/Curling", Cursor{}}});
  const Changes first = changes_in(h.answer_db(read, "get_score", ScoreReply{curling(1, 0), std::nullopt}));
  EXPECT_EQ(first.epoch, 1u);
  EXPECT_EQ(first.from, first.to) << "a cursor from nowhere covers nothing";
  EXPECT_TRUE(first.current);
  const Cursor cursor{1, first.to};

  // An update in flight: the key is named unsettled, not listed.
  auto fwd = h.deliver("bard", Message{6, SetScore{"Curling", 2, 0, "bard", 1, cfg.cacofonix.token, {}, {}}});
  const Changes in_flight = changes_in(h.deliver("fe2", Message{7, Poll{"score/Curling", 1, cursor}}));
  EXPECT_EQ(in_flight.unsettled, std::vector<std::string>{"score/Curling"});
  EXPECT_TRUE(in_flight.changed.empty());

  // Acknowledged: listed with its new value, since fe2's cursor.
  h.answer_db(fwd, "set_score", Ack{"bard", 1, "score/Curling", 2, false, curling(2, 2), std::nullopt});
  const Changes acked = changes_in(h.deliver("fe2", Message{8, Poll{"score/Curling", 1, cursor}}));
  EXPECT_EQ(acked.from, cursor.seq);
  ASSERT_EQ(acked.changed.size(), 1u);
  EXPECT_EQ(acked.changed[0].version, 2u);
  EXPECT_EQ(acked.changed[0].score->gauls, 2);
  EXPECT_TRUE(acked.unsettled.empty());
  EXPECT_TRUE(acked.current);

  // An update whose answer is lost may have changed the key unseen: the master reads it after
  // that update (a settling read, which the database orders behind the key's writes in flight);
  // until it comes back the key is unsettled, and polls are answered from what the database has
  // committed (a `committed` read), not from the cache.
  h.deliver("bard", Message{9, SetScore{"Curling", 3, 0, "bard", 2, cfg.cacofonix.token, {}, {}}});
  auto reread = h.advance(ms(150));
  const auto* settling = h.find(reread, "get_score");
  ASSERT_NE(settling, nullptr) << "the master reads the key again";
  EXPECT_FALSE(std::get<GetScore>(settling->msg.body).committed.value_or(false));
  const uint64_t settling_req = settling->msg.req;
  auto waiting = h.deliver("fe2", Message{10, Poll{"score/Curling", 2, Cursor{1, acked.to}}});
  EXPECT_EQ(h.find(waiting, "not_modified"), nullptr) << "not answered from the cache meanwhile";
  EXPECT_EQ(h.find(waiting, "value"), nullptr);
  const auto* committed = h.find(waiting, "get_score");
  ASSERT_NE(committed, nullptr) << "the poll asks the database what it has committed";
  EXPECT_TRUE(std::get<GetScore>(committed->msg.body).committed.value_or(false));
  const uint64_t committed_req = committed->msg.req;
  // The database has not committed the lost update yet: the poll gets the committed value, and
  // the key is still unsettled.
  const Changes before = changes_in(h.deliver("db", Message{committed_req, ScoreReply{curling(2, 2), std::nullopt}}));
  EXPECT_TRUE(before.changed.empty());
  EXPECT_EQ(before.unsettled, std::vector<std::string>{"score/Curling"});
  // The settling read comes back with the update applied: settled, and listed from then on.
  h.deliver("db", Message{settling_req, ScoreReply{curling(3, 3), std::nullopt}});
  const Changes lost = changes_in(h.deliver("fe2", Message{11, Poll{"score/Curling", 2, Cursor{1, acked.to}}}));
  ASSERT_EQ(lost.changed.size(), 1u);
  EXPECT_EQ(lost.changed[0].version, 3u);
  EXPECT_TRUE(lost.unsettled.empty());
}

}  // namespace
}  // namespace oly
