// The tablet simulator's core: popularity, registration, failover and redirects.
#include <gtest/gtest.h>

#include <map>

#include "tablet/tablets_core.h"

namespace oly {
namespace {

Config config() {
  Config c;
  c.events = {"A", "B", "C", "D", "E", "F", "G", "H"};
  c.tablets.events_per_tablet = 2;
  c.tablets.zipf_s = 1.2;
  return c;
}

TEST(TabletsCore, PopularEventsAreFollowedByMoreTablets) {
  TabletsCore core(config(), 2000);
  std::map<std::string, int> followers;
  for (int i = 0; i < 2000; ++i) {
    auto ev = core.events_of(i);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_NE(ev[0], ev[1]);
    for (const auto& e : ev) ++followers[e];
  }
  EXPECT_GT(followers["A"], 2 * followers["D"]);
  EXPECT_GT(followers["D"], followers["H"]);
}

// Drives the core: ticks until it sends something and returns the sends.
std::vector<Effects::Out> run_tick(TabletsCore& core, TimePoint now) {
  Effects out;
  core.on_tick(now, out);
  return out.items();
}

TEST(TabletsCore, RegistersThenReadsEveryKeyWithMinVersionFromItsHome) {
  TabletsCore core(config(), 1);
  TimePoint now{};
  auto sent = run_tick(core, now);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(sent[0].msg.is<Register>());
  Effects out;
  core.on_message("fe1", Message{sent[0].msg.req, Registered{"t0", "fe2", {}}}, false, now, out);
  now += ms(1100);
  sent = run_tick(core, now);
  ASSERT_EQ(sent.size(), 4u);  // 2 events + 2 tallies
  for (const auto& s : sent) EXPECT_EQ(s.to, "fe2");
  // Answer every read with version 5: the next reads ask for at least 5.
  for (const auto& s : sent) {
    if (const auto* g = std::get_if<GetScore>(&s.msg.body)) {
      core.on_message("fe2", Message{s.msg.req, ScoreReply{Score{g->event, 1, 0, 5, 0}, {}}}, false, now, out);
    } else {
      const auto& t = s.msg.as<GetMedalTally>();
      core.on_message("fe2", Message{s.msg.req, TallyReply{Tally{t.team, 0, 0, 0, 5}, {}}}, false, now, out);
    }
  }
  now += ms(1200);
  sent = run_tick(core, now);
  ASSERT_EQ(sent.size(), 4u);
  for (const auto& s : sent) {
    if (const auto* g = std::get_if<GetScore>(&s.msg.body)) {
      EXPECT_EQ(g->min_version, 5u);
    }
  }
  EXPECT_EQ(core.take_reads().size(), 4u);
}

TEST(TabletsCore, TimedOutReadIsRetriedOnTheNextFrontEndAndRedirectMovesTheTablet) {
  TabletsCore core(config(), 1);
  TimePoint now{};
  auto sent = run_tick(core, now);
  Effects out;
  core.on_message("fe1", Message{sent[0].msg.req, Registered{"t0", "fe1", {}}}, false, now, out);
  now += ms(1100);
  sent = run_tick(core, now);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].to, "fe1");
  now += ms(config().tablets.request_timeout_ms);
  auto retries = run_tick(core, now);
  ASSERT_EQ(retries.size(), sent.size());
  EXPECT_EQ(retries[0].to, "fe2");
  auto reads = core.take_reads();
  ASSERT_EQ(reads.size(), sent.size());
  EXPECT_EQ(reads[0].outcome, "timeout");
  EXPECT_EQ(core.tablets_per_frontend().at("fe2"), 1);

  core.on_message("fe2", Message{0, Redirect{"t0", "fe1", ""}}, true, now, out);
  EXPECT_EQ(core.tablets_per_frontend().at("fe1"), 1);
}

}  // namespace
}  // namespace oly
