// FrontendCore::answer_cached_read, the cache hits the tablets' TCP port answers as it reads them,
// held to the message path: two front ends driven alike get the same frame, one through
// answer_cached_read, the other through on_message. A hit must give the same bytes, counters and
// cache state (what later steps do shows it); a refusal must change nothing, after which the frame
// takes the message path on both.
#include <gtest/gtest.h>

#include <functional>

#include "common/codec.h"
#include "common/codec_reads.h"
#include "frontend_harness.h"

namespace oly {
namespace {

constexpr const char* kTablet = "tcp/1";

std::string raw(const Effects::Out& o) { return o.frame.empty() ? encode(o.msg) : o.frame; }

// Everything `out` holds, as bytes per destination: what the two front ends' steps are compared by.
std::string all(Effects& out) {
  std::string s;
  for (const auto& o : out.items()) s += o.to + "|" + raw(o) + "\n";
  return s;
}

std::string read_frame(uint64_t req, const std::string& event, std::optional<uint64_t> min_version = std::nullopt) {
  return encode(Message{req, GetScore{event, min_version, "t1", std::nullopt}});
}

class Twins {
 public:
  explicit Twins(const std::string& id, Config cfg = {}) : a_(id, cfg), b_(id, cfg) {}

  // Runs `f` on both, and checks they did the same.
  void both(const std::function<std::vector<Effects::Out>(Harness&)>& f) {
    const auto x = f(a_);
    const auto y = f(b_);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].to + encode(x[i].msg), y[i].to + encode(y[i].msg)) << i;
  }
  std::vector<Effects::Out> on_a(const std::function<std::vector<Effects::Out>(Harness&)>& f) {
    const auto x = f(a_);
    f(b_);
    return x;
  }
  void advance(Duration d) {
    Effects x, y;
    a_.now += d;
    b_.now += d;
    a_.core.on_tick(a_.now, x);
    b_.core.on_tick(b_.now, y);
    EXPECT_EQ(all(x), all(y)) << "the tick after " << to_ms(d) << " ms";
  }

  // The frame through both paths. Returns whether b answered it on the spot.
  bool read(const std::string& frame) {
    const std::string before = encode(Message{0, b_.core.stats(b_.now)});
    std::string reply = "kept";
    const bool hit = b_.core.answer_cached_read(frame, b_.now, reply);
    Effects x;
    Decoded d = decode(frame);
    EXPECT_TRUE(d.ok) << d.error.text;
    a_.core.on_message(kTablet, d.message, false, a_.now, x);
    if (hit) {
      EXPECT_EQ(x.items().size(), 1u) << "a hit on the message path answers and does nothing else";
      if (!x.items().empty()) {
        EXPECT_EQ(x.items()[0].to, kTablet);
        EXPECT_EQ("kept" + raw(x.items()[0]), reply) << "the same answer, appended";
      }
    } else {
      EXPECT_EQ(reply, "kept") << "nothing appended";
      EXPECT_EQ(encode(Message{0, b_.core.stats(b_.now)}), before) << "a refusal changes nothing";
      Effects y;
      b_.core.on_message(kTablet, d.message, false, b_.now, y);
      EXPECT_EQ(all(x), all(y));
    }
    EXPECT_EQ(encode(Message{0, a_.core.stats(a_.now)}), encode(Message{0, b_.core.stats(b_.now)}))
        << "the same counters";
    last_ = x.decoded_items();
    return hit;
  }
  // What the message path did with the last frame read.
  const std::vector<Effects::Out>& last() const { return last_; }
  Harness& a() { return a_; }

 private:
  Harness a_, b_;
  std::vector<Effects::Out> last_;
};

Score curling(uint64_t version) {
  Score s;
  s.event = "Curling";
  s.gauls = 3;
  s.romans = -2;
  s.version = version;
  s.updated_at = 1700000000000;
  return s;
}

