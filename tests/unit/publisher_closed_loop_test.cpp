// Cacofonix's closed loop (PublisherLimits::max_unacknowledged): production follows the
// acknowledgements instead of the rate, and the core does not ask to be woken while it is full.
#include <gtest/gtest.h>

#include "cacofonix/publisher_core.h"

namespace oly {
namespace {

class PublisherClosedLoopTest : public ::testing::Test {
 protected:
  // A feed far faster than the loop (a million updates/s), at most 3 unacknowledged, window 8.
  PublisherClosedLoopTest() {
    cfg.cacofonix.window = 8;
    std::string script;
    for (int i = 0; i < 100; ++i) script += "set_score Curling " + std::to_string(i) + " 0\n";
    core = std::make_unique<PublisherCore>(cfg, "bard-1", std::make_unique<ScriptFeed>(script, "test", cfg.events),
                                           PublisherLimits{1e6, 0, 3}, clock);
  }
  std::vector<uint64_t> tick(Duration t) {
    now = TimePoint(t);
    Effects out;
    core->on_tick(now, out);
    return seqs(out);
  }
  // Acknowledges `seq` as a Node would: the message, then the tick when one is due.
  std::vector<uint64_t> ack(uint64_t seq) {
    Ack a;
    a.publisher = "bard-1";
    a.seq = seq;
    a.key = "score/Curling";
    a.version = seq;
    Effects out;
    core->on_message("fe1", Message{seq << 16 | 1, a}, false, now, out);
    if (now >= core->next_wake()) core->on_tick(now, out);
    return seqs(out);
  }
  static std::vector<uint64_t> seqs(Effects& out) {
    std::vector<uint64_t> s;
    for (const auto& o : out.items()) s.push_back(std::get<SetScore>(o.msg.body).seq);
    return s;
  }

  Config cfg;
  TimePoint now{};
  VirtualClock clock;
  std::unique_ptr<PublisherCore> core;
};

TEST_F(PublisherClosedLoopTest, ProducesNoMoreThanTheLimitAheadOfTheAcknowledgements) {
  EXPECT_EQ(tick(ms(100)), std::vector<uint64_t>{1});  // the first is due at once
  EXPECT_EQ(tick(ms(200)), (std::vector<uint64_t>{2, 3}));  // thousands more are due: 3 at most
  EXPECT_EQ(tick(ms(300)), std::vector<uint64_t>{});
  EXPECT_EQ(core->unacknowledged(), 3u);
  EXPECT_EQ(ack(1), std::vector<uint64_t>{4});
  EXPECT_EQ(ack(2), std::vector<uint64_t>{5});
  EXPECT_EQ(core->stats().counters.at("produced"), 5);
}

TEST_F(PublisherClosedLoopTest, WhileFullItWakesOnlyForTheResendTimeout) {
  const Duration timeout = ms(cfg.cacofonix.request_timeout_ms);
  tick(ms(100));
  tick(ms(200));  // 1 (sent at 100 ms), 2 and 3 in flight: full
  EXPECT_EQ(core->next_wake(), TimePoint(ms(100)) + timeout);
  now = TimePoint(ms(250));
  EXPECT_EQ(ack(1), std::vector<uint64_t>{4});  // room for one, filled at once
  EXPECT_EQ(core->next_wake(), TimePoint(ms(200)) + timeout);  // full again; 2 was sent at 200 ms
}

TEST(PublisherClosedLoop, NoLimitKeepsTheRate) {
  Config cfg;
  VirtualClock clock;
  std::string script;
  for (int i = 0; i < 50; ++i) script += "set_score Curling " + std::to_string(i) + " 0\n";
  PublisherCore core(cfg, "bard-1", std::make_unique<ScriptFeed>(script, "test", cfg.events), PublisherLimits{1000, 0}, clock);
  Effects out;
  core.on_tick(TimePoint(ms(100)), out);
  core.on_tick(TimePoint(ms(110)), out);
  EXPECT_EQ(core.stats().counters.at("produced"), 11);  // one per millisecond, none held back
}

// Gossip mode orders concurrent set_scores by their write stamps (docs/gossip.md): each carries
// the wall clock of its making, and a publisher's stamps rise with seq even within one microsecond.
TEST(PublisherClosedLoop, SetScoresCarryRisingWriteStamps) {
  Config cfg;
  cfg.cacofonix.window = 16;
  VirtualClock clock;
  std::string script;
  for (int i = 0; i < 50; ++i) script += "set_score Curling " + std::to_string(i) + " 0\n";
  PublisherCore core(cfg, "bard-1", std::make_unique<ScriptFeed>(script, "test", cfg.events), PublisherLimits{1e6, 0}, clock);
  Effects out;
  core.on_tick(TimePoint(ms(100)), out);
  core.on_tick(TimePoint(ms(101)), out);  // a thousand due at once: the rest of the script
  std::vector<int64_t> stamps;
  for (const auto& o : out.items()) {
    const auto& s = std::get<SetScore>(o.msg.body);
    ASSERT_TRUE(s.written_at_us.has_value()) << "seq " << s.seq;
    stamps.push_back(*s.written_at_us);
  }
  ASSERT_EQ(stamps.size(), 16u);
  EXPECT_EQ(stamps[0], clock.wall_us(TimePoint(ms(100))));
  EXPECT_EQ(stamps[1], clock.wall_us(TimePoint(ms(101))));
  for (size_t k = 2; k < stamps.size(); ++k) EXPECT_EQ(stamps[k], stamps[k - 1] + 1) << k;
}

}  // namespace
}  // namespace oly
