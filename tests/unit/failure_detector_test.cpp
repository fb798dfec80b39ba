// The heartbeat failure detector: suspicion at the timeout, heartbeats vs other messages,
// false suspicions, restarts, deadlines.
#include <gtest/gtest.h>

#include "frontend/failure_detector.h"

namespace oly {
namespace {

using H = FailureDetector::Heard;
using Ids = std::vector<std::string>;

const TimePoint T0 = from_us(1'000'000);
const Duration kTimeout = ms(300);

FailureDetector started(Ids peers = {"fe2", "fe3"}) {
  FailureDetector fd(std::move(peers), kTimeout);
  fd.start(T0);
  return fd;
}

TEST(FailureDetector, SuspectsExactlyAtTimeoutNotBefore) {
  auto fd = started();
  fd.heard("fe2", T0, 1);
  fd.heard("fe3", T0, 1);
  EXPECT_TRUE(fd.check(T0 + kTimeout - Duration(1)).empty());
  EXPECT_FALSE(fd.suspected("fe2"));
  EXPECT_EQ(fd.check(T0 + kTimeout), (Ids{"fe2", "fe3"}));
  EXPECT_TRUE(fd.suspected("fe2"));
  EXPECT_TRUE(fd.suspected("fe3"));
  EXPECT_EQ(fd.suspicions(), 2);
}

TEST(FailureDetector, OneMissedHeartbeatDoesNotSuspect) {
  // Heartbeats every 100 ms, timeout 300 ms: losing one leaves a 200 ms gap.
  auto fd = started({"fe2"});
  TimePoint t = T0;
  for (int i = 0; i < 10; ++i) {
    t += ms(100);
    if (i != 4) fd.heard("fe2", t, 7);
    EXPECT_TRUE(fd.check(t).empty()) << i;
  }
  // Two missed in a row: 300 ms gap, suspected.
  const TimePoint last = t;
  EXPECT_TRUE(fd.check(last + ms(200)).empty());
  EXPECT_EQ(fd.check(last + ms(300)), Ids{"fe2"});
  EXPECT_EQ(fd.suspicions(), 1);
}

TEST(FailureDetector, AnyMessageRefreshesAPeerNotSuspected) {
  auto fd = started({"fe2"});
  EXPECT_EQ(fd.heard("fe2", T0, 3), H::kFirst);
  EXPECT_EQ(fd.heard("fe2", T0 + ms(250), 0), H::kAlive);  // not a heartbeat, still counts
  EXPECT_TRUE(fd.check(T0 + ms(500)).empty());
  EXPECT_EQ(fd.next_deadline(), T0 + ms(550));
  EXPECT_EQ(fd.check(T0 + ms(550)), Ids{"fe2"});
  // A message without incarnation counts even from a peer never heard with one.
  auto fd2 = started({"fe2"});
  EXPECT_EQ(fd2.heard("fe2", T0 + ms(200)), H::kAlive);
  EXPECT_TRUE(fd2.check(T0 + ms(300)).empty());
  EXPECT_EQ(fd2.up_since("fe2"), std::nullopt);  // runs start with heartbeats only
}

TEST(FailureDetector, SuspectedPeerNotClearedByNonHeartbeatMessage) {
  auto fd = started({"fe2"});
  fd.heard("fe2", T0, 5);
  EXPECT_EQ(fd.check(T0 + kTimeout), Ids{"fe2"});
  EXPECT_EQ(fd.heard("fe2", T0 + ms(310)), H::kIgnored);
  EXPECT_TRUE(fd.suspected("fe2"));
  EXPECT_EQ(fd.up_since("fe2"), std::nullopt);
  EXPECT_EQ(fd.suspects(), Ids{"fe2"});
  // The ignored message did not refresh anything: still suspected, not reported again.
  EXPECT_TRUE(fd.check(T0 + ms(1000)).empty());
  EXPECT_EQ(fd.heard("fe2", T0 + ms(1000), 5), H::kRecovered);
  EXPECT_FALSE(fd.suspected("fe2"));
}

TEST(FailureDetector, FalseSuspicionCounted) {
  auto fd = started({"fe2", "fe3"});
  fd.heard("fe2", T0 + ms(10), 5);
  fd.heard("fe3", T0 + ms(10), 9);
  EXPECT_EQ(fd.check(T0 + ms(310)), (Ids{"fe2", "fe3"}));
  const TimePoint back = T0 + ms(400);
  EXPECT_EQ(fd.heard("fe2", back, 5), H::kRecovered);
  EXPECT_FALSE(fd.suspected("fe2"));
  EXPECT_EQ(fd.up_since("fe2"), back);
  EXPECT_EQ(fd.suspects(), Ids{"fe3"});
  EXPECT_EQ(fd.suspicions(), 2);
  EXPECT_EQ(fd.false_suspicions(), 1);
  EXPECT_EQ(fd.restarts(), 0);
  // Cleared: its clock runs again from `back`.
  EXPECT_EQ(fd.next_deadline(), back + kTimeout);
  EXPECT_EQ(fd.heard("fe2", back + ms(100), 5), H::kAlive);
  EXPECT_EQ(fd.up_since("fe2"), back);
}

TEST(FailureDetector, RestartWithoutSuspicionResetsUpSince) {
  auto fd = started({"fe2"});
  EXPECT_EQ(fd.heard("fe2", T0 + ms(10), 1), H::kFirst);
  EXPECT_EQ(fd.up_since("fe2"), T0 + ms(10));
  EXPECT_EQ(fd.heard("fe2", T0 + ms(100), 1), H::kAlive);
  EXPECT_EQ(fd.up_since("fe2"), T0 + ms(10));
  // Restarted within the timeout: never suspected, but seen by the new incarnation.
  EXPECT_EQ(fd.heard("fe2", T0 + ms(250), 2), H::kRestarted);
  EXPECT_FALSE(fd.suspected("fe2"));
  EXPECT_EQ(fd.up_since("fe2"), T0 + ms(250));
  EXPECT_EQ(fd.restarts(), 1);
  EXPECT_EQ(fd.suspicions(), 0);
  EXPECT_EQ(fd.false_suspicions(), 0);
  EXPECT_EQ(fd.heard("fe2", T0 + ms(300), 2), H::kAlive);
}

TEST(FailureDetector, RestartAfterSuspicionIsNotAFalseSuspicion) {
  auto fd = started({"fe2"});
  fd.heard("fe2", T0, 1);
  EXPECT_EQ(fd.check(T0 + kTimeout), Ids{"fe2"});
  EXPECT_EQ(fd.up_since("fe2"), std::nullopt);
  const TimePoint back = T0 + ms(2000);
  EXPECT_EQ(fd.heard("fe2", back, 2), H::kRestarted);
  EXPECT_FALSE(fd.suspected("fe2"));
  EXPECT_EQ(fd.up_since("fe2"), back);
  EXPECT_EQ(fd.restarts(), 1);
  EXPECT_EQ(fd.suspicions(), 1);
  EXPECT_EQ(fd.false_suspicions(), 0);
  // The new incarnation is now the known one.
  EXPECT_EQ(fd.check(back + kTimeout), Ids{"fe2"});
  EXPECT_EQ(fd.heard("fe2", back + ms(400), 2), H::kRecovered);
  EXPECT_EQ(fd.false_suspicions(), 1);
  EXPECT_EQ(fd.restarts(), 1);
}

TEST(FailureDetector, NeverHeardPeerSuspectedTimeoutAfterStart) {
  FailureDetector fd({"fe2", "fe3"}, kTimeout);
  const TimePoint s = T0 + ms(50);
  fd.start(s);
  fd.heard("fe3", s + ms(100), 1);
  EXPECT_TRUE(fd.check(s + kTimeout - Duration(1)).empty());
  EXPECT_EQ(fd.check(s + kTimeout), Ids{"fe2"});
  EXPECT_EQ(fd.up_since("fe2"), std::nullopt);
  // A first heartbeat clears it; it is neither a restart nor a false suspicion.
  EXPECT_EQ(fd.heard("fe2", s + ms(500), 4), H::kFirst);
  EXPECT_FALSE(fd.suspected("fe2"));
  EXPECT_EQ(fd.up_since("fe2"), s + ms(500));
  EXPECT_EQ(fd.restarts(), 0);
  EXPECT_EQ(fd.false_suspicions(), 0);
}

TEST(FailureDetector, StartIsIdempotent) {
  FailureDetector fd({"fe2"}, kTimeout);
  fd.start(T0);
  fd.start(T0 + ms(200));
  EXPECT_EQ(fd.next_deadline(), T0 + kTimeout);
  EXPECT_EQ(fd.check(T0 + kTimeout), Ids{"fe2"});
}

TEST(FailureDetector, BeforeStartNobodySuspectedButHeardRecords) {
  FailureDetector fd({"fe2", "fe3"}, kTimeout);
  EXPECT_EQ(fd.next_deadline(), TimePoint::max());
  EXPECT_EQ(fd.heard("fe2", T0, 1), H::kFirst);
  EXPECT_EQ(fd.up_since("fe2"), T0);
  EXPECT_TRUE(fd.check(T0 + ms(10'000)).empty());
  EXPECT_TRUE(fd.suspects().empty());
  EXPECT_EQ(fd.heard("fe2", T0 + ms(10'000), 2), H::kRestarted);
  EXPECT_EQ(fd.restarts(), 1);
  // Silence before start does not count: fe2 last heard at T0 + 10 s, start at T0 + 20 s.
  const TimePoint s = T0 + ms(20'000);
  fd.start(s);
  EXPECT_EQ(fd.next_deadline(), s + kTimeout);
  EXPECT_TRUE(fd.check(s).empty());
  EXPECT_EQ(fd.check(s + kTimeout), (Ids{"fe2", "fe3"}));
}

TEST(FailureDetector, EachSuspicionReportedOnce) {
  auto fd = started({"fe2"});
  EXPECT_EQ(fd.check(T0 + kTimeout), Ids{"fe2"});
  EXPECT_TRUE(fd.check(T0 + kTimeout).empty());
  EXPECT_TRUE(fd.check(T0 + ms(5000)).empty());
  EXPECT_EQ(fd.suspicions(), 1);
  // Cleared and silent again: a second suspicion, reported once.
  fd.heard("fe2", T0 + ms(6000), 1);
  EXPECT_TRUE(fd.check(T0 + ms(6299)).empty());
  EXPECT_EQ(fd.check(T0 + ms(6300)), Ids{"fe2"});
  EXPECT_TRUE(fd.check(T0 + ms(6400)).empty());
  EXPECT_EQ(fd.suspicions(), 2);
  EXPECT_EQ(fd.suspects(), Ids{"fe2"});
}

TEST(FailureDetector, NextDeadline) {
  auto fd = started({"fe2", "fe3", "fe4"});
  EXPECT_EQ(fd.next_deadline(), T0 + kTimeout);  // nobody heard: start + timeout
  fd.heard("fe2", T0 + ms(100), 1);
  fd.heard("fe3", T0 + ms(50), 1);
  fd.heard("fe4", T0 + ms(200), 1);
  EXPECT_EQ(fd.next_deadline(), T0 + ms(350));
  // check() at any time before the deadline suspects nobody; at it, someone.
  EXPECT_TRUE(fd.check(fd.next_deadline() - Duration(1)).empty());
  EXPECT_EQ(fd.check(fd.next_deadline()), Ids{"fe3"});
  EXPECT_EQ(fd.next_deadline(), T0 + ms(400));  // suspected peers no longer count
  EXPECT_EQ(fd.check(T0 + ms(500)), (Ids{"fe2", "fe4"}));
  EXPECT_EQ(fd.suspects(), (Ids{"fe2", "fe3", "fe4"}));
  EXPECT_EQ(fd.next_deadline(), TimePoint::max());  // everyone suspected
  fd.heard("fe4", T0 + ms(600), 1);
  EXPECT_EQ(fd.next_deadline(), T0 + ms(900));
  // An ignored message does not move the deadline.
  fd.heard("fe3", T0 + ms(700));
  EXPECT_EQ(fd.next_deadline(), T0 + ms(900));
}

TEST(FailureDetector, UnknownPeerIgnored) {
  auto fd = started({"fe2"});
  EXPECT_EQ(fd.heard("fe9", T0, 1), H::kIgnored);
  EXPECT_EQ(fd.heard("fe9", T0), H::kIgnored);
  EXPECT_FALSE(fd.suspected("fe9"));
  EXPECT_EQ(fd.up_since("fe9"), std::nullopt);
  EXPECT_EQ(fd.check(T0 + kTimeout), Ids{"fe2"});  // fe9 never tracked
  EXPECT_EQ(fd.restarts(), 0);
}

TEST(FailureDetector, SuspectsInPeerOrderAndDuplicatesDropped) {
  FailureDetector fd({"c", "a", "b", "a"}, kTimeout);
  fd.start(T0);
  fd.heard("b", T0 + ms(100), 1);
  EXPECT_EQ(fd.check(T0 + kTimeout), (Ids{"c", "a"}));
  EXPECT_EQ(fd.check(T0 + ms(400)), Ids{"b"});
  EXPECT_EQ(fd.suspects(), (Ids{"c", "a", "b"}));
  EXPECT_EQ(fd.suspicions(), 3);
}

TEST(FailureDetector, CountersOverARun) {
  // fe2 is slow once (false suspicion), then crashes and comes back (restart after suspicion),
  // then restarts fast (restart without suspicion).
  auto fd = started({"fe2"});
  EXPECT_EQ(fd.heard("fe2", T0, 1), H::kFirst);
  EXPECT_EQ(fd.check(T0 + ms(300)), Ids{"fe2"});
  EXPECT_EQ(fd.heard("fe2", T0 + ms(350), 1), H::kRecovered);
  EXPECT_EQ(fd.check(T0 + ms(650)), Ids{"fe2"});
  EXPECT_EQ(fd.heard("fe2", T0 + ms(900), 2), H::kRestarted);
  EXPECT_EQ(fd.heard("fe2", T0 + ms(1000), 3), H::kRestarted);
  EXPECT_EQ(fd.suspicions(), 2);
  EXPECT_EQ(fd.false_suspicions(), 1);
  EXPECT_EQ(fd.restarts(), 2);
  EXPECT_EQ(fd.up_since("fe2"), T0 + ms(1000));
}

}  // namespace
}  // namespace oly
