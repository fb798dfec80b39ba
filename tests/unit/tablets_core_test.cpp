// The tablet simulator's core: popularity, registration, failover and serving notices.
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

// Registers the one tablet of `core` at fe1, then ticks to its first round of reads: returns them.
std::vector<Effects::Out> first_reads_at_fe1(TabletsCore& core, TimePoint& now) {
  auto sent = run_tick(core, now);
  Effects out;
  core.on_message("fe1", Message{sent.at(0).msg.req, Registered{"t0", "fe1", {}}}, false, now, out);
  now += ms(1100);
  return run_tick(core, now);
}

// Gossip mode: an answer marked partial is recorded with outcome "partial" (the checker counts those
// apart) and does not raise the version the tablet asks for next.
TEST(TabletsCore, APartialAnswerIsRecordedApartAndDoesNotRaiseTheMinVersion) {
  TabletsCore core(config(), 1);
  TimePoint now{};
  auto sent = first_reads_at_fe1(core, now);
  ASSERT_FALSE(sent.empty());
  Effects out;
  for (const auto& s : sent) {
    if (const auto* g = std::get_if<GetScore>(&s.msg.body)) {
      ScoreReply r{Score{g->event, 1, 0, 5, 0}, {}};
      r.partial = true;
      core.on_message("fe1", Message{s.msg.req, r}, false, now, out);
    } else {
      const auto& t = s.msg.as<GetMedalTally>();
      core.on_message("fe1", Message{s.msg.req, TallyReply{Tally{t.team, 0, 0, 0, 5}, {}}}, false, now, out);
    }
  }
  size_t partial = 0;
  for (const auto& r : core.take_reads()) {
    if (r.key.starts_with("score/")) {
      EXPECT_EQ(r.outcome, "partial");
      EXPECT_EQ(r.version, 5u);
      EXPECT_EQ(r.value, "1-0");
      ++partial;
    } else {
      EXPECT_EQ(r.outcome, "ok");
    }
  }
  EXPECT_EQ(partial, 2u);
  EXPECT_EQ(core.counters().at("reads_partial"), 2);
  now += ms(1200);
  for (const auto& s : run_tick(core, now)) {
    if (const auto* g = std::get_if<GetScore>(&s.msg.body)) {
      EXPECT_FALSE(g->min_version) << "a partial read vouches for nothing";
    }
  }
}

TEST(TabletsCore, TimedOutReadIsRetriedOnTheNextFrontEnd) {
  TabletsCore core(config(), 1);
  TimePoint now{};
  const auto sent = first_reads_at_fe1(core, now);
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
}

TEST(TabletsCore, AReadWhoseConnectionIsLostIsRetriedOnTheNextFrontEndAtOnce) {
  TabletsCore core(config(), 1);
  TimePoint now{};
  const auto sent = first_reads_at_fe1(core, now);
  ASSERT_EQ(sent.size(), 4u);
  now += ms(5);  // well before the reads' timeout

  // A lost front end that holds none of the reads changes nothing.
  Effects none;
  core.on_peer_lost("fe2", now, none);
  EXPECT_TRUE(none.items().empty());

  Effects again;
  core.on_peer_lost("fe1", now, again);
  ASSERT_EQ(again.items().size(), sent.size());
  for (const auto& s : again.items()) EXPECT_EQ(s.to, "fe2");
  EXPECT_EQ(core.tablets_per_frontend().at("fe2"), 1);
  const auto reads = core.take_reads();
  ASSERT_EQ(reads.size(), sent.size());
  for (const auto& r : reads) {
    EXPECT_EQ(r.outcome, "lost");
    EXPECT_EQ(r.end - r.start, ms(5));
  }
  EXPECT_EQ(core.counters().at("lost"), 4);
  EXPECT_EQ(core.counters().at("retries"), 4);
  EXPECT_EQ(core.counters().at("reads_failed"), 0);  // retried at once: the tablet waited for nothing

  // The retries were the reads' one retry: lost again, they fail without a third attempt.
  Effects third;
  core.on_peer_lost("fe2", now, third);
  EXPECT_TRUE(third.items().empty());
  EXPECT_EQ(core.take_reads().size(), sent.size());
  EXPECT_EQ(core.counters().at("reads_failed"), 4);
}

// ---------------------------------------------------------------- Serving notices

