// DatabaseCore driven directly with Messages, as a Node would: each batch() is one run of frames
// followed by on_batch_end, over an in-memory SQLite store (or a file, for durability).
#include "database/database_core.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <utility>

#include "database/sqlite_store.h"
#include "tests/support/process.h"

namespace oly::database {
namespace {

const std::string kPublisher = "caco-1";

std::string describe(const Message& m) {
  std::string s(op_name(m.body));
  if (m.is<Error>()) s += " " + std::string(error_code_name(m.as<Error>().code)) + ": " + m.as<Error>().error;
  return s;
}

// The reply as a T; fails the test (naming what came instead) when it is not one.
template <class T>
T as(const Message& m) {
  if (!m.is<T>()) {
    ADD_FAILURE() << "expected " << T::kOp << ", got " << describe(m);
    return T{};
  }
  return m.as<T>();
}

// The reply as an Error with code `code`.
Error error_of(const Message& m, ErrorCode code) {
  Error e = as<Error>(m);
  EXPECT_EQ(e.code, code) << e.error;
  return e;
}

// `update` from kPublisher with `seq` and `epoch`.
template <class Update>
Update stamped(Update update, uint64_t seq, std::optional<uint64_t> epoch) {
  update.publisher = kPublisher;
  update.seq = seq;
  update.epoch = epoch;
  return update;
}

SetScore set_score(const std::string& event, int64_t gauls, int64_t romans, uint64_t seq,
                   std::optional<uint64_t> epoch = 1) {
  SetScore m;
  m.event = event;
  m.gauls = gauls;
  m.romans = romans;
  return stamped(m, seq, epoch);
}

IncrementMedalTally increment(const std::string& team, const std::string& medal, uint64_t seq,
                              std::optional<uint64_t> epoch = 1) {
  IncrementMedalTally m;
  m.team = team;
  m.medal = medal;
  return stamped(m, seq, epoch);
}

GetScore get_score(const std::string& event) {
  GetScore m;
  m.event = event;
  return m;
}

GetMedalTally get_tally(const std::string& team) {
  GetMedalTally m;
  m.team = team;
  return m;
}

ListRegistry list_registry(std::optional<std::string> home = std::nullopt) {
  ListRegistry m;
  m.home = std::move(home);
  return m;
}

// Checks that `reply` names `frontend` as master at `epoch`.
void expect_master(const Message& reply, const std::string& frontend, uint64_t epoch) {
  const MasterInfo m = as<MasterInfo>(reply);
  EXPECT_EQ(m.frontend, frontend);
  EXPECT_EQ(m.epoch, epoch);
}

ClaimMaster claim(const std::string& frontend, uint64_t epoch) {
  ClaimMaster m;
  m.frontend = frontend;
  m.epoch = epoch;
  return m;
}

RenewMaster renew(const std::string& frontend, uint64_t epoch, bool release = false) {
  RenewMaster m;
  m.frontend = frontend;
  m.epoch = epoch;
  m.release = release;
  return m;
}

// How long a master lease lasts with the default config (heartbeat.timeout_ms).
const Duration kLease = ms(Config{}.heartbeat.timeout_ms);

AssignHome assign(const std::string& tablet, std::vector<std::string> frontends) {
  AssignHome m;
  m.tablet = tablet;
  m.frontends = std::move(frontends);
  return m;
}

// A DatabaseCore with the default config over `store`, on a virtual clock.
class Db {
 public:
  explicit Db(std::unique_ptr<Store> store = std::make_unique<SqliteStore>(":memory:"))
      : store_(std::move(store)), core_(Config{}, *store_, clock_) {}

  // Delivers `requests` from `from` as one run of frames; returns what was sent at its end.
  std::vector<Message> batch(const std::vector<Body>& requests, const std::string& from = "fe1") {
    Effects out;
    for (const auto& body : requests)
      core_.on_message(from, Message{next_req_++, body}, false, clock_.now(), out);
    core_.on_batch_end(clock_.now(), out);
    std::vector<Message> replies;
    for (auto& o : out.items()) replies.push_back(o.msg);
    return replies;
  }
  // One request in a batch of its own; its one reply.
  Message ask(Body request) {
    auto replies = batch({std::move(request)});
    EXPECT_EQ(replies.size(), 1u);
    return replies.at(0);
  }

  Score score(const std::string& event) { return as<ScoreReply>(ask(get_score(event))).score; }
  Tally tally(const std::string& team) { return as<TallyReply>(ask(get_tally(team))).tally; }
  int64_t counter(const std::string& name) { return core_.counters()[name]; }
  // Lets the current master's lease run out.
  void expire_lease() { clock_.advance(kLease); }

  Store& store() { return *store_; }
  DatabaseCore& core() { return core_; }
  VirtualClock& clock() { return clock_; }

