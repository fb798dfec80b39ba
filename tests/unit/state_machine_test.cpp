// The replicated state machine on its own (no Node, no request handler): the decision table of
// apply, apply_batch as one transaction, and replicas that apply the same command batches (as
// given or through their encoded bytes, at different real times, or replaying what a DatabaseCore
// committed) ending byte for byte identical.
#include "database/state_machine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/codec.h"
#include "database/database_core.h"
#include "database/sqlite_store.h"

namespace oly::database {
namespace {

const std::string kPublisher = "caco-1";
constexpr int64_t kAtUs = 5'000'000;            // a monotonic time, as the handler stamps it
constexpr int64_t kWallMs = 1'700'000'000'000;  // a wall-clock time, ms

// Commands as a request handler would make them; each stamped with times derived from its seq.
cmd::SetScore set_score(const std::string& event, int64_t gauls, int64_t romans, uint64_t seq,
                        std::optional<uint64_t> epoch = 1) {
  return {.event = event,
          .gauls = gauls,
          .romans = romans,
          .publisher = kPublisher,
          .seq = seq,
          .epoch = epoch,
          .committed_at_us = kAtUs + static_cast<int64_t>(seq),
          .updated_at = kWallMs + static_cast<int64_t>(seq),
          .from = "fe1"};
}

cmd::IncrementMedalTally increment(const std::string& team, const std::string& medal, uint64_t seq,
                                   std::optional<uint64_t> epoch = 1) {
  return {.team = team,
          .medal = medal,
          .publisher = kPublisher,
          .seq = seq,
          .epoch = epoch,
          .committed_at_us = kAtUs + static_cast<int64_t>(seq),
          .from = "fe1"};
}

cmd::ClaimMaster claim(const std::string& frontend, uint64_t epoch, int64_t lease_left_us = 0) {
  return {.frontend = frontend, .epoch = epoch, .lease_left_us = lease_left_us, .from = frontend};
}

cmd::AssignHome assign(const std::string& tablet, std::vector<std::string> frontends) {
  return {.tablet = tablet, .frontends = std::move(frontends)};
}

// The request an update command is made from: the command's fields that the request has by the
// same name and type (its times are the handler's to stamp, its token is none).
template <class Request, class Update>
Request request_of(Update c) {
  Request m;
  m.visit([&](const char* name, auto& to) {
    c.visit([&](const char* from_name, const auto& from) {
      if constexpr (std::is_same_v<std::decay_t<decltype(to)>, std::decay_t<decltype(from)>>) {
        if (std::string_view(name) == from_name) to = from;
      }
    });
  });
  return m;
}

// The reply of `r` as a T, checking that apply decided `outcome`.
template <class T>
T reply_of(const Result& r, Outcome outcome) {
  EXPECT_EQ(r.outcome, outcome);
  if (!std::holds_alternative<T>(r.reply)) {
    ADD_FAILURE() << "expected " << T::kOp << ", got " << op_name(r.reply);
    return T{};
  }
  return std::get<T>(r.reply);
}

Error error_of(const Result& r, Outcome outcome, ErrorCode code) {
  Error e = reply_of<Error>(r, outcome);
  EXPECT_EQ(e.code, code) << e.error;
  return e;
}

// One replica: a store and the state machine over it.
struct Replica {
  SqliteStore store{":memory:"};
  StateMachine machine{store};
  Result apply(const Command& c) { return machine.apply(c); }
};

// A replica where fe1 holds epoch 1.
std::unique_ptr<Replica> replica_with_master() {
  auto r = std::make_unique<Replica>();
  reply_of<MasterInfo>(r->apply(claim("fe1", 1)), Outcome::claimed);
  return r;
}

// Checks that two stores hold the same rows, applied log, registry and master row, and the same
// dump (which also covers the publishers' last seqs and the order of rows).
void expect_identical(SqliteStore& a, SqliteStore& b) {
  EXPECT_EQ(a.scores(), b.scores());
  EXPECT_EQ(a.tallies(), b.tallies());
  EXPECT_EQ(a.master().frontend, b.master().frontend);
  EXPECT_EQ(a.master().epoch, b.master().epoch);
  EXPECT_EQ(a.applied_log(), b.applied_log());
  EXPECT_EQ(a.registry(std::nullopt), b.registry(std::nullopt));
  EXPECT_EQ(a.dump(), b.dump());
}

// A result as bytes (its outcome, then its reply as the wire carries it), to compare two.
std::string bytes(const Result& r) {
  return std::to_string(static_cast<int>(r.outcome)) + ":" + encode(Message{0, r.reply});
}

std::vector<std::string> bytes(const std::vector<Result>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.push_back(bytes(r));
  return out;
}

// ---------------------------------------------------------------- the decision table of apply

TEST(StateMachine, UpdateBeforeAnyClaimIsFencedAndWritesNothing) {
  Replica r;
  Error e = error_of(r.apply(set_score("Curling", 1, 0, 1, 0)), Outcome::fenced, ErrorCode::kFenced);
  EXPECT_EQ(e.epoch, 0u);
  EXPECT_NE(e.error.find("no master yet"), std::string::npos) << e.error;
  error_of(r.apply(increment("Gauls", "gold", 1, std::nullopt)), Outcome::fenced, ErrorCode::kFenced);
  EXPECT_TRUE(r.store.scores().empty());
  EXPECT_TRUE(r.store.applied_log().empty());
  EXPECT_EQ(r.store.last_seq(kPublisher), 0u);
}

TEST(StateMachine, UpdateWithAStaleOrMissingEpochIsFencedNamingTheCurrentMaster) {
  auto r = replica_with_master();
  reply_of<MasterInfo>(r->apply(claim("fe2", 2)), Outcome::claimed);
  Error stale =
      error_of(r->apply(set_score("Curling", 1, 0, 1, 1)), Outcome::fenced, ErrorCode::kFenced);
  EXPECT_EQ(stale.epoch, 2u);
  EXPECT_EQ(stale.master, "fe2");
  error_of(r->apply(set_score("Curling", 1, 0, 1, std::nullopt)), Outcome::fenced, ErrorCode::kFenced);
  error_of(r->apply(set_score("Curling", 1, 0, 1, 3)), Outcome::fenced, ErrorCode::kFenced);
  EXPECT_EQ(r->store.score("Curling").version, 0u);
  reply_of<Ack>(r->apply(set_score("Curling", 1, 0, 1, 2)), Outcome::applied);
}

TEST(StateMachine, NextSeqIsAppliedWithTheCommandsOwnTimestamps) {
  auto r = replica_with_master();
  cmd::SetScore c = set_score("Skiing", 3, 4, 1);
  c.committed_at_us = 123'456;
  c.updated_at = 42;
  Ack ack = reply_of<Ack>(r->apply(c), Outcome::applied);
  EXPECT_FALSE(ack.duplicate);
  EXPECT_EQ(ack.key, "score/Skiing");
  EXPECT_EQ(ack.version, 1u);
  EXPECT_EQ(ack.score, (Score{"Skiing", 3, 4, 1, 42}));
  EXPECT_EQ(r->store.score("Skiing"), (Score{"Skiing", 3, 4, 1, 42}));
  Ack medal = reply_of<Ack>(r->apply(increment("Romans", "silver", 2)), Outcome::applied);
  EXPECT_EQ(medal.tally, (Tally{"Romans", 0, 1, 0, 1}));
  EXPECT_EQ(
      r->store.applied_log(),
      (std::vector<AppliedUpdate>{
          {kPublisher, 1, "score/Skiing", 1, "set_score", 123'456, 3, 4, ""},
          {kPublisher, 2, "tally/Romans", 1, "increment_medal_tally", kAtUs + 2, 0, 0, "silver"}}));
  EXPECT_EQ(r->store.last_seq(kPublisher), 2u);
}

TEST(StateMachine, DuplicateReturnsTheStoredResultWithTheKeysCurrentValueAndChangesNothing) {
  auto r = replica_with_master();
  reply_of<Ack>(r->apply(set_score("Curling", 1, 0, 1)), Outcome::applied);
  reply_of<Ack>(r->apply(set_score("Curling", 2, 0, 2)), Outcome::applied);
  const std::string before = r->store.dump();
  // Resent with other values (and at another time): still the stored result of seq 1.
  Ack again = reply_of<Ack>(r->apply(set_score("Curling", 9, 9, 1)), Outcome::duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.key, "score/Curling");
  EXPECT_EQ(again.version, 1u);
  ASSERT_TRUE(again.score.has_value());
  EXPECT_EQ(again.score->version, 2u);  // the key's current value, newer than the duplicate
  EXPECT_EQ(again.score->gauls, 2);
  EXPECT_EQ(r->store.dump(), before);
}

TEST(StateMachine, TheExactlyOnceRecordKeepsAPublishersLastWindowOfSeqsAndTheHistoryKeepsAll) {
  auto r = replica_with_master();
  // Ends on a pruning seq: the record then holds exactly the last window.
  const uint64_t n = kExactlyOnceWindow + 2 * kExactlyOncePruneEvery;
  for (uint64_t seq = 1; seq <= n; ++seq) reply_of<Ack>(r->apply(set_score("Curling", 1, 0, seq)), Outcome::applied);
  // The replicated state holds the last window; the store's history (not state) every update.
  EXPECT_FALSE(r->store.applied(kPublisher, n - kExactlyOnceWindow).has_value());
  EXPECT_TRUE(r->store.applied(kPublisher, n - kExactlyOnceWindow + 1).has_value());
  EXPECT_TRUE(r->store.applied(kPublisher, n).has_value());
  EXPECT_EQ(r->store.applied_log().size(), n);
  // A resend within the window gets its stored result; an older one a clear stale_seq.
  EXPECT_EQ(reply_of<Ack>(r->apply(set_score("Curling", 9, 9, n - 5)), Outcome::duplicate).version, n - 5);
  Error e = error_of(r->apply(set_score("Curling", 9, 9, 7)), Outcome::stale_seq, ErrorCode::kStaleSeq);
  EXPECT_NE(e.error.find("older than the last " + std::to_string(kExactlyOnceWindow)), std::string::npos) << e.error;
  EXPECT_EQ(r->store.score("Curling").version, n);
}

TEST(StateMachine, PastSeqMissingFromTheLogIsStaleSeq) {
  auto r = replica_with_master();
  r->store.set_last_seq(kPublisher, 5);  // as if the log of seqs 1..5 had been pruned
  Error e = error_of(r->apply(increment("Gauls", "gold", 3)), Outcome::stale_seq, ErrorCode::kStaleSeq);
  EXPECT_NE(e.error.find("last applied 5"), std::string::npos) << e.error;
  EXPECT_EQ(r->store.tally("Gauls").version, 0u);
}

TEST(StateMachine, SeqBeyondTheNextIsSeqGapNamingTheExpectedSeq) {
  auto r = replica_with_master();
  reply_of<Ack>(r->apply(increment("Gauls", "gold", 1)), Outcome::applied);
  Error e = error_of(r->apply(increment("Gauls", "gold", 3)), Outcome::seq_gap, ErrorCode::kSeqGap);
  EXPECT_NE(e.error.find("expected seq 2"), std::string::npos) << e.error;
  EXPECT_EQ(r->store.tally("Gauls").gold, 1);
  EXPECT_EQ(r->store.last_seq(kPublisher), 1u);
}

TEST(StateMachine, FencingIsDecidedBeforeTheSeqRules) {
  auto r = replica_with_master();
  reply_of<Ack>(r->apply(increment("Gauls", "gold", 1)), Outcome::applied);
  error_of(r->apply(increment("Gauls", "gold", 1, 7)), Outcome::fenced, ErrorCode::kFenced);
  error_of(r->apply(increment("Gauls", "gold", 5, 7)), Outcome::fenced, ErrorCode::kFenced);
}

TEST(StateMachine, ClaimIsACompareAndSetOnTheEpoch) {
  Replica r;
  Error early = error_of(r.apply(claim("fe1", 2)), Outcome::claim_fenced, ErrorCode::kFenced);
  EXPECT_EQ(early.epoch, 0u);
  MasterInfo won = reply_of<MasterInfo>(r.apply(claim("fe1", 1)), Outcome::claimed);
  EXPECT_EQ(won.frontend, "fe1");
  EXPECT_EQ(won.epoch, 1u);
  EXPECT_FALSE(won.lease_ms.has_value());  // the lease is the handler's to add
  // A resent claim that already succeeded is fenced naming the claimant itself.
  Error resent = error_of(r.apply(claim("fe1", 1)), Outcome::claim_fenced, ErrorCode::kFenced);
  EXPECT_EQ(resent.master, "fe1");
  EXPECT_EQ(resent.epoch, 1u);
  error_of(r.apply(claim("fe2", 1)), Outcome::claim_fenced, ErrorCode::kFenced);
  EXPECT_EQ(r.store.master().frontend, "fe1");
  EXPECT_EQ(r.store.master().epoch, 1u);
}

TEST(StateMachine, ClaimByAnotherFrontEndWhileTheStampedLeaseRunsIsLeaseHeld) {
  auto r = replica_with_master();
  Error held = error_of(r->apply(claim("fe2", 2, 300'000)), Outcome::lease_held, ErrorCode::kLeaseHeld);
  EXPECT_EQ(held.master, "fe1");
  EXPECT_EQ(held.epoch, 1u);
  EXPECT_EQ(held.retry_after_ms, 300);
  EXPECT_NE(held.error.find("300 ms"), std::string::npos) << held.error;
  // What is left is rounded up, never to 0.
  EXPECT_EQ(error_of(r->apply(claim("fe2", 2, 250)), Outcome::lease_held, ErrorCode::kLeaseHeld)
                .retry_after_ms,
            1);
  // The compare-and-set is decided first: a claim of the wrong epoch is fenced, lease or not.
  Error wrong = error_of(r->apply(claim("fe2", 3, 300'000)), Outcome::claim_fenced, ErrorCode::kFenced);
  EXPECT_FALSE(wrong.retry_after_ms.has_value());
  EXPECT_EQ(r->store.master().epoch, 1u);
  // The current master's own id (a restarted incarnation) is not held back.
  reply_of<MasterInfo>(r->apply(claim("fe1", 2, 300'000)), Outcome::claimed);
  // With no lease left, another front end takes over.
  reply_of<MasterInfo>(r->apply(claim("fe2", 3, 0)), Outcome::claimed);
  EXPECT_EQ(r->store.master().frontend, "fe2");
}

TEST(StateMachine, AssignHomeKeepsAnOfferedHomeElseTakesTheLeastLoaded) {
  Replica r;
  EXPECT_EQ(
      reply_of<TabletHome>(r.apply(assign("t1", {"fe1", "fe2"})), Outcome::home_assigned).home,
      "fe1");
  EXPECT_EQ(
      reply_of<TabletHome>(r.apply(assign("t2", {"fe1", "fe2"})), Outcome::home_assigned).home,
      "fe2");
  EXPECT_EQ(
      reply_of<TabletHome>(r.apply(assign("t3", {"fe2", "fe1"})), Outcome::home_assigned).home,
      "fe2");  // a tie goes to the earliest in the list
  EXPECT_EQ(reply_of<TabletHome>(r.apply(assign("t1", {"fe2", "fe1"})), Outcome::home_kept).home,
            "fe1");
  EXPECT_EQ(reply_of<TabletHome>(r.apply(assign("t1", {"fe2"})), Outcome::home_assigned).home,
            "fe2");
  error_of(r.apply(assign("t4", {})), Outcome::invalid, ErrorCode::kBadValue);
  EXPECT_EQ(r.store.registry(std::nullopt),
            (std::vector<RegistryEntry>{{"t1", "fe2"}, {"t2", "fe2"}, {"t3", "fe2"}}));
}

TEST(StateMachine, WroteIsTrueExactlyForTheOutcomesThatWrite) {
  for (Outcome o : {Outcome::applied, Outcome::claimed, Outcome::home_assigned})
    EXPECT_TRUE(wrote(o)) << static_cast<int>(o);
  for (Outcome o :
       {Outcome::duplicate, Outcome::fenced, Outcome::stale_seq, Outcome::seq_gap,
        Outcome::claim_fenced, Outcome::lease_held, Outcome::home_kept, Outcome::invalid})
    EXPECT_FALSE(wrote(o)) << static_cast<int>(o);
}

// ---------------------------------------------------------------- batches

TEST(StateMachine, BatchIsAppliedInOrderWithOneResultPerCommand) {
  Replica r;
  const auto results = r.machine.apply_batch(
      {set_score("Curling", 1, 0, 1), claim("fe1", 1), set_score("Curling", 1, 0, 1),
       increment("Gauls", "gold", 3), set_score("Curling", 1, 0, 1), assign("t1", {"fe2"})});
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].outcome, Outcome::fenced);  // before the claim
  EXPECT_EQ(results[1].outcome, Outcome::claimed);
  EXPECT_EQ(results[2].outcome, Outcome::applied);
  EXPECT_EQ(results[3].outcome, Outcome::seq_gap);
  EXPECT_EQ(results[4].outcome, Outcome::duplicate);
  EXPECT_EQ(results[5].outcome, Outcome::home_assigned);
  EXPECT_EQ(r.store.score("Curling").version, 1u);
}

TEST(StateMachine, StorageFailureMidBatchLeavesNothingOfTheBatch) {
  Replica r;
  r.machine.apply_batch({claim("fe1", 1), set_score("Curling", 1, 0, 1)});
  // The publisher's last seq goes back while seq 1 stays in the log: applying seq 1 again makes
  // the Store throw (the log refuses a second (publisher, seq)) half-way through the batch.
  r.store.set_last_seq(kPublisher, 0);
  const std::string before = r.store.dump();
  EXPECT_THROW(r.machine.apply_batch({claim("fe1", 2), assign("t1", {"fe1"}),
                                      set_score("Curling", 5, 5, 1, 2), assign("t2", {"fe1"})}),
               std::runtime_error);
  EXPECT_EQ(r.store.dump(), before);
  EXPECT_EQ(r.store.master().epoch, 1u);
  EXPECT_TRUE(r.store.registry(std::nullopt).empty());
  // No transaction was left open: the next batch goes through.
  r.store.set_last_seq(kPublisher, 1);
  EXPECT_EQ(r.machine.apply_batch({set_score("Curling", 2, 0, 2)})[0].outcome, Outcome::applied);
}

// ---------------------------------------------------------------- replicas

// Two replicas: `leader` applies each batch as given, `follower` the batch decoded from its
// bytes, as a Raft follower would; both must give the same results.
struct Pair {
  Replica leader;
  Replica follower;

  std::vector<Result> apply(const CommandBatch& batch) {
    const std::vector<Result> results = leader.machine.apply_batch(batch);
    DecodedBatch decoded = decode_batch(encode_batch(batch));
    EXPECT_EQ(decoded.error, "");
    EXPECT_EQ(bytes(follower.machine.apply_batch(decoded.batch)), bytes(results));
    return results;
  }
};

TEST(Replicas, SameBatchesWithRefusalsAndFailuresMidWayLeaveThemIdentical) {
  Pair p;
  p.apply({set_score("Curling", 1, 0, 1), claim("fe1", 2)});  // fenced, claim fenced
  p.apply({claim("fe1", 1), claim("fe2", 1), set_score("Curling", 1, 0, 1),
           increment("Gauls", "gold", 2), increment("Gauls", "gold", 2)});  // ..., duplicate
  p.apply({increment("Romans", "bronze", 5), set_score("Skiing", 2, 2, 3),
           claim("fe2", 2, 120'000)});  // seq gap, applied, lease held
  p.apply({assign("t1", {"fe1", "fe2"}), assign("t2", {"fe1", "fe2"}), assign("t1", {"fe2"})});
  p.apply({claim("fe2", 2), set_score("Skiing", 9, 9, 4, 1),  // fe1 is fenced from now on
           increment("Gauls", "silver", 4, 2), set_score("Curling", 5, 1, 1, 2)});
  // A storage failure half-way through a batch, on both.
  for (Replica* r : {&p.leader, &p.follower}) r->store.set_last_seq(kPublisher, 0);
  const CommandBatch failing = {assign("t3", {"fe1"}), increment("Gauls", "gold", 1, 2)};
  EXPECT_THROW(p.leader.machine.apply_batch(failing), std::runtime_error);
  EXPECT_THROW(p.follower.machine.apply_batch(failing), std::runtime_error);
  // A pruned log on both: a past seq is stale.
  for (Replica* r : {&p.leader, &p.follower}) r->store.set_last_seq(kPublisher, 10);
  const auto results = p.apply({increment("Gauls", "gold", 7, 2), increment("Gauls", "gold", 11, 2),
                                set_score("Curling", 0, 0, 4, 2)});
  EXPECT_EQ(results[0].outcome, Outcome::stale_seq);
  EXPECT_EQ(results[1].outcome, Outcome::applied);
  EXPECT_EQ(results[2].outcome, Outcome::duplicate);
  expect_identical(p.leader.store, p.follower.store);
  EXPECT_EQ(p.leader.store.applied_log().size(), 5u);
  EXPECT_EQ(p.leader.store.master().frontend, "fe2");
}

// A random command from a small world (3 publishers, 2 front ends, 3 events, 20 tablets), near
// the stored state so that every outcome comes up: `next` holds each publisher's next seq as the
// batch so far would have it.
Command random_command(std::mt19937_64& rng, Store& store, std::map<std::string, uint64_t>& next) {
  auto pick = [&](auto n) { return static_cast<decltype(n)>(rng() % static_cast<uint64_t>(n)); };
  const std::vector<std::string> frontends = {"fe1", "fe2"};
  const uint64_t epoch = store.master().epoch;
  switch (pick(10)) {
    case 0:
    case 1: {
      const int64_t lease = pick(2) == 0 ? 0 : 1 + pick(int64_t{500'000});
      return claim(frontends[pick(2)], epoch + pick(uint64_t{2}), lease);
    }
    case 2: {
      std::vector<std::string> offered = frontends;
      std::shuffle(offered.begin(), offered.end(), rng);
      offered.resize(1 + pick(2));
      return assign("t" + std::to_string(pick(20)), offered);
    }
    default: {
      const std::string publisher = "p" + std::to_string(pick(3));
      uint64_t& n = next[publisher];
      if (n == 0) n = store.last_seq(publisher) + 1;
      const int choice = pick(8);
      const uint64_t seq = choice < 5 ? n++ : choice == 5 ? n + 1 : 1 + pick(n);
      const std::optional<uint64_t> given =
          pick(10) == 0 ? std::nullopt : std::optional(epoch - (pick(8) == 0 ? 1 : 0));
      const int64_t at = 7'000'000 + pick(int64_t{1'000'000});
      if (pick(2) == 0) {
        const std::string events[] = {"Curling", "Skating", "Skiing"};
        cmd::SetScore c = set_score(events[pick(3)], pick(10), pick(10), seq, given);
        c.publisher = publisher;
        c.committed_at_us = at;
        c.updated_at = kWallMs + at / 1000;
        return c;
      }
      cmd::IncrementMedalTally c =
          increment(pick(2) == 0 ? "Gauls" : "Romans", medals()[pick(medals().size())], seq, given);
      c.publisher = publisher;
      c.committed_at_us = at;
      return c;
    }
  }
}

TEST(Replicas, RandomBatchesLeaveThemIdentical) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Pair p;
  std::map<Outcome, int> outcomes;
  for (int b = 0; b < 200; ++b) {
    std::map<std::string, uint64_t> next;
    CommandBatch batch;
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) batch.push_back(random_command(rng, p.leader.store, next));
    for (const auto& r : p.apply(batch)) ++outcomes[r.outcome];
    if (::testing::Test::HasFailure()) break;
  }
  expect_identical(p.leader.store, p.follower.store);
  for (Outcome o :
       {Outcome::applied, Outcome::duplicate, Outcome::fenced, Outcome::seq_gap, Outcome::claimed,
        Outcome::claim_fenced, Outcome::lease_held, Outcome::home_assigned})
    EXPECT_GT(outcomes[o], 0) << "outcome " << static_cast<int>(o) << " never came up";
}

TEST(Replicas, ApplyingAtAnotherRealTimeGivesTheSameState) {
  const CommandBatch batch = {claim("fe1", 1), set_score("Curling", 3, 1, 1),
                              increment("Gauls", "gold", 2), assign("t1", {"fe1", "fe2"})};
  Replica early;
  const auto early_results = early.machine.apply_batch(batch);
  // Let the real clocks move on (by polling them, not sleeping) before the second replica applies.
  const auto wall = std::chrono::system_clock::now();
  const auto steady = std::chrono::steady_clock::now();
  while (std::chrono::system_clock::now() - wall < std::chrono::milliseconds(3) ||
         std::chrono::steady_clock::now() - steady < std::chrono::milliseconds(3)) {
  }
  Replica late;
  EXPECT_EQ(bytes(late.machine.apply_batch(batch)), bytes(early_results));
  expect_identical(early.store, late.store);
  EXPECT_EQ(late.store.score("Curling").updated_at, kWallMs + 1);  // the command's, not the clock's
  EXPECT_EQ(late.store.applied_log().at(0).committed_at_us, kAtUs + 1);
}

// A DatabaseCore driven as a Node would, whose committed batches, as bytes, are replayed by a
// follower: the follower ends identical, and decides what the leader decided.
TEST(Replicas, FollowerReplayingWhatTheRequestHandlerCommittedEndsIdentical) {
  SqliteStore leader_store(":memory:");
  VirtualClock clock;
  DatabaseCore leader(Config{}, leader_store, clock);
  std::vector<std::string> log;  // what Raft entries will carry
  leader.on_commit([&](const CommandBatch& batch) { log.push_back(encode_batch(batch)); });
  uint64_t req = 0;
  auto step = [&](const std::string& from, const std::vector<Body>& requests) {
    Effects out;
    for (const auto& body : requests)
      leader.on_message(from, Message{++req, body}, false, clock.now(), out);
    leader.on_batch_end(clock.now(), out);
    clock.advance(ms(7));
  };
  GetScore read;
  read.event = "Curling";
  const Body curling = request_of<SetScore>(set_score("Curling", 1, 0, 1));
  const Body gold = request_of<IncrementMedalTally>(increment("Gauls", "gold", 2));
  step("fe1", {curling, ClaimMaster{.frontend = "fe1", .epoch = 1}, curling, gold, gold,
               request_of<IncrementMedalTally>(increment("Gauls", "gold", 9)), read});
  step("fe2", {ClaimMaster{.frontend = "fe2", .epoch = 2},  // lease held
               AssignHome{.tablet = "t1", .frontends = {"fe1", "fe2"}},
               AssignHome{.tablet = "t2", .frontends = {"fe1", "fe2"}}});
  step("fe1", {RenewMaster{.frontend = "fe1", .epoch = 1},
               request_of<SetScore>(set_score("Skiing", 2, 5, 3))});
  step("fe1", {GetMaster{}});  // a run without commands commits nothing
  clock.advance(ms(600));      // fe1's lease runs out
  step("fe2", {ClaimMaster{.frontend = "fe2", .epoch = 2},
               request_of<SetScore>(set_score("Curling", 7, 0, 4))});
  step("fe2", {RenewMaster{.frontend = "fe2", .epoch = 2, .release = true},
               ClaimMaster{.frontend = "fe1", .epoch = 3},
               request_of<SetScore>(set_score("Curling", 7, 0, 4, 3))});
  ASSERT_EQ(log.size(), 5u);

  Replica follower;
  std::map<Outcome, int64_t> decided;
  for (const auto& entry : log) {
    DecodedBatch decoded = decode_batch(entry);
    ASSERT_EQ(decoded.error, "");
    for (const auto& r : follower.machine.apply_batch(decoded.batch)) ++decided[r.outcome];
  }
  expect_identical(leader_store, follower.store);
  auto& counters = leader.counters();
  EXPECT_EQ(decided[Outcome::applied], counters["updates_applied"]);
  EXPECT_EQ(decided[Outcome::duplicate], counters["duplicates"]);
  EXPECT_EQ(decided[Outcome::fenced], counters["fenced"]);
  EXPECT_EQ(decided[Outcome::seq_gap], counters["seq_gaps"]);
  EXPECT_EQ(decided[Outcome::claimed], counters["claims"]);
  EXPECT_EQ(decided[Outcome::lease_held], counters["claims_lease_held"]);
  EXPECT_EQ(counters["claims_lease_held"], 1);
  EXPECT_EQ(counters["updates_applied"], 4);
  EXPECT_EQ(follower.store.master().frontend, "fe1");
  EXPECT_EQ(follower.store.master().epoch, 3u);
}

}  // namespace
}  // namespace oly::database

namespace oly::database {
namespace {

TEST(StateMachineKv, ASetAnswersTheOldValueAndASetBeyondTheStoresLimitIsRefusedWithNothingStored) {
  SqliteStore store(":memory:");
  StateMachine machine(store);
  Result r = machine.apply(cmd::KvSet{"city", "Namur"});
  EXPECT_EQ(r.outcome, Outcome::kv_set);
  EXPECT_TRUE(wrote(r.outcome));
  EXPECT_EQ(std::get<KvValue>(r.reply).key, "city");
  EXPECT_EQ(std::get<KvValue>(r.reply).value, std::nullopt);
  r = machine.apply(cmd::KvSet{"city", "Li\xc3\xa8ge"});
  EXPECT_EQ(std::get<KvValue>(r.reply).value, "Namur");
  EXPECT_EQ(store.kv_get("city"), "Li\xc3\xa8ge");

  // Fill the store to its limit with values of the largest size allowed.
  const std::string big(kKvMaxValueBytes, 'v');
  int i = 0;
  while (true) {
    r = machine.apply(cmd::KvSet{"k" + std::to_string(i++), big});
    if (r.outcome != Outcome::kv_set) break;
  }
  EXPECT_EQ(r.outcome, Outcome::store_full);
  EXPECT_EQ(std::get<Error>(r.reply).code, ErrorCode::kStoreFull);
  EXPECT_LE(store.kv_bytes(), kKvMaxStoreBytes);
  EXPECT_GT(store.kv_bytes(), kKvMaxStoreBytes - static_cast<int64_t>(kKvMaxValueBytes + 16));
  EXPECT_EQ(store.kv_get("k" + std::to_string(i - 1)), std::nullopt) << "the refused set stored nothing";
  // Replacing a value by a shorter one still fits.
  r = machine.apply(cmd::KvSet{"k0", "short"});
  EXPECT_EQ(r.outcome, Outcome::kv_set);
  EXPECT_EQ(std::get<KvValue>(r.reply).value, big);
}

TEST(StateMachineKv, ASetSurvivesTheBatchEncoding) {
  const CommandBatch batch = {cmd::KvSet{"a=", "b\xc3\xa8"}};
  const DecodedBatch d = decode_batch(encode_batch(batch));
  ASSERT_EQ(d.error, "");
  EXPECT_EQ(d.batch, batch);
}

}  // namespace
}  // namespace oly::database