Config three_frontends() {
  Config c = config();
  c.frontends = {{"fe1", "tcp://127.0.0.1:7101", "tcp://127.0.0.1:7111", "", "127.0.0.1:7201"},
                 {"fe2", "tcp://127.0.0.1:7102", "tcp://127.0.0.1:7112", "", "127.0.0.1:7202"},
                 {"fe3", "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113", "", "127.0.0.1:7203"}};
  return c;
}

// Answers one request the core sent: a registration with home_of(tablet index), a read with
// version 1.
template <class HomeOf>
void answer(TabletsCore& core, const Effects::Out& s, HomeOf home_of, TimePoint now) {
  Effects out;
  Body reply;
  if (const auto* r = std::get_if<Register>(&s.msg.body)) {
    reply = Registered{r->tablet, home_of(std::stoi(r->tablet.substr(1))), {}};
  } else if (const auto* g = std::get_if<GetScore>(&s.msg.body)) {
    reply = ScoreReply{Score{g->event, 0, 0, 1, 0}, {}};
  } else {
    reply = TallyReply{Tally{s.msg.as<GetMedalTally>().team, 0, 0, 0, 1}, {}};
  }
  core.on_message(s.to, Message{s.msg.req, std::move(reply)}, false, now, out);
}

// Starts the core and registers every tablet: registrations are spread over the first second, so
// two ticks (at 0 and just under 1 s) send them all; everything sent is answered at once, so
// nothing is left in flight. Returns the time of the last tick.
template <class HomeOf>
TimePoint register_all(TabletsCore& core, int count, HomeOf home_of) {
  TimePoint now{};
  for (const TimePoint at : {TimePoint{}, TimePoint{} + ms(1000) - Duration(1)}) {
    if (core.registered() == count) break;
    now = at;
    for (const auto& s : run_tick(core, now)) answer(core, s, home_of, now);
  }
  EXPECT_EQ(core.registered(), count);
  return now;
}

void notify(TabletsCore& core, Serving s, TimePoint now) {
  Effects out;
  core.on_message("fe2", Message{0, std::move(s)}, true, now, out);
  EXPECT_TRUE(out.items().empty());
}

TEST(TabletsCore, ServingNoticeMovesTabletsOffAMissingFrontEndAndSpreadsThem) {
  constexpr int kTablets = 300;
  TabletsCore core(three_frontends(), kTablets);
  TimePoint now = register_all(core, kTablets, [](int) { return std::string("fe1"); });
  EXPECT_EQ(core.tablets_per_frontend().at("fe1"), kTablets);
  EXPECT_TRUE(core.serving().empty());

  notify(core, Serving{1, 1, {"fe2", "fe3"}}, now);
  const auto on = core.tablets_per_frontend();
  EXPECT_EQ(on.at("fe1"), 0);
  EXPECT_GE(on.at("fe2"), kTablets * 40 / 100);
  EXPECT_LE(on.at("fe2"), kTablets * 60 / 100);
  EXPECT_GE(on.at("fe3"), kTablets * 40 / 100);
  EXPECT_LE(on.at("fe3"), kTablets * 60 / 100);
  EXPECT_EQ(core.tablets_per_home().at("fe1"), kTablets);  // the home does not change
  EXPECT_EQ(core.counters().at("serving_notices"), 1);
  EXPECT_EQ(core.counters().at("serving_moves"), kTablets);
  const auto stats = core.stats();
  EXPECT_EQ(stats.info.at("serving"), "fe2,fe3");
  EXPECT_EQ(stats.counters.at("serving_moves"), kTablets);

  // The next reads go to the new front ends, each tablet's where serving_frontend says.
  now += ms(1100);
  const auto sent = run_tick(core, now);
  ASSERT_FALSE(sent.empty());
  for (const auto& s : sent) {
    std::string tablet;
    if (const auto* g = std::get_if<GetScore>(&s.msg.body)) tablet = *g->tablet;
    if (const auto* g = std::get_if<GetMedalTally>(&s.msg.body)) tablet = *g->tablet;
    ASSERT_FALSE(tablet.empty());
    EXPECT_EQ(s.to, serving_frontend(tablet, "fe1", {"fe2", "fe3"}));
  }
}

