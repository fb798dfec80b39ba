// The in-memory network on a virtual clock: delays, FIFO per pair, seeded drops, partitions,
// crashes, pub/sub by topic prefix, and replay of a seed.
#include "common/memory_transport.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace oly {
namespace {

// A network of named endpoints with helpers to move time and collect what arrives.
class MemoryNet : public ::testing::Test {
 protected:
  explicit MemoryNet(uint64_t seed = 1) : net_(clock_, seed) {}

  Transport& ep(const std::string& name) {
    auto& e = eps_[name];
    if (!e) e = net_.endpoint(name);
    return *e;
  }

  // Every frame that `name` can receive now.
  std::vector<Incoming> drain(const std::string& name) {
    std::vector<Incoming> out;
    while (auto in = ep(name).receive()) out.push_back(std::move(*in));
    return out;
  }
  // What `name` can receive now, as (from, frame, notice).
  using Arrivals = std::vector<std::tuple<std::string, std::string, bool>>;
  Arrivals arrivals(const std::string& name) {
    Arrivals out;
    for (auto& in : drain(name)) out.emplace_back(in.from, in.frame, in.notice);
    return out;
  }
  std::vector<std::string> frames(const std::string& name) {
    std::vector<std::string> out;
    for (auto& in : drain(name)) out.push_back(in.frame);
    return out;
  }

  // Moves the clock to each delivery in turn until nothing is in flight, and returns everything
  // `name` received with the time it became receivable.
  std::vector<std::pair<TimePoint, Incoming>> run_to_idle(const std::string& name) {
    std::vector<std::pair<TimePoint, Incoming>> out;
    while (auto at = net_.next_delivery()) {
      clock_.set(std::max(*at, clock_.now()));
      for (auto& in : drain(name)) out.emplace_back(clock_.now(), std::move(in));
      for (auto& [n, e] : eps_) {
        if (n != name) drain(n);
      }
    }
    return out;
  }

  // Sends `frame` from a to b and from b to a, lets both arrive, and returns how many did (0-2).
  size_t exchange_both_ways(const std::string& frame) {
    ep("a").send("b", frame);
    ep("b").send("a", frame);
    clock_.advance(ms(10));
    return frames("a").size() + frames("b").size();
  }

  // Sends frames "0", "1", ... from `from` to `to` (creating both endpoints).
  void send_numbered(const std::string& from, const std::string& to, int n) {
    ep(to);
    for (int i = 0; i < n; ++i) ep(from).send(to, std::to_string(i));
  }

