// PushDirectory on its own: the master's bookkeeping of read leases, registrations and the waits
// that hold a publisher's ack until every peer that may cache the key dropped it.
#include "frontend/push_directory.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

const Duration kLease = ms(1000);
const Duration kResend = ms(100);
const TimePoint t0 = TimePoint(ms(10'000));

TEST(PushDirectory, AnUpdateInvalidatesExactlyTheRegisteredPeersThatHoldALease) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  ASSERT_TRUE(d.renew("fe3", t0));
  d.add("score/Curling", "fe2");
  d.add("score/Skiing", "fe3");
  const auto u = d.on_update("score/Curling", 4, 1, t0);
  EXPECT_EQ(u.invalidate, std::vector<std::string>{"fe2"});
  EXPECT_TRUE(u.held);
  EXPECT_TRUE(d.waiting(1));
}

TEST(PushDirectory, AnUpdateNobodyCachesHoldsNothing) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  const auto u = d.on_update("score/Curling", 1, 1, t0);
  EXPECT_TRUE(u.invalidate.empty());
  EXPECT_FALSE(u.held);
  EXPECT_FALSE(d.waiting(1));
}

TEST(PushDirectory, APeerWhoseLeaseRanOutIsNotWaitedFor) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Curling", "fe2");
  const auto u = d.on_update("score/Curling", 1, 1, t0 + kLease);  // the lease ends exactly now
  EXPECT_TRUE(u.invalidate.empty());
  EXPECT_FALSE(u.held);
}

TEST(PushDirectory, TheWaitEndsWhenEveryPeerAcknowledged) {
  PushDirectory d(kLease, kResend);
  for (const char* p : {"fe2", "fe3"}) {
    ASSERT_TRUE(d.renew(p, t0));
    d.add("tally/Gauls", p);
  }
  ASSERT_TRUE(d.on_update("tally/Gauls", 7, 9, t0).held);
  d.on_ack("fe2", "tally/Gauls", 7);
  EXPECT_TRUE(d.waiting(9)) << "fe3 has not acknowledged yet";
  d.on_ack("fe3", "tally/Gauls", 6);
  EXPECT_TRUE(d.waiting(9)) << "an acknowledgement of an older version does not count";
  d.on_ack("fe3", "tally/Gauls", 7);
  EXPECT_FALSE(d.waiting(9));
  EXPECT_EQ(d.waiting(), 0u);
}

TEST(PushDirectory, TheWaitEndsWhenTheSilentPeersLeaseExpires) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Curling", "fe2");
  ASSERT_TRUE(d.on_update("score/Curling", 1, 1, t0 + ms(10)).held);
  EXPECT_EQ(d.next_deadline(), t0 + ms(10) + kResend) << "the resend comes before the lease's end";
  d.expire(t0 + kLease - ms(1));
  EXPECT_TRUE(d.waiting(1));
  d.expire(t0 + kLease);
  EXPECT_FALSE(d.waiting(1));
  EXPECT_FALSE(d.has_lease("fe2", t0 + kLease));
}

TEST(PushDirectory, LeaseWithheldWhileAnInvalidationIsOwed) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Curling", "fe2");
  d.on_update("score/Curling", 1, 1, t0);
  EXPECT_FALSE(d.renew("fe2", t0 + ms(100))) << "a peer owing an acknowledgement gets no renewal";
  EXPECT_FALSE(d.has_lease("fe2", t0 + kLease)) << "so the master never waits longer than one lease";
  d.on_ack("fe2", "score/Curling", 1);
  EXPECT_TRUE(d.renew("fe2", t0 + ms(200)));
  EXPECT_TRUE(d.has_lease("fe2", t0 + ms(200) + kLease - ms(1)));
}

TEST(PushDirectory, AGrantIsNeverLongerThanTheLease) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0, kLease * 5));
  EXPECT_FALSE(d.has_lease("fe2", t0 + kLease));
  ASSERT_TRUE(d.renew("fe3", t0, ms(200)));
  EXPECT_FALSE(d.has_lease("fe3", t0 + ms(200)));
}

TEST(PushDirectory, InvalidationResentEveryIntervalUntilAcknowledged) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Skiing", "fe2");
  d.on_update("score/Skiing", 3, 1, t0);
  EXPECT_TRUE(d.due_resends(t0 + kResend - ms(1)).empty());
  const auto r = d.due_resends(t0 + kResend);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].peer, "fe2");
  EXPECT_EQ(r[0].key, "score/Skiing");
  EXPECT_EQ(r[0].version, 3u);
  EXPECT_TRUE(d.due_resends(t0 + kResend + ms(1)).empty()) << "marked as sent again";
  EXPECT_EQ(d.due_resends(t0 + 2 * kResend).size(), 1u);
  d.on_ack("fe2", "score/Skiing", 3);
  EXPECT_TRUE(d.due_resends(t0 + 5 * kResend).empty());
}

TEST(PushDirectory, ALaterUpdateAlsoWaitsForPeersOwingAnEarlierInvalidationOfTheKey) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Curling", "fe2");
  ASSERT_TRUE(d.on_update("score/Curling", 1, 1, t0).held);
  // fe2 is unregistered now; a duplicate's ack for the key must still wait for its answer.
  const auto second = d.on_update("score/Curling", 2, 2, t0 + ms(5));
  EXPECT_TRUE(second.invalidate.empty());
  EXPECT_TRUE(second.held);
  d.on_ack("fe2", "score/Curling", 1);
  EXPECT_FALSE(d.waiting(1));
  EXPECT_FALSE(d.waiting(2));
}

TEST(PushDirectory, AnAcknowledgedInvalidationUnregistersThePeer) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Curling", "fe2");
  EXPECT_EQ(d.cachers("score/Curling"), 1u);
  d.on_update("score/Curling", 1, 1, t0);
  EXPECT_EQ(d.cachers("score/Curling"), 0u) << "told once; it registers again when it fetches";
  d.on_ack("fe2", "score/Curling", 1);
  EXPECT_FALSE(d.on_update("score/Curling", 2, 2, t0).held);
}

TEST(PushDirectory, ClearClosesEveryWaitAndForgetsLeases) {
  PushDirectory d(kLease, kResend);
  ASSERT_TRUE(d.renew("fe2", t0));
  d.add("score/Curling", "fe2");
  d.on_update("score/Curling", 1, 1, t0);
  d.clear();
  EXPECT_FALSE(d.waiting(1));
  EXPECT_FALSE(d.has_lease("fe2", t0));
  EXPECT_EQ(d.next_deadline(), TimePoint::max());
}

}  // namespace
}  // namespace oly