TEST(TabletsCore, TabletsHomedAtAListedFrontEndStayAndReturnHome) {
  constexpr int kTablets = 90;
  const auto cfg = three_frontends();
  TabletsCore core(cfg, kTablets);
  auto home_of = [&](int i) { return cfg.frontends[i % 3].id; };
  TimePoint now = register_all(core, kTablets, home_of);

  notify(core, Serving{1, 1, {"fe1", "fe3"}}, now);  // fe2 stops serving
  auto on = core.tablets_per_frontend();
  EXPECT_EQ(on.at("fe2"), 0);
  EXPECT_EQ(on.at("fe1") + on.at("fe3"), kTablets);
  EXPECT_EQ(core.counters().at("serving_moves"), kTablets / 3);  // only fe2's tablets moved

  // Tablets already where they belong are not counted as moves.
  notify(core, Serving{1, 2, {"fe1", "fe2", "fe3"}}, now);  // fe2 is back
  EXPECT_EQ(core.tablets_per_frontend(), core.tablets_per_home());
  EXPECT_EQ(core.tablets_per_frontend().at("fe2"), kTablets / 3);
  EXPECT_EQ(core.counters().at("serving_moves"), kTablets / 3 * 2);
  EXPECT_EQ(core.counters().at("serving_notices"), 2);
  EXPECT_EQ(core.stats().info.at("serving"), "fe1,fe2,fe3");
}

TEST(TabletsCore, RegistrationAfterAServingNoticeFollowsIt) {
  constexpr int kTablets = 40;
  TabletsCore core(three_frontends(), kTablets);
  const std::vector<std::string> serving = {"fe2", "fe3"};
  notify(core, Serving{3, 1, serving}, TimePoint{});  // before any registration
  int registrations = 0;
  for (const TimePoint now : {TimePoint{}, TimePoint{} + ms(1000) - Duration(1)}) {  // t0, then the rest
    for (const auto& s : run_tick(core, now)) {
      EXPECT_NE(s.to, "fe1");
      if (!s.msg.is<Register>()) continue;  // t0's first reads, already where the notice says
      // The first attempt goes to the tablet's spread pick, moved off a front end that does not serve.
      const auto& r = s.msg.as<Register>();
      const int i = std::stoi(r.tablet.substr(1));
      EXPECT_EQ(s.to, serving_frontend(r.tablet, "fe" + std::to_string(i % 3 + 1), serving));
      ++registrations;
      Effects out;
      core.on_message(s.to, Message{s.msg.req, Registered{r.tablet, "fe1", {}}}, false, now, out);
    }
  }
  EXPECT_EQ(registrations, kTablets);
  EXPECT_EQ(core.registered(), kTablets);
  // The reply names home fe1, which does not serve: each tablet reads where the notice puts it.
  const auto on = core.tablets_per_frontend();
  EXPECT_EQ(on.at("fe1"), 0);
  EXPECT_EQ(on.at("fe2") + on.at("fe3"), kTablets);
  EXPECT_EQ(core.tablets_per_home().at("fe1"), kTablets);
  EXPECT_EQ(core.counters().at("serving_moves"), 0);  // registrations are not moves
}

TEST(TabletsCore, OlderServingNoticesAreIgnoredAndANewerEpochWinsWhateverItsSeq) {
  constexpr int kTablets = 30;
  TabletsCore core(three_frontends(), kTablets);
  TimePoint now = register_all(core, kTablets, [](int) { return std::string("fe1"); });

  notify(core, Serving{2, 5, {"fe2", "fe3"}}, now);
  EXPECT_EQ(core.serving(), (std::vector<std::string>{"fe2", "fe3"}));
  EXPECT_EQ(core.tablets_per_frontend().at("fe1"), 0);

  for (const Serving& old : {Serving{2, 4, {"fe1"}}, Serving{2, 5, {"fe1"}}, Serving{1, 9, {"fe1"}},
                             Serving{0, 100, {"fe1", "fe2", "fe3"}}}) {
    notify(core, old, now);
    EXPECT_EQ(core.serving(), (std::vector<std::string>{"fe2", "fe3"})) << old.epoch << "/" << old.seq;
  }
  EXPECT_EQ(core.tablets_per_frontend().at("fe1"), 0);
  EXPECT_EQ(core.counters().at("serving_notices"), 1);
  EXPECT_EQ(core.counters().at("serving_moves"), kTablets);

  notify(core, Serving{3, 1, {"fe1", "fe2", "fe3"}}, now);  // newer epoch, lower seq
  EXPECT_EQ(core.serving(), (std::vector<std::string>{"fe1", "fe2", "fe3"}));
  EXPECT_EQ(core.tablets_per_frontend().at("fe1"), kTablets);
  EXPECT_EQ(core.counters().at("serving_notices"), 2);
  EXPECT_EQ(core.counters().at("serving_moves"), 2 * kTablets);

  notify(core, Serving{3, 2, {"fe1", "fe2", "fe3"}}, now);  // the periodic repeat: nothing moves
  EXPECT_EQ(core.counters().at("serving_notices"), 3);
  EXPECT_EQ(core.counters().at("serving_moves"), 2 * kTablets);
}