 private:
  VirtualClock clock_;
  std::unique_ptr<Store> store_;
  DatabaseCore core_;
  uint64_t next_req_ = 1;
};

// A Db where fe1 already holds epoch 1.
std::unique_ptr<Db> db_with_master() {
  auto db = std::make_unique<Db>();
  as<MasterInfo>(db->ask(claim("fe1", 1)));
  return db;
}

// ---------------------------------------------------------------- applying updates

TEST(DatabaseCore, AppliedUpdatesRaiseTheVersionOfTheirKeyByOne) {
  auto db = db_with_master();
  Ack first = as<Ack>(db->ask(set_score("Curling", 1, 0, 1)));
  EXPECT_EQ(first.key, "score/Curling");
  EXPECT_EQ(first.version, 1u);
  EXPECT_FALSE(first.duplicate);
  ASSERT_TRUE(first.score.has_value());  // the new value rides on the ack
  EXPECT_EQ(first.score->gauls, 1);
  EXPECT_EQ(first.score->version, 1u);
  EXPECT_FALSE(first.tally.has_value());
  Ack second = as<Ack>(db->ask(set_score("Curling", 2, 0, 2)));
  EXPECT_EQ(second.version, 2u);
  Ack medal = as<Ack>(db->ask(increment("Gauls", "silver", 3)));
  EXPECT_EQ(medal.key, "tally/Gauls");
  EXPECT_EQ(medal.version, 1u);
  EXPECT_EQ(medal.tally, (Tally{"Gauls", 0, 1, 0, 1}));

  const Score s = db->score("Curling");
  EXPECT_EQ(s.gauls, 2);
  EXPECT_EQ(s.romans, 0);
  EXPECT_EQ(s.version, 2u);
  EXPECT_EQ(s.updated_at, db->clock().wall_ms(db->clock().now()));
  EXPECT_EQ(db->tally("Gauls"), (Tally{"Gauls", 0, 1, 0, 1}));
  EXPECT_EQ(db->score("Skiing"), (Score{"Skiing", 0, 0, 0, 0}));
  EXPECT_EQ(db->counter("updates_applied"), 3);
}

// get_feed (raft mode and the single database): the latest applied updates, oldest first, with
// their commit times; one event's only; those after `since`; at most `limit`.
TEST(DatabaseCore, TheFeedIsTheLatestAppliedUpdatesInOrder) {
  auto db = db_with_master();
  as<Ack>(db->ask(set_score("Curling", 1, 0, 1)));
  db->clock().advance(ms(5));
  as<Ack>(db->ask(increment("Gauls", "gold", 2)));
  db->clock().advance(ms(5));
  as<Ack>(db->ask(set_score("Curling", 2, 1, 3)));
  as<Ack>(db->ask(set_score("Curling", 2, 1, 3)));  // a duplicate is not an item
  FeedReply all = as<FeedReply>(db->ask(GetFeed{}));
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[0].seq, 1u);
  EXPECT_EQ(all.items[1].op, "increment_medal_tally");
  EXPECT_EQ(all.items[1].medal, "gold");
  EXPECT_EQ(all.items[2].key, "score/Curling");
  EXPECT_EQ(all.items[2].version, 2u);
  EXPECT_EQ(all.items[2].gauls, 2);
  EXPECT_LT(all.items[0].at, all.items[1].at);
  FeedReply curling = as<FeedReply>(db->ask(GetFeed{"Curling", all.items[0].at, std::nullopt}));
  ASSERT_EQ(curling.items.size(), 1u) << "Curling's after the first";
  EXPECT_EQ(curling.items[0].seq, 3u);
  FeedReply last = as<FeedReply>(db->ask(GetFeed{std::nullopt, std::nullopt, 1}));
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0].seq, 3u);
  error_of(db->ask(GetFeed{"Chess", std::nullopt, std::nullopt}), ErrorCode::kUnknownEvent);
  error_of(db->ask(GetFeed{std::nullopt, std::nullopt, 101}), ErrorCode::kBadValue);
}

TEST(DatabaseCore, DuplicateIncrementDoesNotDoubleTheTally) {
  auto db = db_with_master();
  Ack applied = as<Ack>(db->ask(increment("Romans", "gold", 1)));
  Ack again = as<Ack>(db->ask(increment("Romans", "gold", 1)));
  EXPECT_TRUE(again.duplicate);
  // The duplicate carries the key's current value, so that a master that lost the first ack can
  // write it through.
  ASSERT_TRUE(again.tally.has_value());
  EXPECT_EQ(*again.tally, (Tally{"Romans", 1, 0, 0, 1}));
  EXPECT_EQ(again.key, applied.key);
  EXPECT_EQ(again.version, applied.version);
  EXPECT_EQ(db->tally("Romans"), (Tally{"Romans", 1, 0, 0, 1}));
  EXPECT_EQ(db->counter("duplicates"), 1);
}

