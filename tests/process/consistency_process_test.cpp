// Cache consistency with the real binaries on loopback, in each mode: a few seconds of load,
// then the guarantees checked from what the processes recorded (olympics/analysis.h).
#include <gtest/gtest.h>

#include <csignal>

#include "verify/analysis.h"
#include "tests/support/cluster.h"

namespace oly::testing {
namespace {

struct Mode {
  const char* name;
  Consistency consistency;
  bool adaptive;
};

class ConsistencyProcess : public ::testing::TestWithParam<Mode> {};

TEST_P(ConsistencyProcess, GuaranteesHoldUnderLoad) {
  const Mode mode = GetParam();
  ProcessCluster cluster([&](Config& c) {
    c.consistency = mode.consistency;
    c.pull.adaptive = mode.adaptive;
    c.tablets.read_interval_ms = 200;
    tolerate_descheduling(c);
  });
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  cluster.start_cacofonix({"--rate", "100", "--duration", "4"});
  cluster.start_tablets({"--count", "50", "--duration", "5"});
  ASSERT_EQ(cluster.wait("cacofonix", ms(20000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(20000)), 0) << cluster.log_tail("tablets");
  for (const char* fe : {"fe1", "fe2"}) {  // a clean stop writes the final stats file
    cluster.child(fe)->signal(SIGTERM);
    ASSERT_TRUE(cluster.child(fe)->wait(ms(5000)).has_value());
  }

  const RunAnalysis a = analyse_run(cluster.config());
  const auto& f = a.freshness;
  SCOPED_TRACE(format_analysis(a));
  EXPECT_GT(f.reads_ok, 3000u);
  EXPECT_EQ(f.reads_ok, f.reads);
  EXPECT_EQ(f.backwards, 0u);
  EXPECT_GT(a.updates, 300);
  EXPECT_GT(a.hit_rate(), 0.5);
  if (mode.consistency == Consistency::kPush) {
    EXPECT_EQ(f.stale_after_ack, 0u);
    EXPECT_GT(a.invalidations, 0);
  } else {
    const Config& c = cluster.config();
    // The TTR bound, plus a loopback round trip and the master's 10 ms grace, with room for a
    // scheduling hiccup on a loaded machine.
    const Duration bound = ms(mode.adaptive ? c.pull.ttr_max_ms : c.pull.ttr_ms) + ms(10) + ms(50);
    EXPECT_LE(f.staleness_max, bound);
    EXPECT_GT(a.polls, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ConsistencyProcess,
                         ::testing::Values(Mode{"Push", Consistency::kPush, true},
                                           Mode{"AdaptivePull", Consistency::kPull, true},
                                           Mode{"FixedPull", Consistency::kPull, false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace oly::testing
