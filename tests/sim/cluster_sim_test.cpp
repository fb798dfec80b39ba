// Whole-cluster simulations of the steady state (no failures): every acknowledged update is
// applied exactly once, tablets' reads never go backwards, and tablets are spread evenly.
#include <gtest/gtest.h>

#include "tests/sim/invariants.h"
#include "tests/sim/sim_cluster.h"

namespace oly::sim {
namespace {

// Runs `seconds` of load, stops the publisher and lets everything drain.
void run_and_drain(SimCluster& c, int seconds) {
  c.run_for(ms(seconds * 1000));
  c.stop_publishing();
  ASSERT_TRUE(c.run_until([&] { return c.publisher().finished(); }, ms(10000)))
      << c.describe() << ": " << c.publisher().unacknowledged() << " updates never acknowledged";
  c.run_for(ms(1500));  // tablets finish their last round
}

void expect_invariants(SimCluster& c) {
  EXPECT_EQ(join(check_acknowledged_updates(c)), "") << c.describe();
  EXPECT_EQ(join(check_tallies_match_publisher(c)), "") << c.describe();
  EXPECT_EQ(join(check_monotonic_reads(c)), "") << c.describe();
  EXPECT_EQ(join(check_even_split(c.tablets().tablets_per_home())), "") << c.describe();
}

TEST(ClusterSim, EveryAcknowledgedUpdateIsAppliedOnceAndReadsNeverGoBackwards) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SimCluster c(Config{}, SimOptions{.seed = seed, .tablets = 21, .rate = 80});
    run_and_drain(c, 8);
    EXPECT_GT(c.acks().size(), 500u) << c.describe();
    EXPECT_GT(c.reads().size(), 500u) << c.describe();
    expect_invariants(c);
    EXPECT_EQ(join(check_even_split(c.tablets().tablets_per_frontend())), "") << c.describe();
    if (HasFailure()) break;
  }
}

TEST(ClusterSim, LossyNetworkLosesNoAcknowledgedUpdateAndDoublesNone) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SimCluster c(Config{}, SimOptions{.seed = seed, .tablets = 10, .rate = 60, .max_delay = ms(3), .drop = 0.02});
    run_and_drain(c, 8);
    EXPECT_GT(c.acks().size(), 300u) << c.describe();
    expect_invariants(c);
    if (HasFailure()) break;
  }
}

TEST(ClusterSim, SameSeedReplaysExactly) {
  auto run = [] {
    SimCluster c(Config{}, SimOptions{.seed = 42, .tablets = 5, .rate = 40, .drop = 0.01});
    c.run_for(ms(3000));
    std::string trace;
    for (const auto& a : c.acks()) trace += a.key + "@" + std::to_string(to_us(a.acked)) + ";";
    for (const auto& r : c.reads()) trace += r.key + "@" + std::to_string(to_us(r.end)) + ";";
    return trace;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace oly::sim