TEST(DatabaseCore, DuplicateOfAnOlderSeqReturnsThatSeqsResult) {
  auto db = db_with_master();
  as<Ack>(db->ask(set_score("Skating", 1, 1, 1)));
  as<Ack>(db->ask(increment("Gauls", "bronze", 2)));
  Ack old = as<Ack>(db->ask(set_score("Skating", 9, 9, 1)));
  EXPECT_TRUE(old.duplicate);
  EXPECT_EQ(old.key, "score/Skating");
  EXPECT_EQ(old.version, 1u);
  EXPECT_EQ(db->score("Skating").gauls, 1);
}

TEST(DatabaseCore, DuplicateWithinOneBatchIsAnsweredWithTheFirstResult) {
  auto db = db_with_master();
  auto replies = db->batch({increment("Gauls", "gold", 1), increment("Gauls", "gold", 1)});
  ASSERT_EQ(replies.size(), 2u);
  Ack first = as<Ack>(replies[0]);
  Ack second = as<Ack>(replies[1]);
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.version, first.version);
  EXPECT_EQ(db->tally("Gauls").gold, 1);
}

TEST(DatabaseCore, UpdatesOfOnePublisherInOneBatchAreAllAppliedInOneCommit) {
  auto db = db_with_master();
  const int64_t commits = db->counter("batches");
  auto replies = db->batch({increment("Gauls", "gold", 1), increment("Gauls", "gold", 2),
                            set_score("Curling", 4, 2, 3)});
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(as<Ack>(replies[0]).version, 1u);
  EXPECT_EQ(as<Ack>(replies[1]).version, 2u);
  EXPECT_EQ(as<Ack>(replies[2]).version, 1u);
  EXPECT_EQ(db->counter("batches"), commits + 1);
  EXPECT_EQ(db->tally("Gauls").gold, 2);
}

TEST(DatabaseCore, SeqGapIsRejectedNamingTheExpectedSeq) {
  auto db = db_with_master();
  as<Ack>(db->ask(increment("Gauls", "gold", 1)));
  Error e = error_of(db->ask(increment("Gauls", "gold", 3)), ErrorCode::kSeqGap);
  EXPECT_NE(e.error.find("expected seq 2"), std::string::npos) << e.error;
  EXPECT_EQ(db->tally("Gauls").gold, 1);
  EXPECT_EQ(as<Ack>(db->ask(increment("Gauls", "gold", 2))).version, 2u);
}

TEST(DatabaseCore, PastSeqWithNoRecordedResultIsStale) {
  auto db = db_with_master();
  db->store().set_last_seq(kPublisher, 5);  // as if the log of seqs 1..5 had been pruned
  error_of(db->ask(increment("Gauls", "gold", 3)), ErrorCode::kStaleSeq);
  EXPECT_EQ(db->tally("Gauls").gold, 0);
}

TEST(DatabaseCore, PublishersAreDeduplicatedIndependently) {
  auto db = db_with_master();
  as<Ack>(db->ask(increment("Gauls", "gold", 1)));
  IncrementMedalTally other = increment("Gauls", "gold", 1);
  other.publisher = "caco-2";
  EXPECT_FALSE(as<Ack>(db->ask(other)).duplicate);
  EXPECT_EQ(db->tally("Gauls").gold, 2);
}

// ---------------------------------------------------------------- fencing and claims

TEST(DatabaseCore, WriteWithStaleEpochIsFencedAndChangesNothing) {
  auto db = db_with_master();
  db->expire_lease();
  as<MasterInfo>(db->ask(claim("fe2", 2)));
  Error e = error_of(db->ask(set_score("Curling", 1, 0, 1, 1)), ErrorCode::kFenced);
  EXPECT_EQ(e.epoch, 2u);
  EXPECT_EQ(e.master, "fe2");
  error_of(db->ask(increment("Gauls", "gold", 1, std::nullopt)), ErrorCode::kFenced);
  EXPECT_EQ(db->score("Curling").version, 0u);
  EXPECT_EQ(db->tally("Gauls").version, 0u);
  EXPECT_EQ(db->counter("fenced"), 2);
  EXPECT_EQ(as<Ack>(db->ask(set_score("Curling", 1, 0, 1, 2))).version, 1u);
}

TEST(DatabaseCore, NoWriteIsAcceptedBeforeAnyClaim) {
  Db db;
  Error e = error_of(db.ask(set_score("Curling", 1, 0, 1, 0)), ErrorCode::kFenced);
  EXPECT_EQ(e.epoch, 0u);
  error_of(db.ask(set_score("Curling", 1, 0, 1, std::nullopt)), ErrorCode::kFenced);
  EXPECT_EQ(db.score("Curling").version, 0u);
  EXPECT_EQ(db.store().last_seq(kPublisher), 0u);
}

