// Cache consistency with the real binaries on loopback, in each mode: a few seconds of load,
// then the guarantees judged by the checker (verify/) from what the processes recorded, and the
// cache's figures (hit rate, invalidations or polls) from the same records (verify/analysis.h).
#include <gtest/gtest.h>

#include <csignal>

#include "verify/analysis.h"
#include "verify/check.h"
#include "verify/load.h"
#include "verify/report.h"
#include "tests/support/cluster.h"
#include "tests/support/judge.h"

namespace oly::testing {
namespace {

struct Mode {
  const char* name;
  Consistency consistency;
  TtrKind ttr;
};

class ConsistencyProcess : public ::testing::TestWithParam<Mode> {};

TEST_P(ConsistencyProcess, GuaranteesHoldUnderLoad) {
  const Mode mode = GetParam();
  ProcessCluster cluster([&](Config& c) {
    c.consistency = mode.consistency;
    c.pull.ttr = mode.ttr;
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

  const JudgedRun run = judge_run(cluster.config());
  const verify::RunRecords& records = run.records;
  SCOPED_TRACE(verify::format_check(run.report));
  EXPECT_TRUE(run.report.passed());
  expect_data_guarantees(run.report);

  const verify::RunAnalysis a = verify::analyse_records(cluster.config(), records);
  const auto& f = a.freshness;
  SCOPED_TRACE(verify::format_analysis(a));
  EXPECT_GT(f.reads_ok, 3000u);
  EXPECT_EQ(f.reads_ok, f.reads);
  EXPECT_GT(a.updates, 300);
  EXPECT_GT(a.hit_rate(), 0.5);
  if (mode.consistency == Consistency::kPush) {
    EXPECT_GT(a.invalidations, 0);
  } else {
    EXPECT_GT(a.polls, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ConsistencyProcess,
                         ::testing::Values(Mode{"Push", Consistency::kPush, TtrKind::kFidelity},
                                           Mode{"FidelityPull", Consistency::kPull, TtrKind::kFidelity},
                                           Mode{"FixedPull", Consistency::kPull, TtrKind::kFixed}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace oly::testing
