// The Node: decodes frames and feeds them to its Core, ends each run of frames with one
// on_batch_end, ticks the core when it is due, sends what the core asks for, and answers a
// malformed frame with an Error (echoing the req) without disturbing the core.
#include "common/node.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/memory_transport.h"

namespace oly {
namespace {

// A core that records what it is given, answers get_score with a score whose event is the
// requested one, publishes on every tick, and wants a tick every 100 ms.
class FakeCore final : public Core {
 public:
  struct Seen {
    std::string from;
    uint64_t req;
    std::string op;
    bool notice;
    TimePoint at;
  };

  explicit FakeCore(TimePoint start) : wake_(start + ms(100)) {}

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now,
                  Effects& out) override {
    seen.push_back({from, msg.req, std::string(op_name(msg.body)), notice, now});
    if (clock_for_work != nullptr) clock_for_work->advance(work_per_message);
    if (msg.is<GetScore>()) {
      ScoreReply r;
      r.score.event = msg.as<GetScore>().event;
      out.send(from, msg.req, r);
    }
  }
  void on_tick(TimePoint now, Effects& out) override {
    ticks.push_back(now);
    wake_ = now + ms(100);
    out.publish("score/Curling", Heartbeat{"core", "", ticks.size(), 0, true});
  }
  TimePoint next_wake() const override { return wake_; }
  void on_batch_end(TimePoint, Effects&) override { batches.push_back(seen.size()); }
  Counters& counters() override { return counters_; }

  std::vector<Seen> seen;
  std::vector<TimePoint> ticks;
  std::vector<size_t> batches;  // how many messages had been seen at each batch end
  VirtualClock* clock_for_work = nullptr;  // when set, each message takes work_per_message of it
  Duration work_per_message{0};

 private:
  TimePoint wake_;
  Counters counters_;
};

GetScore get_score(const std::string& event) {
  GetScore g;
  g.event = event;
  return g;
}

class NodeTest : public ::testing::Test {
 protected:
  NodeTest() {
    net_.set_delay(ms(1), ms(1));
    client_->subscribe("core", "score/");
  }

  // Lets frames in flight arrive (1 ms) and runs one step of the node.
  TimePoint step(size_t max_frames = 4096) {
    clock_.advance(ms(1));
    return node_.step(max_frames);
  }

  void request(uint64_t req, Body body) { client_->send("core", encode({req, std::move(body)})); }

  // The next message the client has received (after letting it arrive), decoded.
  std::optional<Incoming> reply() {
    clock_.advance(ms(1));
    return client_->receive();
  }
  Message decoded(const Incoming& in) {
    const Decoded d = decode(in.frame);
    EXPECT_TRUE(d.ok) << d.error.text;
    return d.message;
  }
  // Sends raw bytes and returns the Error the node answered with.
  Error error_for(const std::string& bytes) {
    client_->send("core", bytes);
    step();
    auto in = reply();
    EXPECT_TRUE(in.has_value());
    if (!in) return {};
    const Message m = decoded(*in);
    last_error_req_ = m.req;
    EXPECT_TRUE(m.is<Error>());
    return m.is<Error>() ? m.as<Error>() : Error{};
  }

  VirtualClock clock_;
  MemoryNetwork net_{clock_, 1};
  std::unique_ptr<Transport> transport_ = net_.endpoint("core");
  std::unique_ptr<Transport> client_ = net_.endpoint("client");
  FakeCore core_{clock_.now()};
  Node node_{core_, *transport_, clock_};
  uint64_t last_error_req_ = 0;
};

TEST_F(NodeTest, FeedsDecodedMessagesInOrderWithSenderAndTime) {
  request(1, get_score("Curling"));
  request(2, GetScoreboard{});
  request(3, GetStats{});
  step();
  ASSERT_EQ(core_.seen.size(), 3u);
  EXPECT_EQ(core_.seen[0].op, "get_score");
  EXPECT_EQ(core_.seen[1].op, "get_scoreboard");
  EXPECT_EQ(core_.seen[2].op, "stats");
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(core_.seen[i].from, "client");
    EXPECT_EQ(core_.seen[i].req, i + 1);
    EXPECT_FALSE(core_.seen[i].notice);
    EXPECT_EQ(core_.seen[i].at, clock_.now());
  }
}

TEST_F(NodeTest, EndsEachRunOfFramesWithOneBatchEnd) {
  request(1, GetScoreboard{});
  request(2, GetScoreboard{});
  step();
  EXPECT_EQ(core_.batches, std::vector<size_t>{2});
  step();  // nothing arrived: no batch
  EXPECT_EQ(core_.batches, std::vector<size_t>{2});
  request(3, GetScoreboard{});
  step();
  EXPECT_EQ(core_.batches, (std::vector<size_t>{2, 3}));
}

TEST_F(NodeTest, HandlesAtMostMaxFramesPerStep) {
  for (uint64_t i = 0; i < 5; ++i) request(i, GetScoreboard{});
  step(2);
  EXPECT_EQ(core_.seen.size(), 2u);
  node_.step(10);
  EXPECT_EQ(core_.seen.size(), 5u);
  EXPECT_EQ(core_.batches, (std::vector<size_t>{2, 5}));
}

