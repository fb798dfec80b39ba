// The database's rule in Byzantine mode (database/byzantine_gate.h): who may submit, the
// signature, f + 1 = 2 distinct front ends, resends of what is applied.
#include <gtest/gtest.h>

#include "byzantine/signed_update.h"
#include "database/byzantine_gate.h"

namespace oly::database {
namespace {

using V = ByzantineGate::Verdict;

Config four_frontends() {
  Config c;
  c.frontends.push_back({"fe3", "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113", "", "127.0.0.1:7203"});
  c.frontends.push_back({"fe4", "tcp://127.0.0.1:7104", "tcp://127.0.0.1:7114", "", "127.0.0.1:7204"});
  return c;
}

struct GateTest : ::testing::Test {
  Body update(uint64_t seq, int64_t gauls = 2) {
    SetScore s{"Curling", gauls, 1, "cacofonix-1", seq, {}, {}, {}};
    s.signature = Bytes{byzantine::sign(s, keys.secret_key)};
    return s;
  }
  ByzantineGate::Outcome admit(const std::string& from, uint64_t req, Body b, uint64_t last_seq = 0) {
    return gate.admit(from, req, b, last_seq, 7, TimePoint{} + ms(req));
  }
  Config cfg = four_frontends();
  byzantine::SigningKeys keys = byzantine::signing_keypair();
  ByzantineGate gate{cfg, keys.public_key, ms(1000)};
};

TEST_F(GateTest, TwoDistinctFrontEndsApplyAndEveryParkedSubmissionIsAnswered) {
  EXPECT_EQ(admit("fe1", 1, update(1)).verdict, V::kPark);
  EXPECT_EQ(admit("fe1", 2, update(1)).verdict, V::kPark) << "the same front end twice counts once";
  const auto done = admit("fe2-77", 3, update(1));  // a routing id fe2's key owns
  ASSERT_EQ(done.verdict, V::kApply);
  EXPECT_EQ(done.parked, (std::vector<std::pair<std::string, uint64_t>>{{"fe1", 1}, {"fe1", 2}}));
  EXPECT_EQ(gate.parked(), 0u);
  EXPECT_EQ(admit("fe3", 4, update(1)).verdict, V::kPass) << "let through already: the store answers it";
  EXPECT_EQ(admit("fe4", 5, update(9), 9).verdict, V::kPass) << "applied: the store's record answers it";
}

TEST_F(GateTest, TheEpochOfWhatPassesIsTheCurrentOne) {
  admit("fe1", 1, update(1));
  Body b = update(1);
  ASSERT_EQ(gate.admit("fe2", 2, b, 0, 7, TimePoint{}).verdict, V::kApply);
  EXPECT_EQ(std::get<SetScore>(b).epoch, 7u);
}

TEST_F(GateTest, NotAFrontEndOrNotSignedIsRefused) {
  const auto stranger = admit("cacofonix-1", 1, update(1));
  EXPECT_EQ(stranger.verdict, V::kRefuse);
  EXPECT_EQ(stranger.error.code, ErrorCode::kUnauthorised);
  EXPECT_NE(stranger.error.error.find("only a front end"), std::string::npos);
  Body changed = update(1);
  std::get<SetScore>(changed).gauls = 9;  // the signature was of 2-1
  const auto forged = admit("fe1", 2, changed);
  EXPECT_EQ(forged.verdict, V::kRefuse);
  EXPECT_NE(forged.error.error.find("signature is missing or wrong"), std::string::npos);
  EXPECT_EQ(admit("fe2", 3, SetScore{"Curling", 2, 1, "cacofonix-1", 1, {}, {}, {}}).verdict, V::kRefuse);
  EXPECT_EQ(gate.parked(), 0u) << "nothing refused is kept";
}

TEST_F(GateTest, AnEquivocatorCountsForNeitherValue) {
  // Cacofonix signs one value per seq, so two valid values for one seq cannot come from it; the
  // gate still holds an equivocator to nothing (a publisher's bug must not let one front end
  // apply alone).
  EXPECT_EQ(admit("fe1", 1, update(1, 2)).verdict, V::kPark);
  EXPECT_EQ(admit("fe1", 2, update(1, 3)).verdict, V::kPark);
  EXPECT_EQ(admit("fe2", 3, update(1, 3)).verdict, V::kPark) << "fe1's vote for 3 is void";
  EXPECT_EQ(admit("fe3", 4, update(1, 3)).verdict, V::kApply);
}

TEST_F(GateTest, ParkedSubmissionsAreDroppedInTime) {
  admit("fe1", 1, update(1));
  gate.expire(TimePoint{} + ms(500));
  EXPECT_EQ(gate.parked(), 1u);
  gate.expire(TimePoint{} + ms(1001));
  EXPECT_EQ(gate.parked(), 0u);
  EXPECT_EQ(admit("fe2", 2000, update(1)).verdict, V::kPark) << "fe1's vote went with it";
}

}  // namespace
}  // namespace oly::database
