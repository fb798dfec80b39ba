// The two consistency protocols on their own, through the ConsistencyProtocol interface the
// front end uses: what each decides where push and pull differ.
#include "frontend/consistency.h"

#include <gtest/gtest.h>
#include "tests/support/values.h"

namespace oly {
namespace {

using testing::score_value;

const TimePoint t0 = TimePoint(ms(10'000));

struct Fixture {
  explicit Fixture(Consistency mode) {
    cfg.consistency = mode;
    cfg.lease.duration_ms = 1000;
    cfg.heartbeat.interval_ms = 100;
    protocol = ConsistencyProtocol::make(cfg, cache, counters);
  }
  KeyValue curling(uint64_t version) {
    Score s;
    s.event = "Curling";
    s.version = version;
    return KeyValue{"score/Curling", version, s, std::nullopt};
  }
  RoleView peer() const { return {"fe2", false, "fe1", 3, {}}; }
  RoleView master(TimePoint lease_until) const { return {"fe1", true, "fe1", 3, lease_until}; }
  Config cfg;
  Cache cache{16};
  Counters counters;
  std::unique_ptr<ConsistencyProtocol> protocol;
};

TEST(PushConsistency, APeerServesOnlyUnderItsReadLeaseCountedFromItsRequest) {
  Fixture f(Consistency::kPush);
  const CacheEntry& e = f.cache.put(f.curling(1), t0, Duration(0));
  EXPECT_FALSE(f.protocol->usable(e, t0));
  const auto request = f.protocol->on_heartbeat(f.peer());
  ASSERT_TRUE(request && std::holds_alternative<LeaseRequest>(*request));
  f.protocol->on_lease_grant(LeaseGrant{3, 1000}, t0, f.peer());
  EXPECT_TRUE(f.protocol->usable(e, t0 + ms(999)));
  EXPECT_FALSE(f.protocol->usable(e, t0 + ms(1000)));
}

TEST(PushConsistency, AGrantUnderAnotherEpochIsIgnored) {
  Fixture f(Consistency::kPush);
  const CacheEntry& e = f.cache.put(f.curling(1), t0, Duration(0));
  f.protocol->on_lease_grant(LeaseGrant{2, 1000}, t0, f.peer());
  EXPECT_FALSE(f.protocol->usable(e, t0 + ms(1)));
}

TEST(PushConsistency, StaleFillDiscardedAfterAnInvalidation) {
  Fixture f(Consistency::kPush);
  f.cache.put(f.curling(4), t0, Duration(0));
  f.protocol->on_invalidate(Invalidate{"score/Curling", 5, 3}, f.peer());
  EXPECT_EQ(f.cache.peek("score/Curling"), nullptr) << "the copy is dropped whatever its version";
  EXPECT_TRUE(f.protocol->stale_fill("score/Curling", 4)) << "a fill that left before the invalidation";
  EXPECT_FALSE(f.protocol->stale_fill("score/Curling", 5));
  EXPECT_FALSE(f.protocol->stale_fill("score/Skiing", 1));
}

TEST(PushConsistency, AnInvalidationFromAnOlderEpochChangesNothing) {
  Fixture f(Consistency::kPush);
  f.cache.put(f.curling(4), t0, Duration(0));
  f.protocol->on_invalidate(Invalidate{"score/Curling", 5, 2}, f.peer());
  EXPECT_NE(f.cache.peek("score/Curling"), nullptr);
  EXPECT_FALSE(f.protocol->stale_fill("score/Curling", 4));
}

TEST(PushConsistency, APeerCachesOnlyWhatTheMasterRegisteredItForUnderALease) {
  Fixture f(Consistency::kPush);
  Value registered{f.curling(1), true, std::nullopt}, unregistered{f.curling(1), false, std::nullopt};
  f.protocol->on_lease_grant(LeaseGrant{3, 1000}, t0, f.peer());
  EXPECT_TRUE(f.protocol->may_cache(&registered, f.peer(), t0 + ms(10)));
  EXPECT_FALSE(f.protocol->may_cache(&unregistered, f.peer(), t0 + ms(10)));
  EXPECT_FALSE(f.protocol->may_cache(nullptr, f.peer(), t0 + ms(10))) << "a database read registers nobody";
  EXPECT_FALSE(f.protocol->may_cache(&registered, f.peer(), t0 + ms(1000))) << "the lease is over";
  EXPECT_TRUE(f.protocol->may_cache(nullptr, f.master(t0 + ms(500)), t0)) << "the master caches its reads";
}

TEST(PushConsistency, ALeaseGrantNeverOutlivesTheMastersOwnLease) {
  Fixture f(Consistency::kPush);
  Effects out;
  const Message request{41, LeaseRequest{"fe2", 3}};
  f.protocol->on_lease_request("fe2", request, f.master(t0 + ms(300)), t0, out);
  ASSERT_EQ(out.items().size(), 1u);
  const auto& grant = out.items()[0].msg.as<LeaseGrant>();
  EXPECT_EQ(grant.duration_ms, 300);
  EXPECT_EQ(out.items()[0].msg.req, 41u);
  out.clear();
  f.protocol->on_lease_request("fe2", request, f.master(t0), t0, out);
  EXPECT_TRUE(out.items().empty()) << "no master lease, no read lease";
  EXPECT_EQ(f.counters["leases_refused"], 1);
}

TEST(PushConsistency, AnUpdateInvalidatesTheRegisteredPeerAndHoldsTheAckUntilItAnswers) {
  Fixture f(Consistency::kPush);
  Effects out;
  const auto role = f.master(t0 + ms(900));
  f.protocol->on_lease_request("fe2", Message{1, LeaseRequest{"fe2", 3}}, role, t0, out);
  EXPECT_TRUE(f.protocol->on_fetch("fe2", "score/Curling", t0));
  out.clear();
  EXPECT_TRUE(f.protocol->on_update("score/Curling", 2, 77, role, t0, out));
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "fe2");
  EXPECT_EQ(out.items()[0].msg.as<Invalidate>().version, 2u);
  EXPECT_TRUE(f.protocol->waiting(77));
  out.clear();
  f.protocol->on_lease_request("fe2", Message{2, LeaseRequest{"fe2", 3}}, role, t0 + ms(100), out);
  EXPECT_TRUE(out.items().empty()) << "lease withheld while an invalidation is owed";
  f.protocol->tick(role, t0 + ms(100), out);
  ASSERT_EQ(out.items().size(), 1u) << "the invalidation is resent every heartbeat interval";
  EXPECT_TRUE(out.items()[0].msg.is<Invalidate>());
  f.protocol->on_invalidate_ack("fe2", InvalidateAck{"score/Curling", 2});
  EXPECT_FALSE(f.protocol->waiting(77));
}

TEST(PushConsistency, APeerWithoutALeaseFlushesItsCache) {
  Fixture f(Consistency::kPush);
  Effects out;
  f.cache.put(f.curling(1), t0, Duration(0));
  f.protocol->on_lease_grant(LeaseGrant{3, 1000}, t0, f.peer());
  f.protocol->tick(f.peer(), t0 + ms(999), out);
  EXPECT_EQ(f.cache.size(), 1u);
  f.protocol->tick(f.peer(), t0 + ms(1000), out);
  EXPECT_EQ(f.cache.size(), 0u);
  EXPECT_EQ(f.counters["flushes"], 1);
}

TEST(PullConsistency, APeerServesUntilItsTimeToRefreshThenPollsWithItsVersion) {
  Fixture f(Consistency::kPull);
  CacheEntry& e = f.cache.put(f.curling(4), t0, ms(50));
  EXPECT_TRUE(f.protocol->usable(e, t0 + ms(49)));
  EXPECT_FALSE(f.protocol->usable(e, t0 + ms(50)));
  const Body poll = f.protocol->fill_request("score/Curling", &e, t0);
  ASSERT_TRUE(std::holds_alternative<Poll>(poll));
  EXPECT_EQ(std::get<Poll>(poll).version, 4u);
  EXPECT_TRUE(e.refreshing);
  EXPECT_TRUE(std::holds_alternative<Fetch>(f.protocol->fill_request("score/Skiing", nullptr, t0)));
}

TEST(PullConsistency, EveryAnswerReportsHowLongAgoItsValueWasKnownCurrent) {
  Fixture f(Consistency::kPull);
  const CacheEntry& e = f.cache.put(f.curling(4), t0, ms(50));
  EXPECT_EQ(f.protocol->staleness_bound(&e, f.peer(), t0 + Duration(30'400)), 31);
  EXPECT_EQ(f.protocol->staleness_bound(&e, f.master(t0 + ms(500)), t0 + ms(30)), 0) << "written through";
  EXPECT_EQ(f.protocol->staleness_bound(nullptr, f.peer(), t0), 0) << "just read";
}

TEST(PullConsistency, PullStaysPullTheMasterSendsNothingAndHoldsNoAck) {
  Fixture f(Consistency::kPull);
  Effects out;
  EXPECT_FALSE(f.protocol->on_update("score/Curling", 2, 1, f.master(t0 + ms(500)), t0, out));
  EXPECT_TRUE(out.items().empty());
  EXPECT_FALSE(f.protocol->acks_settle());
  EXPECT_FALSE(f.protocol->on_heartbeat(f.peer()).has_value()) << "no leases";
}

TEST(PullConsistency, PopularKeysAreRefreshedAhead) {
  Fixture f(Consistency::kPull);
  CacheEntry& e = f.cache.put(f.curling(4), t0, ms(100));
  e.reads.per_second = 2.0;
  EXPECT_FALSE(f.protocol->refresh_ahead(e, t0 + ms(74)));
  EXPECT_TRUE(f.protocol->refresh_ahead(e, t0 + ms(75)));
  e.reads.per_second = 0.5;
  EXPECT_FALSE(f.protocol->refresh_ahead(e, t0 + ms(90)));
}

TEST(PullConsistency, ItsDeadlineIsAlwaysAheadAfterATickWhateverTheTtrPolicy) {
  // A deadline left in the past would spin the front end's loop (and stop the simulator's clock).
  for (TtrKind kind : {TtrKind::kFixed, TtrKind::kLimd, TtrKind::kFidelity}) {
    Config cfg;
    cfg.consistency = Consistency::kPull;
    cfg.pull.ttr = kind;
    Cache cache{16};
    Counters counters;
    auto protocol = ConsistencyProtocol::make(cfg, cache, counters);
    Effects out;
    for (TimePoint now : {t0, t0 + ms(100), t0 + ms(1000)}) {
      protocol->tick({"fe2", false, "fe1", 3, {}}, now, out);
      EXPECT_GT(protocol->next_deadline(), now) << ttr_name(kind);
    }
    EXPECT_TRUE(out.items().empty()) << "pull stays pull: a tick sends nothing";
  }
}

TEST(PullConsistency, TheFidelityPolicyPollsAChangingPopularKeySoonerThanAQuietOne) {
  Config cfg;
  cfg.consistency = Consistency::kPull;
  Cache cache{16};
  Counters counters;
  auto protocol = ConsistencyProtocol::make(cfg, cache, counters);
  KeyValue luge = KeyValue{"score/Luge", 5, Score{}, std::nullopt};
  CacheEntry& busy = cache.put(KeyValue{"score/Curling", 5, Score{}, std::nullopt}, t0, ms(50));
  CacheEntry& quiet = cache.put(luge, t0, ms(50));
  TimePoint now = t0;
  Effects out;
  for (int i = 0; i < 1200; ++i) {  // a minute, both read 20 times a second; only Curling changes
    now += ms(50);
    cache.read("score/Curling", now);
    cache.read("score/Luge", now);
    protocol->tick({"fe2", false, "fe1", 3, {}}, now, out);
    busy.ttr = protocol->ttr_after_poll(busy, busy.value.version + 1, now);
    busy.value.version += 1;
    quiet.ttr = protocol->ttr_after_poll(quiet, quiet.value.version, now);
  }
  EXPECT_EQ(quiet.ttr, ms(cfg.pull.ttr_max_ms));
  EXPECT_LT(busy.ttr, ms(200));
}


TEST(PullConsistency, HintsConfirmOrRefreshEveryCoveredKeyAndNothingElse) {
  Fixture f(Consistency::kPull);
  ASSERT_TRUE(f.cfg.pull.hints) << "on by default";
  auto put = [&](const std::string& event, uint64_t version, std::optional<Cursor> stamp) -> CacheEntry& {
    CacheEntry& e = f.cache.put(score_value(event, version), t0, ms(500));
    e.stamp = stamp;
    return e;
  };
  const CacheEntry& polled = put("Curling", 1, Cursor{3, 5});
  const CacheEntry& changed = put("Luge", 4, Cursor{3, 5});
  const CacheEntry& quiet = put("Moguls", 3, Cursor{3, 6});
  const CacheEntry& unstamped = put("Skiing", 2, std::nullopt);
  const CacheEntry& older = put("Biathlon", 1, Cursor{3, 4});   // the list starts after 5
  const CacheEntry& other_epoch = put("Slalom", 1, Cursor{2, 7});
  const CacheEntry& unsettled = put("Bobsleigh", 1, Cursor{3, 5});
  const TimePoint sent = t0 + ms(400);
  const Changes c{3, 5, 8, {score_value("Luge", 6), score_value("Skiing", 3)}, {"score/Bobsleigh"}, true};
  f.protocol->on_changes(c, "score/Curling", 1, f.peer(), sent, sent + ms(1));

  EXPECT_EQ(polled.stamp->seq, 8u) << "the answered value is the master's as of 8";
  EXPECT_EQ(polled.confirmed_at, t0) << "the core confirms the polled key, not the hints";
  EXPECT_EQ(changed.value.version, 6u);
  EXPECT_EQ(changed.confirmed_at, sent);
  EXPECT_EQ(changed.stamp->seq, 8u);
  EXPECT_EQ(quiet.confirmed_at, sent) << "not listed: unchanged up to 8";
  EXPECT_EQ(quiet.stamp->seq, 8u);
  EXPECT_EQ(unstamped.value.version, 3u) << "a listed change is the master's value, covered or not";
  EXPECT_EQ(unstamped.confirmed_at, sent);
  EXPECT_EQ(unstamped.stamp->seq, 8u);
  for (const CacheEntry* e : {&older, &other_epoch, &unsettled}) {
    EXPECT_EQ(e->confirmed_at, t0) << "not covered: " << e->value.key;
  }
  EXPECT_EQ(unsettled.stamp->seq, 5u);
  EXPECT_EQ(f.counters["hinted_refreshes"], 2);
  EXPECT_EQ(f.counters["hinted_confirms"], 1);

  // The next request carries the new cursor.
  CacheEntry* e = f.cache.peek("score/Curling");
  EXPECT_EQ(std::get<Poll>(f.protocol->fill_request("score/Curling", e, t0)).since->seq, 8u);

  // Hints of another master's epoch are ignored.
  f.protocol->on_changes(Changes{4, 8, 9, {score_value("Moguls", 4)}, {}, true}, "score/Curling", 1, f.peer(),
                         sent + ms(10), sent + ms(11));
  EXPECT_EQ(quiet.value.version, 3u);
  EXPECT_EQ(quiet.confirmed_at, sent);
}

TEST(PullConsistency, APeerWithoutACursorAsksFromNowhereAndOneWithHintsOffAsksNothing) {
  Fixture f(Consistency::kPull);
  EXPECT_EQ(std::get<Fetch>(f.protocol->fill_request("score/Curling", nullptr, t0)).since->seq, 0u);
  Fixture off(Consistency::kPull);
  off.cfg.pull.hints = false;
  off.protocol = ConsistencyProtocol::make(off.cfg, off.cache, off.counters);
  EXPECT_FALSE(std::get<Fetch>(off.protocol->fill_request("score/Curling", nullptr, t0)).since);
  CacheEntry& e = off.cache.put(score_value("Curling", 1), t0, ms(500));
  EXPECT_FALSE(std::get<Poll>(off.protocol->fill_request("score/Curling", &e, t0)).since);
  EXPECT_FALSE(off.protocol->changes_since(Cursor{3, 0}, off.master(t0 + ms(1000)), t0));
}

TEST(PullConsistency, TheMasterListsChangesOnlyUnderItsLeaseAndWhenAsked) {
  Fixture f(Consistency::kPull);
  f.protocol->on_cached(score_value("Curling", 1));
  f.protocol->on_cached(score_value("Curling", 2));
  const auto c = f.protocol->changes_since(Cursor{3, 1}, f.master(t0 + ms(1000)), t0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->epoch, 3u);
  EXPECT_EQ(c->from, 1u);
  EXPECT_EQ(c->to, 2u);
  ASSERT_EQ(c->changed.size(), 1u);
  EXPECT_EQ(c->changed[0].version, 2u);
  EXPECT_FALSE(f.protocol->changes_since(Cursor{3, 1}, f.master(t0), t0)) << "lease over";
  EXPECT_FALSE(f.protocol->changes_since(std::nullopt, f.master(t0 + ms(1000)), t0)) << "not asked";
  EXPECT_FALSE(f.protocol->changes_since(Cursor{3, 1}, f.peer(), t0)) << "not master";
  f.protocol->reset();  // the master changed
  const auto after = f.protocol->changes_since(Cursor{3, 1}, f.master(t0 + ms(1000)), t0);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->from, after->to) << "a cursor from before the reset covers nothing";
}

TEST(PushConsistency, SendsAndTakesNoHints) {
  Fixture f(Consistency::kPush);
  f.protocol->on_cached(score_value("Curling", 1));
  EXPECT_FALSE(f.protocol->changes_since(Cursor{3, 0}, f.master(t0 + ms(1000)), t0));
  EXPECT_FALSE(std::get<Fetch>(f.protocol->fill_request("score/Curling", nullptr, t0)).since);
}

TEST(PullConsistency, WithHintsARefreshAheadWaitsForTheAnswerToAnotherKeysPoll) {
  Fixture f(Consistency::kPull);
  CacheEntry& curling = f.cache.put(score_value("Curling", 1), t0, ms(100));
  CacheEntry& luge = f.cache.put(score_value("Luge", 1), t0, ms(100));
  curling.stamp = luge.stamp = Cursor{3, 1};
  for (int i = 0; i < 20; ++i) {  // both read often
    f.cache.read("score/Curling", t0 - ms(50 * i));
    f.cache.read("score/Luge", t0 - ms(50 * i));
  }
  const TimePoint due = t0 + ms(80);
  ASSERT_TRUE(f.protocol->refresh_ahead(luge, due));
  f.protocol->fill_request("score/Curling", &curling, due);  // Curling's poll goes first
  EXPECT_FALSE(f.protocol->refresh_ahead(luge, due + ms(1))) << "its answer will confirm Luge";
  EXPECT_TRUE(f.protocol->refresh_ahead(luge, due + ms(25))) << "that answer seems lost";
  luge.stamp.reset();
  EXPECT_TRUE(f.protocol->refresh_ahead(luge, due + ms(1))) << "an answer cannot confirm an unstamped key";
}

}  // namespace
}  // namespace oly
