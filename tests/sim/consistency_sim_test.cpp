// Cache consistency on a simulated cluster (DESIGN.md section 4), over many seeds, with random
// delays and drops: push mode never serves a read older than an acknowledged update (also when a
// peer is cut off from the master), pull mode stays within its staleness bound, caches are never
// ahead of the database, and a tablet's reads never go backwards.
#include <gtest/gtest.h>

#include "tests/sim/invariants.h"
#include "tests/sim/sim_cluster.h"

namespace oly::sim {
namespace {

Config config(Consistency mode, TtrKind ttr = TtrKind::kFidelity) {
  Config c;
  c.consistency = mode;
  c.pull.ttr = ttr;
  c.tablets.read_interval_ms = 200;  // many reads per update, so that caching matters
  return c;
}

// Runs the cluster in steps, checking that no cache is ahead of the database after each.
void run_checked(SimCluster& c, Duration total) {
  for (Duration t{0}; t < total; t += ms(250)) {
    c.run_for(ms(250));
    ASSERT_EQ(join(check_caches_not_ahead(c)), "") << c.describe();
  }
}

int64_t counter(SimCluster& c, const std::string& fe, const std::string& name) {
  Effects out;
  c.frontend(fe)->on_message("test", Message{1, GetStats{}}, false, c.now(), out);
  const auto& counters = out.items().at(0).msg.as<Stats>().counters;
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

TEST(PushConsistency, NoReadStartedAfterAnAcknowledgementReturnsAnOlderVersion) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SimCluster c(config(Consistency::kPush), SimOptions{.seed = seed, .tablets = 20, .rate = 60,
                                                        .max_delay = ms(2), .drop = seed % 2 ? 0.01 : 0.0});
    run_checked(c, ms(6000));
    const auto f = freshness(c);
    EXPECT_EQ(join(check_fresh_reads(c)), "") << c.describe();
    EXPECT_EQ(join(check_monotonic_reads(c)), "") << c.describe();
    EXPECT_GT(f.reads_ok, 2000u) << c.describe();
    EXPECT_GT(counter(c, "fe2", "cache_hits"), counter(c, "fe2", "cache_misses")) << c.describe();
    EXPECT_GT(counter(c, "fe1", "invalidations_sent"), 0) << c.describe();
    if (HasFailure()) break;
  }
}

TEST(PushConsistency, PeerCutOffFromTheMasterStopsServingCachedValuesAndTheMasterWaitsAtMostALease) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SimCluster c(config(Consistency::kPush), SimOptions{.seed = seed, .tablets = 20, .rate = 60});
    run_checked(c, ms(2000));
    const TimePoint cut = c.now();
    c.net().partition("fe1", "fe2");
    run_checked(c, ms(3000));
    c.net().heal_all();
    run_checked(c, ms(2000));
    const auto f = freshness(c);
    EXPECT_EQ(join(check_fresh_reads(c)), "") << c.describe();
    EXPECT_EQ(join(check_monotonic_reads(c)), "") << c.describe();
    // While cut off, updates were still acknowledged, each within a lease (plus a resend tick).
    const Duration lease = ms(c.config().lease.duration_ms + c.config().heartbeat.interval_ms) + ms(5);
    size_t during = 0;
    for (const auto& a : c.acks()) {
      if (a.acked > cut && a.acked < cut + ms(3000)) ++during;
      EXPECT_LE(a.acked - a.first_sent, lease) << "update " << a.seq << " waited too long; " << c.describe();
    }
    EXPECT_GT(during, 100u) << c.describe();
    EXPECT_GT(counter(c, "fe2", "flushes"), 0) << "fe2 should have flushed when its lease ran out; " << c.describe();
    if (HasFailure()) break;
  }
}

TEST(PushConsistency, RestartedMasterDoesNotAcknowledgeWhileAnOldLeaseMayStillBeServed) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SimCluster c(config(Consistency::kPush), SimOptions{.seed = seed, .tablets = 20, .rate = 60});
    run_checked(c, ms(2000));
    c.crash("fe1");
    c.run_for(ms(20 + 10 * static_cast<int64_t>(seed)));  // back before fe2's lease runs out
    c.restart("fe1");
    run_checked(c, ms(4000));
    const auto f = freshness(c);
    EXPECT_EQ(join(check_fresh_reads(c)), "") << c.describe();
    EXPECT_EQ(join(check_monotonic_reads(c)), "") << c.describe();
    EXPECT_EQ(c.frontend("fe1")->epoch(), 2u) << c.describe();
    if (HasFailure()) break;
  }
}

// With hints (the default) every poll's answer also confirms or refreshes the peer's other keys
// (frontend/change_log.h): the bound must hold the same, through drops that lose updates' answers.
void expect_pull_bound(TtrKind ttr, bool hints) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Config cfg = config(Consistency::kPull, ttr);
    cfg.pull.hints = hints;
    SimCluster c(cfg, SimOptions{.seed = seed, .tablets = 20, .rate = 40, .max_delay = ms(2), .drop = seed % 2 ? 0.01 : 0.0});
    run_checked(c, ms(6000));
    const auto f = freshness(c);
    // The TTR, a poll round trip, and the master's grace for an update in flight (10 ms).
    const Duration bound = ms(c.config().pull.longest_ttr_ms()) + ms(2 * 2) + ms(10) + ms(1);
    EXPECT_EQ(join(check_fresh_reads(c, bound)), "") << c.describe();
    EXPECT_EQ(join(check_monotonic_reads(c)), "") << c.describe();
    EXPECT_GT(f.reads_ok, 2000u) << c.describe();
    EXPECT_GT(f.fidelity, 0.3) << c.describe();
    EXPECT_GT(counter(c, "fe2", "cache_hits"), 0) << c.describe();
    EXPECT_GT(counter(c, "fe2", "polls_sent"), 0) << c.describe();
    if (hints) {
      EXPECT_GT(counter(c, "fe2", "hinted_confirms"), 0) << c.describe();
      EXPECT_GT(counter(c, "fe2", "hinted_refreshes"), 0) << c.describe();
    } else {
      EXPECT_EQ(counter(c, "fe2", "hinted_confirms") + counter(c, "fe2", "hinted_refreshes"), 0) << c.describe();
    }
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(PullConsistency, FixedTtrReadsAreNeverMoreThanTtrPlusARoundTripBehind) {
  expect_pull_bound(TtrKind::kFixed, false);
}
TEST(PullConsistency, FixedTtrWithHintsReadsAreNeverMoreThanTtrPlusARoundTripBehind) {
  expect_pull_bound(TtrKind::kFixed, true);
}
TEST(PullConsistency, LimdTtrReadsAreNeverMoreThanTtrMaxPlusARoundTripBehind) {
  expect_pull_bound(TtrKind::kLimd, true);
}
TEST(PullConsistency, FidelityTtrReadsAreNeverMoreThanTtrMaxPlusARoundTripBehind) {
  expect_pull_bound(TtrKind::kFidelity, true);
}

}  // namespace
}  // namespace oly::sim
