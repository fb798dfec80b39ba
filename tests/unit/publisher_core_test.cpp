// Cacofonix's core: stamping, the window, and go-back-N recovery.
#include <gtest/gtest.h>

#include "cacofonix/publisher_core.h"

namespace oly {
namespace {

Ack ack_of(uint64_t seq, bool duplicate) {
  Ack a;
  a.publisher = "bard-1";
  a.seq = seq;
  a.key = "tally/Gauls";
  a.version = seq;
  a.duplicate = duplicate;
  return a;
}

class PublisherCoreTest : public ::testing::Test {
 protected:
  PublisherCoreTest() {
    cfg.cacofonix.window = 4;
    core = std::make_unique<PublisherCore>(
        cfg, "bard-1", std::make_unique<ScriptFeed>(script(10), "test", cfg.events), PublisherLimits{1000, 0}, clock);
  }
  static std::string script(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "increment_medal_tally Gauls gold\n";
    return s;
  }
  // Runs a tick at `t` and returns what was sent.
  std::vector<Effects::Out> tick(Duration t) {
    now = TimePoint(t);
    Effects out;
    core->on_tick(now, out);
    return out.items();
  }
  // Starts producing (the feed is due every millisecond) and returns the first sends.
  std::vector<Effects::Out> start() {
    auto a = tick(ms(100));
    auto b = tick(ms(120));
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  std::vector<Effects::Out> deliver(const std::string& from, Message m) {
    Effects out;
    core->on_message(from, std::move(m), false, now, out);
    return out.items();
  }
  static uint64_t seq(const Effects::Out& o) { return std::get<IncrementMedalTally>(o.msg.body).seq; }

  Config cfg;
  TimePoint now{};
  VirtualClock clock;
  std::unique_ptr<PublisherCore> core;
};

TEST_F(PublisherCoreTest, StampsPublisherSeqAndTokenAndHonoursTheWindow) {
  auto sent = start();
  ASSERT_EQ(sent.size(), 4u);  // window
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].to, "fe1");
    const auto& u = std::get<IncrementMedalTally>(sent[i].msg.body);
    EXPECT_EQ(u.publisher, "bard-1");
    EXPECT_EQ(u.seq, i + 1);
    EXPECT_EQ(u.token, cfg.cacofonix.token);
  }
  // One acknowledgement frees one slot.
  auto more = deliver("fe1", Message{sent[0].msg.req, ack_of(1, false)});
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(seq(more[0]), 5u);
  EXPECT_EQ(core->take_acks().size(), 1u);
}

TEST_F(PublisherCoreTest, NotMasterAnswerResendsEverythingUnacknowledgedToTheMaster) {
  auto sent = start();
  Error e = make_error(ErrorCode::kNotMaster, "fe1 is not master");
  e.master = "fe2";
  auto resent = deliver("fe1", Message{sent[1].msg.req, e});
  ASSERT_EQ(resent.size(), 4u);
  EXPECT_EQ(resent[0].to, "fe2");
  EXPECT_EQ(seq(resent[0]), 1u);  // oldest first: updates apply in seq order
  EXPECT_EQ(core->target(), "fe2");
  // The other answers of the superseded round do not cause more resends.
  EXPECT_TRUE(deliver("fe1", Message{sent[2].msg.req, e}).empty());
}

TEST_F(PublisherCoreTest, TimeoutMovesToTheNextFrontEnd) {
  start();
  auto resent = tick(ms(100) + ms(cfg.cacofonix.request_timeout_ms));
  ASSERT_FALSE(resent.empty());
  EXPECT_EQ(resent[0].to, "fe2");
  EXPECT_EQ(seq(resent[0]), 1u);
}

TEST_F(PublisherCoreTest, DuplicateAckCountsOnceAndFinishes) {
  auto sent = start();
  deliver("fe1", Message{sent[0].msg.req, ack_of(1, true)});
  deliver("fe1", Message{sent[0].msg.req, ack_of(1, true)});
  EXPECT_EQ(core->medal_counts().at("Gauls/gold"), 1);
  EXPECT_EQ(core->stats().counters.at("acked"), 1);
}

TEST_F(PublisherCoreTest, MasterChangedNoticeRedirects) {
  start();
  Effects out;
  core->on_message("fe2", Message{0, MasterChanged{"fe2", "tcp://x", 2}}, true, now, out);
  ASSERT_EQ(out.items().size(), 4u);
  EXPECT_EQ(out.items()[0].to, "fe2");
}

}  // namespace
}  // namespace oly