TEST(FrontendHits, TheMastersHitsAreWhatTheMessagePathAnswersAndNothingElseIsTaken) {
  Twins t("fe1");
  t.both([](Harness& h) { return h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}}); });
  ASSERT_TRUE(t.a().core.is_master());
  // Not cached yet: refused; the message path fills from the database.
  EXPECT_FALSE(t.read(read_frame(1, "Curling")));
  ASSERT_NE(t.a().find(t.last(), "get_score"), nullptr);
  t.both([&](Harness& h) { return h.answer_db(t.last(), "get_score", ScoreReply{curling(4), std::nullopt}); });
  // Hits, with and without a min_version it meets, and with other requests' ids.
  EXPECT_TRUE(t.read(read_frame(2, "Curling")));
  EXPECT_TRUE(t.read(read_frame(3, "Curling", 4)));
  EXPECT_TRUE(t.read(read_frame(~uint64_t{0}, "Curling", 1)));
  EXPECT_TRUE(t.read(encode(Message{5, GetScore{"Curling", std::nullopt, std::nullopt, std::nullopt}})));
  // Refused: a min_version ahead of the cache, an unknown event or team, another op, a frame
  // that is not the plain shape (here a `committed`), one that is not MessagePack at all.
  EXPECT_FALSE(t.read(read_frame(6, "Curling", 5)));
  EXPECT_FALSE(t.read(read_frame(7, "Quidditch")));
  EXPECT_FALSE(t.read(encode(Message{8, GetMedalTally{"Atlantis", std::nullopt, "t1", std::nullopt}})));
  EXPECT_FALSE(t.read(encode(Message{9, GetScoreboard{"t1"}})));
  EXPECT_FALSE(t.read(encode(Message{10, GetScore{"Curling", std::nullopt, "t1", true}})));
  std::string reply;
  EXPECT_FALSE(t.a().core.answer_cached_read("\xc1\x00", t.a().now, reply));
  // Time goes on alike for both (read rates, LRU and timers included).
  t.advance(ms(50));
  EXPECT_TRUE(t.read(read_frame(11, "Curling")));
  // Without the master lease (nothing renews it here), the cache is not used: refused.
  t.advance(ms(10'000));
  EXPECT_FALSE(t.read(read_frame(12, "Curling")));
}

TEST(FrontendHits, AnUpdateInFlightPastItsGraceSendsTheKeysReadsTheMessagePath) {
  Config cfg;
  Twins t("fe1", cfg);
  t.both([](Harness& h) { return h.start_and_claim(MasterInfo{"", 0, {}}, MasterInfo{"fe1", 1, {}}); });
  EXPECT_FALSE(t.read(read_frame(1, "Curling")));
  t.both([&](Harness& h) { return h.answer_db(t.last(), "get_score", ScoreReply{curling(4), std::nullopt}); });
  EXPECT_TRUE(t.read(read_frame(2, "Curling")));
  t.both([&](Harness& h) {
    return h.deliver("bard", Message{3, SetScore{"Curling", 5, 0, "bard", 1, cfg.cacofonix.token, {}, {}}});
  });
  EXPECT_TRUE(t.read(read_frame(4, "Curling"))) << "within the grace, the cache answers";
  t.advance(ms(20));
  EXPECT_FALSE(t.read(read_frame(5, "Curling"))) << "past it, the database does";
}

TEST(FrontendHits, APullPeerLeavesAReadThatPollsAheadToTheMessagePath) {
  Config cfg;
  cfg.consistency = Consistency::kPull;
  cfg.pull.ttr = TtrKind::kFixed;
  cfg.pull.ttr_ms = 400;
  Twins t("fe2", cfg);
  t.both([](Harness& h) { return h.heartbeat("fe1", "fe1", 1); });
  t.advance(ms(10));
  ASSERT_EQ(t.a().core.master(), "fe1");
  EXPECT_FALSE(t.read(read_frame(1, "Curling")));
  const Effects::Out* poll = t.a().find(t.last(), "fetch");
  if (poll == nullptr) poll = t.a().find(t.last(), "poll");
  ASSERT_NE(poll, nullptr) << "the peer asks the master";
  const uint64_t req = poll->msg.req;
  KeyValue kv{"score/Curling", 4, curling(4), std::nullopt};
  t.both([&](Harness& h) { return h.deliver("fe1", Message{req, Value{kv, true, std::nullopt}}); });
  // Three reads early in the time to refresh (a read adds 1/5 to a rate per second over 5 s): hits.
  for (uint64_t r = 2; r < 5; ++r) EXPECT_TRUE(t.read(read_frame(r, "Curling"))) << r;
  // Past three quarters of it, a key read at least once a second is polled ahead of its expiry:
  // not yet at 0.6 * e^(-0.32 / 5) + 0.2 or + 0.4 per second, so these are hits...
  t.advance(ms(320));
  t.both([](Harness& h) { return h.heartbeat("fe1", "fe1", 1); });  // the master is alive
  EXPECT_TRUE(t.read(read_frame(5, "Curling")));
  EXPECT_TRUE(t.read(read_frame(6, "Curling")));
  // ... and this one, at 1.16, polls ahead, on the message path.
  EXPECT_FALSE(t.read(read_frame(7, "Curling")));
  EXPECT_TRUE(t.a().find(t.last(), "poll") != nullptr || t.a().find(t.last(), "fetch") != nullptr)
      << "the message path polled ahead: " << [&] { std::string o; for (const auto& x : t.last()) o += x.to + ":" + std::string(op_name(x.msg.body)) + " "; return o; }();
  // The poll is in flight: the next reads are hits again.
  EXPECT_TRUE(t.read(read_frame(13, "Curling")));
}

}  // namespace
}  // namespace oly
