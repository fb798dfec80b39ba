// What the tool did to a cluster (events.csv) and the failures the checker makes of it
// (verify/events.h).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "verify/events.h"
#include "tests/support/process.h"

namespace oly::verify {
namespace {

TimePoint at_ms(int64_t v) {
  return TimePoint(ms(v));
}

ClusterEvent ev(int64_t t, std::string node, std::string action) {
  return {at_ms(t), std::move(node), std::move(action)};
}

AckRecord ack_via(int64_t t, std::string via) {
  AckRecord a;
  a.via = std::move(via);
  a.acked = a.first_sent = a.created = at_ms(t);
  return a;
}

const std::vector<std::string> kFes = {"fe1", "fe2"};

TEST(ClusterEvents, SignalsHaveTheirActionWords) {
  EXPECT_EQ(action_for_signal(SIGKILL), "kill");
  EXPECT_EQ(action_for_signal(SIGTERM), "term");
  EXPECT_EQ(action_for_signal(SIGSTOP), "stop");
  EXPECT_EQ(action_for_signal(SIGCONT), "cont");
  EXPECT_EQ(action_for_signal(SIGINT), "int");
  EXPECT_EQ(action_for_signal(SIGUSR1), "signal " + std::to_string(SIGUSR1));
}

TEST(ClusterEvents, AppendedEventsReadBackInOrderAndAMissingFileHasNone) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("events.csv");
  EXPECT_TRUE(read_events(path).empty());
  append_event(path, ev(1000, "fe1", "start"));
  append_event(path, ev(2500, "fe1", "kill"));
  const auto back = read_events(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].at, at_ms(2500));
  EXPECT_EQ(back[1].node, "fe1");
  EXPECT_EQ(back[1].action, "kill");
}

TEST(ClusterEvents, AMalformedLineIsNamedWithItsLineNumber) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("events.csv");
  std::ofstream(path) << "at_us,node,action\n12,fe1,start\nnot-a-number,fe1,kill\n";
  try {
    read_events(path);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("events.csv:3"), std::string::npos) << e.what();
  }
}

TEST(ClusterEvents, AKillIsAFailureUntilTheNodeIsStartedAgain) {
  const auto run = failures_from_events(
      {ev(0, "db", "start"), ev(1, "fe1", "start"), ev(2, "fe2", "start"),
       ev(3, "cacofonix", "start"), ev(5000, "fe1", "kill"), ev(9000, "fe1", "start"),
       ev(20000, "fe2", "down"), ev(20001, "fe1", "down")},
      kFes, {"db"}, {ack_via(4000, "fe1"), ack_via(6000, "fe2")});
  ASSERT_EQ(run.failures.size(), 1u);
  // A clean stop is a failure too, named for its signal.
  const auto term = failures_from_events({ev(0, "db", "start"), ev(100, "db", "term"), ev(200, "db", "start")}, kFes,
                                         {"db"}, {});
  ASSERT_EQ(term.failures.size(), 1u);
  EXPECT_EQ(term.failures[0].how, "term");
  EXPECT_EQ(term.failures[0].back, at_ms(200));
  const Failure& f = run.failures[0];
  EXPECT_EQ(f.node, "fe1");
  EXPECT_EQ(f.how, "kill");
  EXPECT_FALSE(f.database);
  EXPECT_TRUE(f.was_master);  // the last ack before the kill came through it
  EXPECT_EQ(f.at, at_ms(5000));
  EXPECT_EQ(f.back, at_ms(9000));
  EXPECT_EQ(run.start, at_ms(0));
  EXPECT_EQ(run.end, at_ms(20000));  // the stop is not a failure
}

TEST(ClusterEvents, APauseEndsWithContinueAndAKilledPausedNodeWithItsStart) {
  const auto run = failures_from_events(
      {ev(1000, "fe1", "stop"), ev(4000, "fe1", "cont"), ev(5000, "fe2", "stop"),
       ev(6000, "fe2", "kill"), ev(7000, "fe2", "cont"), ev(8000, "fe2", "start")},
      kFes, {"db"}, {ack_via(500, "fe1")});
  ASSERT_EQ(run.failures.size(), 2u);
  EXPECT_EQ(run.failures[0].how, "pause");
  EXPECT_TRUE(run.failures[0].was_master);
  EXPECT_EQ(run.failures[0].back, at_ms(4000));
  EXPECT_EQ(run.failures[1].how, "kill");
  EXPECT_FALSE(run.failures[1].was_master);
  EXPECT_EQ(run.failures[1].at, at_ms(5000));
  EXPECT_EQ(run.failures[1].back, at_ms(8000));
}

TEST(ClusterEvents, TheRunEndsAtTheFirstStopAfterTheLastStart) {
  const auto run = failures_from_events(
      {ev(0, "fe1", "start"), ev(1000, "fe1", "down"), ev(2000, "fe1", "start"),
       ev(3000, "fe1", "down"), ev(3001, "db", "down")},
      kFes, {"db"}, {});
  EXPECT_TRUE(run.failures.empty());
  EXPECT_EQ(run.start, at_ms(0));
  EXPECT_EQ(run.end, at_ms(3000));
  const auto running = failures_from_events(
      {ev(0, "fe1", "start"), ev(1000, "fe1", "down"), ev(2000, "fe1", "start")}, kFes, {"db"}, {});
  EXPECT_FALSE(running.end.has_value());
}

TEST(ClusterEvents, TheDatabaseFailsTooButClientsAndUnknownNodesDoNot) {
  const auto run = failures_from_events(
      {ev(1000, "tablets", "kill"), ev(2000, "cacofonix", "term"), ev(3000, "db", "kill"),
       ev(3500, "elsewhere", "kill")},
      kFes, {"db"}, {});
  ASSERT_EQ(run.failures.size(), 1u);
  EXPECT_TRUE(run.failures[0].database);
  EXPECT_FALSE(run.failures[0].was_master);
  EXPECT_FALSE(run.failures[0].back.has_value());  // never restarted
}

TEST(ClusterEvents, EventsOutOfFileOrderAreTakenInTimeOrderAndARepeatedKillIsOneFailure) {
  const auto run = failures_from_events(
      {ev(9000, "fe2", "start"), ev(5000, "fe2", "kill"), ev(5100, "fe2", "kill")}, kFes, {"db"},
      {});
  ASSERT_EQ(run.failures.size(), 1u);
  EXPECT_EQ(run.failures[0].at, at_ms(5000));
  EXPECT_EQ(run.failures[0].back, at_ms(9000));
}

}  // namespace
}  // namespace oly::verify