TEST(DatabaseCore, ClaimSucceedsOnlyForTheNextEpoch) {
  Db db;
  error_of(db.ask(claim("fe1", 2)), ErrorCode::kFenced);
  expect_master(db.ask(claim("fe1", 1)), "fe1", 1);
  Error lost = error_of(db.ask(claim("fe2", 1)), ErrorCode::kFenced);
  EXPECT_EQ(lost.epoch, 1u);
  EXPECT_EQ(lost.master, "fe1");
  expect_master(db.ask(GetMaster{}), "fe1", 1);
  db.expire_lease();
  expect_master(db.ask(claim("fe2", 2)), "fe2", 2);
  EXPECT_EQ(db.counter("claims"), 2);
  EXPECT_EQ(db.counter("claims_rejected"), 2);
}

TEST(DatabaseCore, OnlyOneOfTwoClaimsOfTheSameEpochInOneBatchWins) {
  Db db;
  auto replies = db.batch({claim("fe1", 1), claim("fe2", 1)});
  ASSERT_EQ(replies.size(), 2u);
  as<MasterInfo>(replies[0]);
  error_of(replies[1], ErrorCode::kFenced);
  EXPECT_EQ(as<MasterInfo>(db.ask(GetMaster{})).frontend, "fe1");
}

TEST(DatabaseCore, ClaimByAFrontEndOutsideTheConfigIsBadValue) {
  Db db;
  Error e = error_of(db.ask(claim("fe9", 1)), ErrorCode::kBadValue);
  EXPECT_NE(e.error.find("fe9"), std::string::npos) << e.error;
  expect_master(db.ask(GetMaster{}), "", 0);
}

// ---------------------------------------------------------------- the master lease

TEST(DatabaseCore, RenewalByTheMasterExtendsItsLease) {
  auto db = db_with_master();  // fe1's lease runs until t0 + 500 ms
  db->clock().advance(ms(400));
  const MasterInfo renewed = as<MasterInfo>(db->ask(renew("fe1", 1)));
  EXPECT_EQ(renewed.frontend, "fe1");
  EXPECT_EQ(renewed.epoch, 1u);
  EXPECT_EQ(renewed.lease_ms, 500);
  db->clock().advance(ms(400));  // past the first lease, within the renewed one
  Error held = error_of(db->ask(claim("fe2", 2)), ErrorCode::kLeaseHeld);
  EXPECT_EQ(held.retry_after_ms, 100);
  EXPECT_EQ(as<Stats>(db->ask(GetStats{})).info["master_lease_ms"], "100");
  db->clock().advance(ms(100));
  expect_master(db->ask(claim("fe2", 2)), "fe2", 2);
  EXPECT_EQ(db->counter("renewals"), 1);
  EXPECT_EQ(db->counter("releases"), 0);
}

TEST(DatabaseCore, RenewalWithAWrongEpochOrFrontEndIsFencedAndDoesNotExtendTheLease) {
  Db db;
  Error none = error_of(db.ask(renew("", 0)), ErrorCode::kFenced);  // no master yet: nothing to renew
  EXPECT_EQ(none.epoch, 0u);
  as<MasterInfo>(db.ask(claim("fe1", 1)));
  db.clock().advance(ms(400));
  Error epoch = error_of(db.ask(renew("fe1", 2)), ErrorCode::kFenced);
  EXPECT_EQ(epoch.epoch, 1u);
  EXPECT_EQ(epoch.master, "fe1");
  Error other = error_of(db.ask(renew("fe2", 1)), ErrorCode::kFenced);
  EXPECT_EQ(other.epoch, 1u);
  EXPECT_EQ(other.master, "fe1");
  db.clock().advance(ms(100));  // fe1's lease from its claim ran out: the refusals did not renew it
  expect_master(db.ask(claim("fe2", 2)), "fe2", 2);
  Error deposed = error_of(db.ask(renew("fe1", 1)), ErrorCode::kFenced);
  EXPECT_EQ(deposed.epoch, 2u);
  EXPECT_EQ(deposed.master, "fe2");
  error_of(db.ask(renew("fe1", 1, true)), ErrorCode::kFenced);  // nor may it release fe2's lease
  error_of(db.ask(claim("fe1", 3)), ErrorCode::kLeaseHeld);
  EXPECT_EQ(db.counter("renewals_fenced"), 5);
  EXPECT_EQ(db.counter("renewals"), 0);
}

