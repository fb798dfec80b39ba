// Membership on its own: who serves tablets, who claims, when the home master may lead again.
#include "frontend/membership.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

const TimePoint t0 = TimePoint(ms(10'000));
const Duration kTimeout = ms(500), kSettle = ms(1000), kInterval = ms(100);

Membership fe2_of_three() { return Membership("fe2", {"fe1", "fe2", "fe3"}, kTimeout, kSettle, kInterval); }

TEST(Membership, ServingIsSelfUntilPeersAreHeardAndCompleteOnceEachIsHeardOrSuspected) {
  auto m = fe2_of_three();
  m.start(t0);
  EXPECT_EQ(m.serving(), std::vector<std::string>{"fe2"});
  EXPECT_FALSE(m.complete());
  m.heard("fe1", 7, t0 + ms(10));
  EXPECT_FALSE(m.complete());
  m.tick(t0 + kTimeout);  // fe3 was never heard
  EXPECT_TRUE(m.complete());
  EXPECT_EQ(m.serving(), (std::vector<std::string>{"fe1", "fe2"}));
}

TEST(Membership, ARejoiningPeerServesOnlyAfterSettling) {
  auto m = fe2_of_three();
  m.start(t0);
  m.heard("fe1", 7, t0);
  m.heard("fe3", 9, t0);
  EXPECT_EQ(m.tick(t0 + kTimeout - ms(1)), std::vector<std::string>{});
  EXPECT_EQ(m.tick(t0 + kTimeout), (std::vector<std::string>{"fe1", "fe3"})) << "exactly at the timeout";
  EXPECT_EQ(m.tick(t0 + ms(600)), std::vector<std::string>{}) << "each suspicion is reported once";
  m.heard("fe1", 8, t0 + ms(700));  // restarted
  m.tick(t0 + ms(700));
  EXPECT_EQ(m.serving(), std::vector<std::string>{"fe2"});
  for (TimePoint t = t0 + ms(700); t < t0 + ms(1700); t += kInterval) m.heard("fe1", 8, t);
  m.tick(t0 + ms(1700));
  EXPECT_EQ(m.serving(), (std::vector<std::string>{"fe1", "fe2"}));
}

TEST(Membership, TheFirstLivingFrontEndInConfigOrderClaims) {
  auto m = fe2_of_three();
  m.start(t0);
  m.heard("fe1", 7, t0);
  m.heard("fe3", 9, t0);
  EXPECT_TRUE(m.first_living("fe1")) << "fe1 is the master that failed; fe2 comes next";
  EXPECT_FALSE(m.first_living("fe3")) << "fe1 lives and comes first";
  m.tick(t0 + kTimeout);
  EXPECT_TRUE(m.first_living("fe3")) << "fe1 is suspected";
}

TEST(Membership, AMasterIsSilentAfterTwoIntervalsOrWhenSuspected) {
  auto m = fe2_of_three();
  m.start(t0);
  EXPECT_TRUE(m.silent("fe1", t0)) << "never heard";
  m.heard("fe1", 7, t0);
  EXPECT_FALSE(m.silent("fe1", t0 + 2 * kInterval - ms(1)));
  EXPECT_TRUE(m.silent("fe1", t0 + 2 * kInterval));
}

TEST(Membership, TheHomeMasterLeadsAgainOnlySettledFollowingOurEpochAndReachingTheDatabase) {
  Membership m("fe2", {"fe1", "fe2"}, kTimeout, kSettle, kInterval);
  m.start(t0);
  m.heard("fe1", 7, t0);
  TimePoint up;
  m.said("fe1", 4, true);
  EXPECT_FALSE(m.ready_to_lead("fe1", 4, t0 + kSettle - ms(1), &up)) << "not settled";
  EXPECT_TRUE(m.ready_to_lead("fe1", 4, t0 + kSettle, &up));
  EXPECT_EQ(up, t0);
  EXPECT_FALSE(m.ready_to_lead("fe1", 5, t0 + kSettle, &up)) << "it does not follow our epoch";
  m.said("fe1", 4, false);
  EXPECT_FALSE(m.ready_to_lead("fe1", 4, t0 + kSettle, &up)) << "it does not reach the database";
  EXPECT_TRUE(m.same_run("fe1", t0));
  m.heard("fe1", 8, t0 + kSettle);  // restarted
  EXPECT_FALSE(m.same_run("fe1", t0));
}

}  // namespace
}  // namespace oly