TEST(TabletsCore, UnknownFrontEndNamesAreDroppedFromServingNotices) {
  constexpr int kTablets = 30;
  TabletsCore core(three_frontends(), kTablets);
  TimePoint now = register_all(core, kTablets, [](int) { return std::string("fe1"); });

  notify(core, Serving{1, 1, {"fe9", "fe2", "nobody"}}, now);
  EXPECT_EQ(core.serving(), (std::vector<std::string>{"fe2"}));
  EXPECT_EQ(core.tablets_per_frontend().at("fe2"), kTablets);

  notify(core, Serving{1, 2, {"fe9"}}, now);  // none left: ignored, and does not raise the bar
  notify(core, Serving{1, 3, {}}, now);
  EXPECT_EQ(core.serving(), (std::vector<std::string>{"fe2"}));
  EXPECT_EQ(core.counters().at("serving_notices"), 1);

  notify(core, Serving{1, 2, {"fe3"}}, now);
  EXPECT_EQ(core.serving(), (std::vector<std::string>{"fe3"}));
  EXPECT_EQ(core.tablets_per_frontend().at("fe3"), kTablets);
  EXPECT_EQ(core.counters().at("serving_notices"), 2);
}

// Reads once for tablet t0 (home fe1) and times the reads out: returns where the retries went.
std::string retry_target_after_timeout(const Serving* notice) {
  TabletsCore core(three_frontends(), 1);
  TimePoint now = register_all(core, 1, [](int) { return std::string("fe1"); });
  if (notice) notify(core, *notice, now);
  now += ms(1100);
  auto sent = run_tick(core, now);
  EXPECT_FALSE(sent.empty());
  for (const auto& s : sent) EXPECT_EQ(s.to, "fe1");
  now += ms(three_frontends().tablets.request_timeout_ms);
  auto retries = run_tick(core, now);
  EXPECT_EQ(retries.size(), sent.size());
  if (retries.empty()) return "";
  for (const auto& r : retries) EXPECT_EQ(r.to, retries[0].to);
  EXPECT_EQ(core.tablets_per_frontend().at(retries[0].to), 1);
  return retries[0].to;
}

TEST(TabletsCore, TimeoutRetrySkipsAFrontEndTheServingNoticeLeftOut) {
  EXPECT_EQ(retry_target_after_timeout(nullptr), "fe2");  // no notice: plain next
  const Serving skip_fe2{1, 1, {"fe1", "fe3"}};
  EXPECT_EQ(retry_target_after_timeout(&skip_fe2), "fe3");
  const Serving only_fe1{1, 1, {"fe1"}};  // no other serves: plain next
  EXPECT_EQ(retry_target_after_timeout(&only_fe1), "fe2");
}

TEST(TabletsCore, ReadsInFlightToAFrontEndLeftOutOfServingAreResentAtOnce) {
  TabletsCore core(three_frontends(), 1);
  TimePoint now = register_all(core, 1, [](int) { return std::string("fe1"); });
  now += ms(1100);
  auto sent = run_tick(core, now);  // a round of reads to fe1, which dies
  ASSERT_FALSE(sent.empty());
  now += ms(50);  // well before the tablets' request timeout
  Effects out;
  core.on_message("fe2", Message{0, Serving{2, 1, {"fe2", "fe3"}}}, true, now, out);
  const auto resent = out.items();
  ASSERT_EQ(resent.size(), sent.size());
  const std::string to = serving_frontend("t0", "fe1", {"fe2", "fe3"});  // a copy: the list is a temporary
  for (const auto& r : resent) EXPECT_EQ(r.to, to);
  // The abandoned attempts are recorded as "moved", not as failed reads.
  const auto reads = core.take_reads();
  ASSERT_EQ(reads.size(), sent.size());
  for (const auto& r : reads) {
    EXPECT_EQ(r.outcome, "moved");
    EXPECT_EQ(r.frontend, "fe1");
  }
  EXPECT_EQ(core.counters()["reads_failed"], 0);
  for (const auto& r : resent) answer(core, r, [](int) { return std::string("fe1"); }, now);
  EXPECT_EQ(core.counters()["reads_ok"], static_cast<int64_t>(sent.size()));
}

}  // namespace
}  // namespace oly