TEST(DatabaseCore, ClaimDuringAnotherFrontEndsLeaseIsLeaseHeldUntilItRunsOut) {
  auto db = db_with_master();
  db->clock().advance(ms(200));
  Error e = error_of(db->ask(claim("fe2", 2)), ErrorCode::kLeaseHeld);
  EXPECT_EQ(e.master, "fe1");
  EXPECT_EQ(e.epoch, 1u);
  EXPECT_EQ(e.retry_after_ms, 300);
  EXPECT_NE(e.error.find("'fe1'"), std::string::npos) << e.error;
  EXPECT_NE(e.error.find("300 ms"), std::string::npos) << e.error;
  expect_master(db->ask(GetMaster{}), "fe1", 1);

  db->clock().advance(Duration(299'750));  // 0.25 ms left: rounded up, never 0
  EXPECT_EQ(error_of(db->ask(claim("fe2", 2)), ErrorCode::kLeaseHeld).retry_after_ms, 1);
  db->clock().advance(Duration(250));  // the lease ends now
  expect_master(db->ask(claim("fe2", 2)), "fe2", 2);
  EXPECT_EQ(db->counter("claims_lease_held"), 2);
  EXPECT_EQ(db->counter("claims_rejected"), 0);
  EXPECT_EQ(db->counter("claims"), 2);
}

TEST(DatabaseCore, FencedClaimIsAnsweredFencedEvenDuringTheLease) {
  auto db = db_with_master();
  Error e = error_of(db->ask(claim("fe2", 1)), ErrorCode::kFenced);
  EXPECT_EQ(e.epoch, 1u);
  EXPECT_FALSE(e.retry_after_ms.has_value());
  error_of(db->ask(claim("fe2", 3)), ErrorCode::kFenced);
  EXPECT_EQ(db->counter("claims_lease_held"), 0);
}

TEST(DatabaseCore, ClaimByTheMastersOwnIdDuringItsLeaseSucceeds) {
  auto db = db_with_master();
  db->clock().advance(ms(100));
  const MasterInfo again = as<MasterInfo>(db->ask(claim("fe1", 2)));  // fe1 restarted
  EXPECT_EQ(again.frontend, "fe1");
  EXPECT_EQ(again.epoch, 2u);
  EXPECT_EQ(again.lease_ms, 500);
  db->clock().advance(ms(450));  // the lease runs from the new claim
  EXPECT_EQ(error_of(db->ask(claim("fe2", 3)), ErrorCode::kLeaseHeld).retry_after_ms, 50);
}

TEST(DatabaseCore, ReleasedLeaseLetsAnotherFrontEndClaimAtOnce) {
  auto db = db_with_master();
  db->clock().advance(ms(100));
  const MasterInfo released = as<MasterInfo>(db->ask(renew("fe1", 1, true)));
  EXPECT_EQ(released.frontend, "fe1");
  EXPECT_EQ(released.epoch, 1u);
  EXPECT_EQ(released.lease_ms, 0);
  EXPECT_EQ(as<Stats>(db->ask(GetStats{})).info["master_lease_ms"], "0");
  expect_master(db->ask(claim("fe2", 2)), "fe2", 2);
  EXPECT_EQ(db->counter("releases"), 1);
  EXPECT_EQ(db->counter("renewals"), 1);
}

TEST(DatabaseCore, HandoffInOneBatchReleasesThenClaims) {
  auto db = db_with_master();
  auto replies = db->batch({renew("fe1", 1, true), claim("fe2", 2), renew("fe2", 2)});
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(as<MasterInfo>(replies[0]).lease_ms, 0);
  expect_master(replies[1], "fe2", 2);
  EXPECT_EQ(as<MasterInfo>(replies[2]).lease_ms, 500);
}

TEST(DatabaseCore, NewMasterHoldsALeaseFromItsClaim) {
  auto db = db_with_master();
  db->expire_lease();
  const MasterInfo fe2 = as<MasterInfo>(db->ask(claim("fe2", 2)));
  EXPECT_EQ(fe2.lease_ms, 500);
  Error e = error_of(db->ask(claim("fe1", 3)), ErrorCode::kLeaseHeld);
  EXPECT_EQ(e.master, "fe2");
  EXPECT_EQ(e.epoch, 2u);
  EXPECT_EQ(e.retry_after_ms, 500);
  EXPECT_EQ(as<Stats>(db->ask(GetStats{})).info["master_lease_ms"], "500");
}

TEST(DatabaseCore, AfterARestartWithAMasterAClaimIsRefusedForOneLeaseFromTheFirstRequest) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("olympics.db");
  {
    Db db(std::make_unique<SqliteStore>(path));
    as<MasterInfo>(db.ask(claim("fe1", 1)));
  }  // the database stops while fe1 holds a lease

  Db db(std::make_unique<SqliteStore>(path));
  db.clock().advance(ms(10'000));  // the lease starts at the first request, not at construction
  expect_master(db.ask(GetMaster{}), "fe1", 1);
  db.clock().advance(ms(300));
  Error e = error_of(db.ask(claim("fe2", 2)), ErrorCode::kLeaseHeld);
  EXPECT_EQ(e.master, "fe1");
  EXPECT_EQ(e.retry_after_ms, 200);
  db.clock().advance(ms(200));
  expect_master(db.ask(claim("fe2", 2)), "fe2", 2);
}

TEST(DatabaseCore, AfterARestartTheFirstRequestMayBeTheRefusedClaim) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("olympics.db");
  {
    Db db(std::make_unique<SqliteStore>(path));
    as<MasterInfo>(db.ask(claim("fe1", 1)));
  }
  Db db(std::make_unique<SqliteStore>(path));
  EXPECT_EQ(error_of(db.ask(claim("fe2", 2)), ErrorCode::kLeaseHeld).retry_after_ms, 500);
  // The master itself may renew (or reclaim) at once.
  EXPECT_EQ(as<MasterInfo>(db.ask(renew("fe1", 1))).lease_ms, 500);
}

TEST(DatabaseCore, WithNoMasterAtStartTheFirstClaimIsNotHeldBack) {
  Db db;
  db.clock().advance(ms(1));
  expect_master(db.ask(claim("fe2", 1)), "fe2", 1);
  EXPECT_EQ(db.counter("claims_lease_held"), 0);
}

// ---------------------------------------------------------------- registry

TEST(DatabaseCore, RegistrySpreadsTabletsEvenlyOverFrontEnds) {
  Db db;
  for (int i = 0; i < 100; ++i)
    as<TabletHome>(db.ask(assign("t" + std::to_string(i), {"fe1", "fe2"})));
  EXPECT_EQ(as<Registry>(db.ask(list_registry("fe1"))).entries.size(), 50u);
  EXPECT_EQ(as<Registry>(db.ask(list_registry("fe2"))).entries.size(), 50u);
  EXPECT_EQ(as<Registry>(db.ask(list_registry())).entries.size(), 100u);
}

TEST(DatabaseCore, ReRegisteredTabletKeepsItsHome) {
  Db db;
  EXPECT_EQ(as<TabletHome>(db.ask(assign("t1", {"fe1", "fe2"}))).home, "fe1");
  EXPECT_EQ(as<TabletHome>(db.ask(assign("t2", {"fe1", "fe2"}))).home, "fe2");
  EXPECT_EQ(as<TabletHome>(db.ask(assign("t3", {"fe1", "fe2"}))).home, "fe1");
  // fe2 now has fewer tablets, but t1's home fe1 is offered, so it stays.
  EXPECT_EQ(as<TabletHome>(db.ask(assign("t1", {"fe2", "fe1"}))).home, "fe1");
}

TEST(DatabaseCore, TabletWhoseHomeIsNotOfferedIsReassigned) {
  Db db;
  as<TabletHome>(db.ask(assign("t1", {"fe1"})));
  EXPECT_EQ(as<TabletHome>(db.ask(assign("t1", {"fe2"}))).home, "fe2");
  EXPECT_EQ(as<Registry>(db.ask(list_registry())).entries,
            (std::vector<RegistryEntry>{{"t1", "fe2"}}));
}

TEST(DatabaseCore, AssignHomeNeedsKnownFrontEnds) {
  Db db;
  error_of(db.ask(assign("t1", {})), ErrorCode::kBadValue);
  error_of(db.ask(assign("t1", {"fe1", "nope"})), ErrorCode::kBadValue);
  EXPECT_TRUE(as<Registry>(db.ask(list_registry())).entries.empty());
}

// ---------------------------------------------------------------- validation

TEST(DatabaseCore, UnknownEventTeamAndMedalAreRejectedNamingThem) {
  auto db = db_with_master();
  Error event = error_of(db->ask(get_score("Luge")), ErrorCode::kUnknownEvent);
  EXPECT_NE(event.error.find("'Luge'"), std::string::npos) << event.error;
  error_of(db->ask(set_score("Luge", 1, 0, 1)), ErrorCode::kUnknownEvent);
  Error team = error_of(db->ask(get_tally("Britons")), ErrorCode::kUnknownTeam);
  EXPECT_NE(team.error.find("'Britons'"), std::string::npos) << team.error;
  error_of(db->ask(increment("Britons", "gold", 1)), ErrorCode::kUnknownTeam);
  Error medal = error_of(db->ask(increment("Gauls", "tin", 1)), ErrorCode::kUnknownMedal);
  EXPECT_NE(medal.error.find("'tin'"), std::string::npos) << medal.error;
  EXPECT_TRUE(db->store().scores().empty());
  EXPECT_TRUE(db->store().tallies().empty());
  EXPECT_EQ(db->store().last_seq(kPublisher), 0u);
}

TEST(DatabaseCore, NegativeScoreIsBadValue) {
  auto db = db_with_master();
  error_of(db->ask(set_score("Curling", -1, 0, 1)), ErrorCode::kBadValue);
  EXPECT_EQ(db->score("Curling").version, 0u);
}

TEST(DatabaseCore, OpsForOtherRolesAreUnexpectedAndRepliesAreNotAnswered) {
  Db db;
  error_of(db.ask(Heartbeat{}), ErrorCode::kUnexpectedOp);
  EXPECT_TRUE(db.batch({Ack{}}).empty());
  EXPECT_EQ(db.counter("ignored"), 1);
}

TEST(DatabaseCore, ScoreboardHasEveryConfiguredEventAndBothTeamsInOrder) {
  auto db = db_with_master();
  as<Ack>(db->ask(set_score("Skiing", 3, 4, 1)));
  Scoreboard board = as<Scoreboard>(db->ask(GetScoreboard{}));
  ASSERT_EQ(board.scores.size(), 3u);
  EXPECT_EQ(board.scores[0].event, "Curling");
  EXPECT_EQ(board.scores[2].event, "Skiing");
  EXPECT_EQ(board.scores[2].gauls, 3);
  ASSERT_EQ(board.tallies.size(), 2u);
  EXPECT_EQ(board.tallies[0].team, "Gauls");
  EXPECT_EQ(board.tallies[1].team, "Romans");
}

TEST(DatabaseCore, StatsReportCountersAndTheMaster) {
  auto db = db_with_master();
  as<Ack>(db->ask(increment("Gauls", "gold", 1)));
  Stats stats = as<Stats>(db->ask(GetStats{}));
  EXPECT_EQ(stats.node, "db");
  EXPECT_EQ(stats.role, "database");
  EXPECT_EQ(stats.counters["updates_applied"], 1);
  EXPECT_EQ(stats.info["master"], "fe1");
  EXPECT_EQ(stats.info["epoch"], "1");
  EXPECT_EQ(stats.info["master_lease_ms"], "500");
  for (const char* name : {"renewals", "releases", "renewals_fenced", "claims_lease_held"})
    EXPECT_EQ(stats.counters.count(name), 1u) << name;
}

// ---------------------------------------------------------------- group commit

TEST(DatabaseCore, RepliesAreHeldUntilTheBatchCommits) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  DatabaseCore core(Config{}, store, clock);
  Effects out;
  core.on_message("fe1", Message{7, claim("fe1", 1)}, false, clock.now(), out);
  core.on_message("fe2", Message{8, GetMaster{}}, false, clock.now(), out);
  EXPECT_TRUE(out.items().empty());
  core.on_batch_end(clock.now(), out);
  ASSERT_EQ(out.items().size(), 2u);
  EXPECT_EQ(out.items()[0].to, "fe1");
  EXPECT_EQ(out.items()[0].msg.req, 7u);
  EXPECT_EQ(out.items()[1].to, "fe2");
  EXPECT_EQ(out.items()[1].msg.req, 8u);
  expect_master(out.items()[1].msg, "fe1", 1);
}

// A Store over SQLite whose next commit can be made to fail, as a full disk would.
class FailingCommitStore final : public Store {
 public:
  bool fail_next_commit = false;

  void begin() override { inner_.begin(); }
  void commit() override {
    if (std::exchange(fail_next_commit, false))
      throw std::runtime_error("sqlite: COMMIT: disk is full");
    inner_.commit();
  }
  void rollback() override { inner_.rollback(); }
  Score score(const std::string& e) override { return inner_.score(e); }
  void put_score(const Score& s) override { inner_.put_score(s); }
  Tally tally(const std::string& t) override { return inner_.tally(t); }
  void put_tally(const Tally& t) override { inner_.put_tally(t); }
  std::vector<Score> scores() override { return inner_.scores(); }
  std::vector<Tally> tallies() override { return inner_.tallies(); }
  MasterInfo master() override { return inner_.master(); }
  void set_master(const MasterInfo& m) override { inner_.set_master(m); }
  uint64_t last_seq(const std::string& p) override { return inner_.last_seq(p); }
  void set_last_seq(const std::string& p, uint64_t s) override { inner_.set_last_seq(p, s); }
  void record_applied(const AppliedUpdate& u) override { inner_.record_applied(u); }
  std::optional<AppliedUpdate> applied(const std::string& p, uint64_t s) override {
    return inner_.applied(p, s);
  }
  std::vector<AppliedUpdate> applied_log() override { return inner_.applied_log(); }
  std::vector<AppliedUpdate> recent_applied(const std::string& k, int64_t after, size_t limit) override {
    return inner_.recent_applied(k, after, limit);
  }
  std::optional<std::string> home(const std::string& t) override { return inner_.home(t); }
  void set_home(const std::string& t, const std::string& f) override { inner_.set_home(t, f); }
  int64_t home_count(const std::string& f) override { return inner_.home_count(f); }
  std::vector<RegistryEntry> registry(const std::optional<std::string>& h) override {
    return inner_.registry(h);
  }
  std::optional<std::string> kv_get(const std::string& k) override { return inner_.kv_get(k); }
  void kv_put(const std::string& k, const std::string& v) override { inner_.kv_put(k, v); }
  int64_t kv_bytes() override { return inner_.kv_bytes(); }

 private:
  SqliteStore inner_{":memory:"};
};

TEST(DatabaseCore, FailedCommitTurnsEveryReplyOfTheBatchIntoStorageError) {
  auto owned = std::make_unique<FailingCommitStore>();
  FailingCommitStore& store = *owned;
  Db db(std::move(owned));
  as<MasterInfo>(db.ask(claim("fe1", 1)));

  store.fail_next_commit = true;
  auto replies = db.batch({increment("Gauls", "gold", 1), get_tally("Gauls")});
  ASSERT_EQ(replies.size(), 2u);
  Error e = error_of(replies[0], ErrorCode::kStorage);
  EXPECT_NE(e.error.find("disk is full"), std::string::npos) << e.error;
  error_of(replies[1], ErrorCode::kStorage);

  EXPECT_EQ(db.tally("Gauls").version, 0u);
  EXPECT_EQ(as<Ack>(db.ask(increment("Gauls", "gold", 1))).version,
            1u);  // the resend is applied once
  EXPECT_EQ(db.tally("Gauls").gold, 1);
}

TEST(DatabaseCore, RenewalReplyIsHeldBehindTheBatchsWritesInOrder) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  DatabaseCore core(Config{}, store, clock);
  Effects out;
  core.on_message("fe1", Message{1, claim("fe1", 1)}, false, clock.now(), out);
  core.on_message("fe1", Message{2, renew("fe1", 1)}, false, clock.now(), out);
  core.on_message("fe1", Message{3, increment("Gauls", "gold", 1)}, false, clock.now(), out);
  EXPECT_TRUE(out.items().empty());
  core.on_batch_end(clock.now(), out);
  ASSERT_EQ(out.items().size(), 3u);
  EXPECT_EQ(out.items()[1].msg.req, 2u);
  EXPECT_EQ(as<MasterInfo>(out.items()[1].msg).lease_ms, 500);
  EXPECT_EQ(out.items()[2].msg.req, 3u);
}

