// The two consistency protocols on their own, through the ConsistencyProtocol interface the
// front end uses: what each decides where push and pull differ.
#include "frontend/consistency.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

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
  Value registered{f.curling(1), true}, unregistered{f.curling(1), false};
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
  const Body poll = f.protocol->fill_request("score/Curling", &e);
  ASSERT_TRUE(std::holds_alternative<Poll>(poll));
  EXPECT_EQ(std::get<Poll>(poll).version, 4u);
  EXPECT_TRUE(e.refreshing);
  EXPECT_TRUE(std::holds_alternative<Fetch>(f.protocol->fill_request("score/Skiing", nullptr)));
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

}  // namespace
}  // namespace oly
