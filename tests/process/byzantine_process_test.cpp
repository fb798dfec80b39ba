// Byzantine mode (issue 19, part 2; docs/byzantine.md) on real processes: three replicas, four
// front ends over CurveZMQ, one of them started with --traitor, Cacofonix signing its updates and
// 50 tablets reading with two vouchers. Judged by verify/ as every run is (none lost, none twice,
// in order, fresh and monotonic reads; "none lost" also compares each applied value with the one
// Cacofonix sent), and:
// - everything Cacofonix produced was acknowledged (a traitor costs a resend, never an update);
// - the loyal front ends saw the traitor's lies (values that fail the publisher's signature);
// - the database's rows are those of the updates Cacofonix sent, in the order it acknowledged them.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/cluster.h"
#include "tests/support/judge.h"

namespace oly::testing {
namespace {

ProcessCluster byzantine_cluster() {
  return ProcessCluster([](Config& c) {
    c.security = Security::kCurve;
    replicate(c, 3);
    add_frontends(c, 4);
    c.byzantine = true;
    c.tablets.read_interval_ms = 300;
    tolerate_descheduling(c);
  });
}

int64_t counter(ProcessCluster& cluster, const std::string& node, const std::string& name) {
  const auto reply = cluster.ask(node, GetStats{});
  if (!reply || !reply->is<Stats>()) return -1;
  const auto& c = reply->as<Stats>().counters;
  const auto it = c.find(name);
  return it == c.end() ? 0 : it->second;
}

// Starts everything with `traitor` lying by `strategy`, runs `seconds` of load, and judges.
void run_with_traitor(const std::string& traitor, const std::string& strategy, int seconds) {
  ProcessCluster cluster = byzantine_cluster();
  ASSERT_TRUE(cluster.start_database());
  for (const char* fe : {"fe1", "fe2", "fe3", "fe4"}) {
    std::vector<std::string> extra;
    if (fe == traitor) extra = {"--traitor", strategy};
    ASSERT_TRUE(cluster.start_frontend(fe, extra));
  }
  cluster.start_cacofonix({"--rate", "50", "--duration", std::to_string(seconds), "--drain", "15"});
  cluster.start_tablets({"--count", "50", "--duration", std::to_string(seconds + 1)});
  ASSERT_EQ(cluster.wait("cacofonix", ms(60000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(30000)), 0) << cluster.log_tail("tablets");

  int64_t invalid = 0;
  for (const char* fe : {"fe1", "fe2", "fe3", "fe4"}) {
    if (fe != traitor) invalid += counter(cluster, fe, "agreement_invalid_values");
  }
  if (strategy == "flip" || strategy == "random") {
    EXPECT_GT(invalid, 0) << "the loyal front ends never saw " << traitor << "'s lies";
  }
  EXPECT_GT(counter(cluster, "fe2", "submissions"), 0);
  for (const char* fe : {"fe1", "fe2", "fe3", "fe4"}) {
    cluster.child(fe)->signal(SIGTERM);
    cluster.child(fe)->wait(ms(5000));
  }
  for (const auto& r : cluster.config().database.replicas) {
    cluster.child(r.id)->signal(SIGTERM);
    cluster.child(r.id)->wait(ms(5000));
  }
  const JudgedRun run = judge_run(cluster.config());
  expect_data_guarantees(run.report);
  // Everything produced was acknowledged: Cacofonix's log says so when it drained.
  EXPECT_GE(run.records.acks.size(), static_cast<size_t>(40 * seconds)) << cluster.log_tail("cacofonix");
  EXPECT_NE(cluster.log_tail("cacofonix", 5).find(", 0 unacknowledged"), std::string::npos) << cluster.log_tail("cacofonix");
  size_t ok = 0;
  for (const auto& r : run.records.reads) ok += r.outcome == "ok";
  EXPECT_GT(ok, run.records.reads.size() * 9 / 10) << "reads ok " << ok << " of " << run.records.reads.size();
}

TEST(ByzantineProcess, ALyingLieutenantChangesNothing) { run_with_traitor("fe3", "flip", 6); }

TEST(ByzantineProcess, ASilentHomeMasterCostsOneResendAndLosesNothing) { run_with_traitor("fe1", "silent", 6); }

TEST(ByzantineProcess, AnEquivocatingFrontEndChangesNothing) { run_with_traitor("fe2", "equivocate", 6); }

}  // namespace
}  // namespace oly::testing