TEST(DatabaseCore, ClaimRolledBackByAFailedCommitTakesItsLeaseBack) {
  auto owned = std::make_unique<FailingCommitStore>();
  FailingCommitStore& store = *owned;
  Db db(std::move(owned));
  as<MasterInfo>(db.ask(claim("fe1", 1)));
  db.expire_lease();

  store.fail_next_commit = true;
  error_of(db.ask(claim("fe2", 2)), ErrorCode::kStorage);
  expect_master(db.ask(GetMaster{}), "fe1", 1);
  // fe1's lease had run out and fe2's never was: another claim goes through at once.
  expect_master(db.ask(claim("fe2", 2)), "fe2", 2);
}

// ---------------------------------------------------------------- durability

TEST(DatabaseCore, CommittedBatchIsInTheFileBeforeTheStoreCloses) {
  oly::testing::TempDir dir;
  Db db(std::make_unique<SqliteStore>(dir.file("olympics.db")));
  as<MasterInfo>(db.ask(claim("fe1", 1)));
  as<Ack>(db.ask(increment("Romans", "bronze", 1)));
  SqliteStore other(dir.file("olympics.db"));  // a second connection, the first still open
  EXPECT_EQ(other.tally("Romans"), (Tally{"Romans", 0, 0, 1, 1}));
}

