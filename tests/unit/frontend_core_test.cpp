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

TEST(FrontendCore, PeerAnswersUpdatesWithNotMasterAndTheMastersAddress) {
  Harness h("fe2");
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"fe1", 1, {}});
  auto reply = h.deliver("bard", Message{9, SetScore{"Curling", 1, 0, "bard", 1, h.cfg.cacofonix.token, {}}});
  ASSERT_EQ(reply.size(), 1u);
  const auto& e = reply[0].msg.as<Error>();
  EXPECT_EQ(e.code, ErrorCode::kNotMaster);
  EXPECT_EQ(e.master, "fe1");
  EXPECT_EQ(e.address, h.cfg.frontends[0].address);
  EXPECT_EQ(reply[0].msg.req, 9u);
}

TEST(FrontendCore, WrongTokenIsUnauthorisedAndNothingReachesTheDatabase) {
  Harness h("fe1");
  auto reply = h.deliver("intruder", Message{3, IncrementMedalTally{"Gauls", "gold", "x", 1, std::string("nope"), {}}});
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].to, "intruder");
  EXPECT_EQ(reply[0].msg.as<Error>().code, ErrorCode::kUnauthorised);
}

TEST(FrontendCore, MasterStampsItsEpochAndDemotesWhenFenced) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  auto fwd = h.deliver("bard", Message{5, SetScore{"Curling", 2, 1, "bard", 1, h.cfg.cacofonix.token, {}}});
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

TEST(FrontendCore, UnknownEventIsRejectedNamingIt) {
  Harness h("fe2");
  auto reply = h.deliver("t", Message{1, GetScore{"Quidditch", {}, {}}});
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].msg.as<Error>().code, ErrorCode::kUnknownEvent);
  EXPECT_NE(reply[0].msg.as<Error>().error.find("Quidditch"), std::string::npos);
}

TEST(FrontendCore, MasterRejectsAPeersFetchOrPollOfSomethingThatIsNotAKey) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}});
  ASSERT_TRUE(h.core.is_master());
  for (Body bad : {Body{Fetch{"scores/Curling"}}, Body{Poll{"Curling", 0}}}) {
    auto reply = h.deliver("fe2", Message{4, bad});
    ASSERT_EQ(reply.size(), 1u) << op_name(bad);
    EXPECT_EQ(reply[0].to, "fe2");
    const auto& e = reply[0].msg.as<Error>();
    EXPECT_EQ(e.code, ErrorCode::kBadValue);
    EXPECT_EQ(e.error.find("Curling"), std::string::npos) << "echoed: " << e.error;
  }
  // A well-formed key is served (here: a fill from the database).
  auto fill = h.deliver("fe2", Message{5, Fetch{"score/Curling"}});
  ASSERT_NE(h.find(fill, "get_score"), nullptr);
}

}  // namespace
}  // namespace oly