  VirtualClock clock_;
  MemoryNetwork net_;
  std::map<std::string, std::unique_ptr<Transport>> eps_;
};

TEST_F(MemoryNet, AFrameArrivesOnlyAfterItsDelay) {
  net_.set_delay(ms(10), ms(10));
  ep("b");
  ep("a").send("b", "hello");
  EXPECT_TRUE(drain("b").empty());
  clock_.advance(ms(9));
  EXPECT_TRUE(drain("b").empty());
  clock_.advance(ms(1));
  EXPECT_EQ(arrivals("b"), (Arrivals{{"a", "hello", false}}));
  EXPECT_EQ(net_.frames_sent(), 1u);
  EXPECT_EQ(net_.frames_dropped(), 0u);
}

TEST_F(MemoryNet, FramesBetweenAPairStayInOrderEvenWithRandomDelays) {
  net_.set_delay(ms(0), ms(50));
  ep("b");
  for (int i = 0; i < 300; ++i) {
    ep("a").send("b", "a" + std::to_string(i));
    ep("c").send("b", "c" + std::to_string(i));
    clock_.advance(Duration(137));
  }
  std::map<std::string, int> next = {{"a", 0}, {"c", 0}};
  bool interleaved = false;
  std::string prev_from;
  for (const auto& [at, in] : run_to_idle("b")) {
    EXPECT_EQ(in.frame, in.from + std::to_string(next[in.from]++));
    interleaved |= !prev_from.empty() && prev_from != in.from;
    prev_from = in.from;
  }
  EXPECT_EQ(next["a"], 300);
  EXPECT_EQ(next["c"], 300);
  EXPECT_TRUE(interleaved);  // the pairs are independent of each other
}

TEST_F(MemoryNet, NextDeliveryReportsTheEarliestTime) {
  EXPECT_FALSE(net_.next_delivery().has_value());
  net_.set_delay(ms(30), ms(30));
  ep("b");
  ep("c");
  const TimePoint t0 = clock_.now();
  ep("a").send("b", "x");
  net_.set_delay(ms(10), ms(10));
  ep("a").send("c", "y");
  EXPECT_EQ(net_.next_delivery(), t0 + ms(10));
  EXPECT_EQ(net_.next_delivery("b"), t0 + ms(30));
  EXPECT_EQ(net_.next_delivery("c"), t0 + ms(10));
  EXPECT_FALSE(net_.next_delivery("a").has_value());
  clock_.advance(ms(10));
  EXPECT_EQ(frames("c"), std::vector<std::string>{"y"});
  EXPECT_EQ(net_.next_delivery(), t0 + ms(30));
}

// What one seeded run of a lossy, jittery network delivered, and when.
std::vector<std::tuple<int64_t, std::string, std::string>> seeded_run(uint64_t seed) {
  VirtualClock clock;
  MemoryNetwork net(clock, seed);
  net.set_delay(ms(1), ms(40));
  net.set_drop(0.3);
  auto a = net.endpoint("a"), b = net.endpoint("b"), c = net.endpoint("c");
  for (int i = 0; i < 200; ++i) {
    a->send("c", "a" + std::to_string(i));
    b->send("c", "b" + std::to_string(i));
    clock.advance(Duration(500));
  }
  std::vector<std::tuple<int64_t, std::string, std::string>> out;
  while (auto at = net.next_delivery()) {
    clock.set(std::max(*at, clock.now()));
    while (auto in = c->receive()) out.emplace_back(to_us(clock.now()), in->from, in->frame);
  }
  return out;
}

TEST(MemoryNetworkSeed, TheSameSeedGivesTheSameDeliveriesAndDrops) {
  const auto first = seeded_run(7);
  EXPECT_EQ(first, seeded_run(7));
  EXPECT_NE(first, seeded_run(8));
  EXPECT_LT(first.size(), 400u);  // some were dropped
}

class MemoryNetDrops : public MemoryNet, public ::testing::WithParamInterface<uint64_t> {
 protected:
  MemoryNetDrops() : MemoryNet(GetParam()) {}
};

TEST_P(MemoryNetDrops, TheDropProbabilityIsRoughlyHonoured) {
  SCOPED_TRACE("seed " + std::to_string(GetParam()));
  net_.set_drop(0.25);
  send_numbered("a", "b", 10000);
  const auto got = run_to_idle("b").size();
  // 7500 expected; the standard deviation is about 43.
  EXPECT_GT(got, 7200u);
  EXPECT_LT(got, 7800u);
  EXPECT_EQ(net_.frames_dropped(), 10000u - got);
}

INSTANTIATE_TEST_SUITE_P(Seeds, MemoryNetDrops, ::testing::Values(1, 2, 3));

TEST_F(MemoryNet, APartitionDropsBothWaysUntilHealed) {
  ep("c");
  net_.partition("a", "b");
  ep("a").send("c", "a->c");
  EXPECT_EQ(exchange_both_ways("cut"), 0u);
  EXPECT_EQ(frames("c"), std::vector<std::string>{"a->c"});  // others are unaffected
  net_.heal("b", "a");
  EXPECT_EQ(exchange_both_ways("healed"), 2u);
}

TEST_F(MemoryNet, APartitionDropsFramesAlreadyInFlight) {
  ep("b");
  ep("a").send("b", "in flight");
  net_.partition("a", "b");
  clock_.advance(ms(10));
  EXPECT_TRUE(drain("b").empty());
  net_.heal_all();
  EXPECT_EQ(exchange_both_ways("after"), 2u);
}

TEST_F(MemoryNet, ACrashedNodeLosesWhatWasInFlightAndSendsNothingUntilRestarted) {
  ep("a");
  ep("b");
  ep("a").send("b", "in flight to b");
  ep("b").send("a", "in flight from b");
  net_.crash("b");
  EXPECT_TRUE(net_.crashed("b"));
  // a, which exchanged frames with b, is told b's connection closed (no frame); nothing else.
  clock_.advance(ms(10));
  const auto told = drain("a");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_TRUE(told[0].lost);
  EXPECT_EQ(told[0].from, "b");
  EXPECT_TRUE(told[0].frame.empty());
  EXPECT_EQ(exchange_both_ways("to and from crashed b"), 0u);  // nor what was in flight
  net_.restart("b");
  EXPECT_FALSE(net_.crashed("b"));
  EXPECT_EQ(exchange_both_ways("after restart"), 2u);
}

TEST_F(MemoryNet, ACrashIsToldOnlyToThoseThatTalkedWithItAndAreNotCutOff) {
  ep("b");
  ep("a").send("b", "x");
  ep("c").send("b", "y");
  ep("d");  // never talked with b
  clock_.advance(ms(10));
  drain("b");
  net_.partition("c", "b");
  net_.crash("b");
  clock_.advance(ms(10));
  EXPECT_EQ(drain("a").size(), 1u);
  EXPECT_TRUE(drain("c").empty()) << "cut off: a crash behind a partition is not seen";
  EXPECT_TRUE(drain("d").empty());
}

TEST_F(MemoryNet, AFrameToAnEndpointThatDoesNotExistIsDropped) {
  ep("a").send("nobody", "x");
  EXPECT_EQ(net_.frames_dropped(), 1u);
  EXPECT_FALSE(net_.next_delivery().has_value());
}

TEST_F(MemoryNet, NoticesReachOnlySubscribersWhosePrefixMatches) {
  ep("fe1");
  ep("scores").subscribe("fe1", "score/");
  ep("t1").subscribe("fe1", "tablet/t1");
  ep("other");  // subscribed to nothing
  ep("fe2").subscribe("fe1", "publisher");
  ep("fe1").publish("score/Curling", "s");
  ep("fe1").publish("tablet/t1", "r1");
  ep("fe1").publish("tablet/t2", "r2");
  ep("fe1").publish("tablet/t10", "r10");  // a prefix, as with ZeroMQ
  ep("other").publish("score/Curling", "not from fe1");
  clock_.advance(ms(10));
  EXPECT_EQ(arrivals("scores"), (Arrivals{{"fe1", "s", true}}));
  EXPECT_EQ(frames("t1"), (std::vector<std::string>{"r1", "r10"}));
  EXPECT_TRUE(drain("other").empty());
  EXPECT_TRUE(drain("fe2").empty());
}

TEST_F(MemoryNet, ADestroyedEndpointNoLongerReceivesNotices) {
  ep("pub");
  ep("sub").subscribe("pub", "");
  eps_.erase("sub");
  ep("pub").publish("anything", "x");
  EXPECT_FALSE(net_.next_delivery().has_value());
  ep("sub");  // a new endpoint of the same name starts without subscriptions
  ep("pub").publish("anything", "x");
  clock_.advance(ms(10));
  EXPECT_TRUE(drain("sub").empty());
}

}  // namespace
}  // namespace oly