TEST(DatabaseCore, EverythingSurvivesReopeningTheFileWithoutShutdown) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("olympics.db");
  {
    Db db(std::make_unique<SqliteStore>(path));
    as<MasterInfo>(db.ask(claim("fe1", 1)));
    db.expire_lease();
    as<MasterInfo>(db.ask(claim("fe2", 2)));
    db.batch({set_score("Curling", 3, 1, 1, 2), increment("Gauls", "gold", 2, 2),
              increment("Gauls", "gold", 3, 2)});
    for (int i = 0; i < 4; ++i)
      as<TabletHome>(db.ask(assign("t" + std::to_string(i), {"fe1", "fe2"})));
  }  // the core and the store are destroyed with no shutdown call

  Db db(std::make_unique<SqliteStore>(path));
  expect_master(db.ask(GetMaster{}), "fe2", 2);
  const Score curling = db.score("Curling");
  EXPECT_EQ(curling.gauls, 3);
  EXPECT_EQ(curling.romans, 1);
  EXPECT_EQ(curling.version, 1u);
  EXPECT_EQ(db.tally("Gauls"), (Tally{"Gauls", 2, 0, 0, 2}));
  EXPECT_EQ(db.store().last_seq(kPublisher), 3u);
  Ack resent = as<Ack>(db.ask(increment("Gauls", "gold", 3, 2)));
  EXPECT_TRUE(resent.duplicate);
  EXPECT_EQ(resent.version, 2u);
  EXPECT_EQ(as<Ack>(db.ask(increment("Gauls", "gold", 4, 2))).version, 3u);
  EXPECT_EQ(
      as<Registry>(db.ask(list_registry())).entries,
      (std::vector<RegistryEntry>{{"t0", "fe1"}, {"t1", "fe2"}, {"t2", "fe1"}, {"t3", "fe2"}}));
}

}  // namespace
}  // namespace oly::database
