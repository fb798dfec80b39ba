// The traitor injector (byzantine/traitor.h): what each strategy makes of the frames a front end
// sends. Lies stay well formed, frames without a value (heartbeats) pass untouched so the traitor
// looks alive, and an equivocating traitor tells different destinations different stories.
#include "byzantine/traitor.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "common/codec.h"

namespace oly::byzantine {
namespace {

// A transport that keeps what it is asked to send.
class Recorder final : public Transport {
 public:
  const std::string& name() const override { return name_; }
  void send(const std::string& to, std::string frame) override { sent.emplace_back(to, std::move(frame)); }
  void publish(const std::string& topic, std::string frame) override { sent.emplace_back("topic:" + topic, std::move(frame)); }
  void subscribe(const std::string&, const std::string&) override {}
  std::optional<Incoming> receive() override { return std::nullopt; }
  std::vector<std::pair<std::string, std::string>> sent;

 private:
  std::string name_ = "fe3";
};

Message decoded(const std::string& frame) {
  Decoded d = decode(frame);
  EXPECT_TRUE(d.ok) << "a lie that does not decode";
  return d.message;
}

std::string score_reply(int64_t gauls, int64_t romans, uint64_t version) {
  return encode(Message{9, ScoreReply{Score{"Curling", gauls, romans, version, 1000}, std::nullopt}});
}

const std::string kHeartbeat = encode(Message{1, Heartbeat{"fe3", "fe1", 2, 77, true}});

TEST(Traitor, StrategiesHaveNamesAndNothingElseIsOne) {
  for (const char* n : {"flip", "random", "silent", "equivocate"}) {
    const auto s = parse_strategy(n);
    ASSERT_TRUE(s) << n;
    EXPECT_EQ(strategy_name(*s), n);
  }
  EXPECT_FALSE(parse_strategy("honest"));
  EXPECT_FALSE(parse_strategy(""));
}

TEST(Traitor, FlipSwapsScoresMovesMedalsAndBumpsVersionsButLetsHeartbeatsBe) {
  Recorder inner;
  TraitorTransport t(inner, Strategy::kFlip, 1);
  t.send("fe1", encode(Message{3, SetScore{"Curling", 3, 1, "cacofonix-1", 4, "getafix", std::nullopt, {}}}));
  t.send("fe2", encode(Message{4, IncrementMedalTally{"Gauls", "gold", "cacofonix-1", 5, "getafix", std::nullopt, {}}}));
  t.send("tablet-7", score_reply(2, 0, 6));
  t.send("fe1", kHeartbeat);
  ASSERT_EQ(inner.sent.size(), 4u);
  const auto update = decoded(inner.sent[0].second).as<SetScore>();
  EXPECT_EQ(std::make_pair(update.gauls, update.romans), std::make_pair(int64_t{1}, int64_t{3}));
  EXPECT_EQ(update.seq, 4u);  // the lie is in the value, the frame still looks right
  EXPECT_EQ(decoded(inner.sent[1].second).as<IncrementMedalTally>().team, "Romans");
  const auto reply = decoded(inner.sent[2].second).as<ScoreReply>().score;
  EXPECT_EQ(std::make_tuple(reply.gauls, reply.romans, reply.version), std::make_tuple(int64_t{0}, int64_t{2}, uint64_t{7}));
  EXPECT_EQ(inner.sent[3].second, kHeartbeat);
  EXPECT_EQ(t.corrupted(), 3u);
  // A draw flipped is still a lie.
  t.send("tablet-7", score_reply(1, 1, 3));
  const auto draw = decoded(inner.sent[4].second).as<ScoreReply>().score;
  EXPECT_NE(std::make_pair(draw.gauls, draw.romans), std::make_pair(int64_t{1}, int64_t{1}));
}

TEST(Traitor, RandomValuesStayWellFormed) {
  Recorder inner;
  TraitorTransport t(inner, Strategy::kRandom, 7);
  std::set<std::pair<int64_t, int64_t>> seen;
  for (int i = 0; i < 50; ++i) {
    t.send("tablet-1", score_reply(5, 5, 10));
    const auto s = decoded(inner.sent.back().second).as<ScoreReply>().score;
    EXPECT_GE(s.gauls, 0);
    EXPECT_GE(s.romans, 0);
    seen.insert({s.gauls, s.romans});
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(Traitor, SilentSendsNoValueButStillHeartbeats) {
  Recorder inner;
  TraitorTransport t(inner, Strategy::kSilent, 1);
  t.send("tablet-1", score_reply(2, 1, 3));
  t.send("db1", encode(Message{3, SetScore{"Curling", 3, 1, "cacofonix-1", 4, std::nullopt, 2, {}}}));
  t.send("fe1", kHeartbeat);
  ASSERT_EQ(inner.sent.size(), 1u);
  EXPECT_EQ(inner.sent[0].second, kHeartbeat);
  EXPECT_EQ(t.dropped(), 2u);
}

TEST(Traitor, AnEquivocatorTellsEachDestinationItsOwnStoryAndKeepsToIt) {
  Recorder inner;
  TraitorTransport t(inner, Strategy::kEquivocate, 1);
  const std::vector<std::string> peers = {"fe1", "fe2", "fe4"};
  int frames_with_different_stories = 0;
  for (uint64_t v = 1; v <= 30; ++v) {
    const std::string truth = score_reply(2, 1, v);
    std::set<std::string> stories;
    for (const auto& to : peers) {
      for (int twice = 0; twice < 2; ++twice) {
        const size_t before = inner.sent.size();
        t.send(to, truth);
        const std::string told = inner.sent.size() > before ? inner.sent.back().second : "<nothing>";
        if (twice == 0) {
          stories.insert(told);
        } else {
          EXPECT_TRUE(stories.count(told)) << "told " << to << " two stories about one frame";
        }
      }
    }
    frames_with_different_stories += stories.size() > 1;
  }
  EXPECT_GT(frames_with_different_stories, 15);
  EXPECT_GT(t.corrupted(), 0u);
  EXPECT_GT(t.dropped(), 0u);
}

}  // namespace
}  // namespace oly::byzantine