TEST_F(NodeTest, SendsTheCoresRepliesEncoded) {
  request(42, get_score("Skiing"));
  step();
  auto in = reply();
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->from, "core");
  const Message m = decoded(*in);
  EXPECT_EQ(m.req, 42u);
  ASSERT_TRUE(m.is<ScoreReply>());
  EXPECT_EQ(m.as<ScoreReply>().score.event, "Skiing");
}

TEST_F(NodeTest, TicksTheCoreOnlyWhenItIsDueAndPublishesItsNotices) {
  const TimePoint due = core_.next_wake();
  EXPECT_EQ(step(), due);
  EXPECT_TRUE(core_.ticks.empty());
  clock_.set(due - ms(1));
  EXPECT_EQ(step(), due + ms(100));  // the step is at `due` exactly
  EXPECT_EQ(core_.ticks, std::vector<TimePoint>{due});
  auto in = reply();
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(in->notice);
  EXPECT_EQ(in->from, "core");
  EXPECT_TRUE(decoded(*in).is<Heartbeat>());
  step();
  EXPECT_EQ(core_.ticks.size(), 1u);
}

TEST_F(NodeTest, AnswersAMalformedFrameWithAnErrorEchoingItsReq) {
  // {req: 77, op: 5}: a map with a req, but op is not a string.
  const Error e = error_for("\x82\xa3req\x4d\xa2op\x05");
  EXPECT_EQ(e.code, ErrorCode::kMalformed);
  EXPECT_NE(e.error.find("field 'op'"), std::string::npos) << e.error;
  EXPECT_EQ(last_error_req_, 77u);
  EXPECT_TRUE(core_.seen.empty());
  EXPECT_EQ(core_.counters()["malformed_frames"], 1);
}

TEST_F(NodeTest, AnswersAnUnknownOpAndAnOversizeFrameWithTheirCodes) {
  EXPECT_EQ(error_for("\x82\xa3req\x09\xa2op\xa3"
                      "fly")
                .code,
            ErrorCode::kUnknownOp);
  EXPECT_EQ(last_error_req_, 9u);
  EXPECT_EQ(error_for(std::string(kMaxFrameBytes + 1, 'x')).code, ErrorCode::kTooLarge);
  EXPECT_EQ(error_for("garbage").code, ErrorCode::kMalformed);
  EXPECT_EQ(core_.counters()["malformed_frames"], 3);
}

TEST_F(NodeTest, KeepsWorkingAfterMalformedFrames) {
  client_->send("core", "\xc1");
  request(5, get_score("Luge"));
  client_->send("core", "");
  step();
  ASSERT_EQ(core_.seen.size(), 1u);
  EXPECT_EQ(core_.seen[0].req, 5u);
  EXPECT_EQ(core_.counters()["malformed_frames"], 2);
  std::vector<std::string> ops;
  while (auto in = reply()) ops.emplace_back(op_name(decoded(*in).body));
  EXPECT_EQ(ops, (std::vector<std::string>{"error", "score", "error"}));
}

TEST_F(NodeTest, CountsButDoesNotAnswerAMalformedNotice) {
  auto publisher = net_.endpoint("pub");
  transport_->subscribe("pub", "");
  publisher->publish("score/x", "not msgpack");
  step();
  EXPECT_EQ(core_.counters()["malformed_frames"], 1);
  EXPECT_FALSE(reply().has_value());
  EXPECT_FALSE(net_.next_delivery().has_value());
}

TEST_F(NodeTest, FeedsNoticesMarkedAsNotices) {
  auto publisher = net_.endpoint("pub");
  transport_->subscribe("pub", "publisher");
  publisher->publish("publisher", encode({0, MasterChanged{"fe2", "tcp://127.0.0.1:1", 4}}));
  step();
  ASSERT_EQ(core_.seen.size(), 1u);
  EXPECT_TRUE(core_.seen[0].notice);
  EXPECT_EQ(core_.seen[0].from, "pub");
  EXPECT_EQ(core_.seen[0].op, "master_changed");
}

TEST_F(NodeTest, CountsAStepOfAtLeastATenthOfASecondAsSlow) {
  core_.clock_for_work = &clock_;
  core_.work_per_message = ms(60);
  request(1, get_score("Curling"));
  step();  // 60 ms: not slow
  EXPECT_EQ(core_.counters()["slow_steps"], 0);
  request(2, get_score("Curling"));
  request(3, get_score("Skiing"));
  step();  // 120 ms in one step
  EXPECT_EQ(core_.counters()["slow_steps"], 1);
  ASSERT_TRUE(reply().has_value());  // the replies still go out
}

TEST_F(NodeTest, FlushSendsEffectsMadeOutsideAStep) {
  Effects e;
  e.send("client", 3, GetMaster{});
  node_.flush(e);
  EXPECT_TRUE(e.items().empty());
  auto in = reply();
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(decoded(*in).is<GetMaster>());
}

}  // namespace
}  // namespace oly
