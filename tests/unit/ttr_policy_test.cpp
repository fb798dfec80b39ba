// TtrPolicy on its own: pull mode's time to refresh, fixed, LIMD or by fidelity.
#include "frontend/ttr.h"

#include <gtest/gtest.h>

#include <cmath>
#include "tests/support/values.h"

namespace oly {
namespace {

using testing::score_value;

const TimePoint t0 = TimePoint(ms(10'000'000));
// Entries of the tests have been cached for long (no start-up correction, see DecayedRate).
const TimePoint long_ago = TimePoint(ms(0));

// Without hints unless asked: each key's polls are its own (the square-root rule).
PullConfig pull(TtrKind kind, bool hints = false) {
  PullConfig c;
  c.ttr = kind;
  c.hints = hints;
  c.ttr_ms = 250;
  c.ttr_min_ms = 50;
  c.ttr_max_ms = 1000;
  c.fidelity = 0.95;
  return c;
}


// An entry at version 10 with TTR `ttr`, read `reads_per_second` as of t0.
CacheEntry entry(Duration ttr, double reads_per_second) {
  CacheEntry e;
  e.value = score_value("Curling", 10);
  e.ttr = ttr;
  e.reads = DecayedRate{reads_per_second, t0};
  e.updates = DecayedRate{0, t0};
  e.cached_at = long_ago;
  return e;
}

// Puts one key per (reads, changes) per second of `rates` into `cache`, cached long ago.
void cache_keys_with(Cache& cache, const std::vector<std::pair<double, double>>& rates) {
  for (size_t i = 0; i < rates.size(); ++i) {
    CacheEntry& e = cache.put(score_value("E" + std::to_string(i), 1), t0, ms(50));
    e.reads = DecayedRate{rates[i].first, t0};
    e.updates = DecayedRate{rates[i].second, t0};
    e.cached_at = long_ago;
  }
}

TEST(TtrPolicy, FixedIsAlwaysTheConfiguredTtr) {
  TtrPolicy p(pull(TtrKind::kFixed));
  EXPECT_EQ(p.initial(), ms(250));
  CacheEntry e = entry(ms(250), 100);
  EXPECT_EQ(p.after_poll(e, 11, t0), ms(250));
  EXPECT_EQ(p.after_poll(e, 11, t0), ms(250));
  EXPECT_EQ(p.bound(), ms(250));
}

TEST(TtrPolicy, LimdStartsAtTheMinimumAndIsBoundedByTheMaximum) {
  TtrPolicy p(pull(TtrKind::kLimd));
  EXPECT_EQ(p.initial(), ms(50));
  EXPECT_EQ(p.bound(), ms(1000));
  CacheEntry e = entry(p.initial(), 0);
  for (int i = 0; i < 1000; ++i) e.ttr = p.after_poll(e, 10, t0);
  EXPECT_EQ(e.ttr, ms(1000));
  for (uint64_t i = 0; i < 50; ++i) {
    e.ttr = p.after_poll(e, 11 + i, t0);
    e.value.version = 11 + i;
  }
  EXPECT_EQ(e.ttr, ms(50));
}

TEST(TtrPolicy, LimdHalvesOnAChangeAndAddsTheMinimumOtherwise) {
  TtrPolicy p(pull(TtrKind::kLimd));
  CacheEntry e = entry(ms(800), 0);
  EXPECT_EQ(p.after_poll(e, 11, t0), ms(400));
  e.ttr = ms(400);
  EXPECT_EQ(p.after_poll(e, 10, t0), ms(450));
}

TEST(TtrPolicy, LimdGrowsAPopularKeysTtrMoreSlowly) {
  TtrPolicy p(pull(TtrKind::kLimd));
  CacheEntry quiet = entry(ms(400), 0);
  CacheEntry popular = entry(ms(400), 90);
  EXPECT_LT(p.after_poll(popular, 10, t0), p.after_poll(quiet, 10, t0));
  EXPECT_GT(p.after_poll(popular, 10, t0), ms(400)) << "it still grows, by at least a millisecond";
}

TEST(TtrPolicy, APollThatFoundANewVersionCountsOneChange) {
  TtrPolicy p(pull(TtrKind::kFidelity));
  CacheEntry e = entry(ms(50), 10);
  p.after_poll(e, 13, t0);  // three updates, one stale spell
  EXPECT_DOUBLE_EQ(e.updates.per_second, 1 / kUpdateRateWindow);
  EXPECT_DOUBLE_EQ(e.updates_long.per_second, 1 / kQuietWindow);
  p.after_poll(e, 10, t0);  // not modified: no change
  EXPECT_DOUBLE_EQ(e.updates.per_second, 1 / kUpdateRateWindow);
  p.after_poll(e, 9, t0);   // older (a late answer): no change either
  EXPECT_DOUBLE_EQ(e.updates.per_second, 1 / kUpdateRateWindow);
}

TEST(TtrPolicy, FidelityFollowsTheSquareRootRuleWithinTheBounds) {
  Cache cache(16);
  // Two keys, both read 100 times a second; one updated 4 times a second, one never.
  CacheEntry& busy = cache.put(score_value("Curling", 10), t0, ms(50));
  CacheEntry& idle = cache.put(score_value("Luge", 10), t0, ms(50));
  busy.reads = idle.reads = DecayedRate{100, t0};
  busy.updates = DecayedRate{4, t0};
  busy.cached_at = idle.cached_at = long_ago;
  TtrPolicy p(pull(TtrKind::kFidelity));
  EXPECT_EQ(p.for_rates(100, 4), ms(50)) << "before the first retune, a changing key is polled at the minimum";
  EXPECT_EQ(p.for_rates(100, 0), ms(1000)) << "a key that never changes, at the maximum";
  p.retune(cache, t0);
  // c = 2 (1 - F) Σr / Σ sqrt(r u) = 2 * 0.05 * 200 / 20 = 1; T = c / sqrt(r u) = 1/20 s.
  // (Within the microsecond that TTRs are rounded to.)
  EXPECT_NEAR(p.scale(), 1.0, 1e-4);
  EXPECT_EQ(p.for_rates(100, 4), ms(50));
  EXPECT_NEAR(to_ms(p.for_rates(25, 4)), 100, 0.01) << "a quarter of the reads: twice the TTR";
  EXPECT_NEAR(to_ms(p.for_rates(100, 1)), 100, 0.01) << "a quarter of the updates: twice the TTR";
  EXPECT_EQ(p.for_rates(1, 1), ms(1000)) << "clamped to the maximum";
  EXPECT_EQ(p.for_rates(10000, 4), ms(50)) << "clamped to the minimum";
  EXPECT_EQ(p.bound(), ms(1000));
}

TEST(TtrPolicy, FidelityMeetsItsTargetInTheModelWithTheFewestPolls) {
  // Keys with different read and update rates: the square-root rule's TTRs serve exactly the
  // target share of reads fresh (r u T / 2 stale reads a second per key), and any other choice
  // of TTRs with that many stale reads costs more polls.
  PullConfig c = pull(TtrKind::kFidelity);
  c.ttr_min_ms = 1;
  c.ttr_max_ms = 100'000;
  c.fidelity = 0.9;
  TtrPolicy p(c);
  Cache cache(16);
  const std::vector<std::pair<double, double>> rates = {{40, 0.5}, {10, 2}, {5, 0.1}, {1, 1}};
  cache_keys_with(cache, rates);
  p.retune(cache, t0);
  double reads = 0, stale = 0, polls = 0;
  for (const auto& [r, u] : rates) {
    const double t = to_ms(p.for_rates(r, u)) / 1000.0;
    reads += r;
    stale += r * u * t / 2;
    polls += 1 / t;
  }
  EXPECT_NEAR(1 - stale / reads, 0.9, 1e-3);
  // The same TTR for every key with the same stale reads costs more.
  double weight = 0;
  for (const auto& [r, u] : rates) weight += r * u;
  const double same = 2 * 0.1 * reads / weight;
  EXPECT_GT(static_cast<double>(rates.size()) / same, polls * 1.2);
}

TEST(TtrPolicy, AKeyWhoseUpdatesStopDriftsBackToTheMaximum) {
  Cache cache(16);
  CacheEntry& e = cache.put(score_value("Curling", 10), t0, ms(50));
  e.reads = DecayedRate{50, t0};
  TtrPolicy p(pull(TtrKind::kFidelity));
  // Ten updates a second for five seconds, seen by polls every 100 ms.
  TimePoint now = t0;
  for (int i = 0; i < 50; ++i) {
    now += ms(100);
    e.ttr = p.after_poll(e, e.value.version + 1, now);
    e.value.version += 1;
    e.reads.add(5, now, kReadRateWindow);
    p.retune(cache, now);
  }
  const Duration busy = e.ttr;
  EXPECT_LT(busy, ms(200));
  // Then nothing changes; another key keeps changing, so c stays meaningful.
  CacheEntry& other = cache.put(score_value("Luge", 1), now, ms(50));
  other.reads = DecayedRate{50, now};
  other.updates = DecayedRate{10, now};
  other.cached_at = long_ago;
  for (int i = 0; i < 1800; ++i) {  // three minutes: its rates decay by e^-36 and e^-6
    now += ms(100);
    e.ttr = p.after_poll(e, e.value.version, now);
    e.reads.add(5, now, kReadRateWindow);
    other.updates.add(1, now, kUpdateRateWindow);
    other.reads.add(5, now, kReadRateWindow);
    p.retune(cache, now);
  }
  EXPECT_EQ(e.ttr, ms(1000));
}

TEST(TtrPolicy, WithHintsFidelityPollsEveryChangingKeyReadAtOnePeriodThatMeetsTheTarget) {
  // One poll confirms every key: the cost is the poll rate, so one period P serves all keys that
  // are read and change, the longest with Σ r·u·P/2 <= (1 - F)·Σr.
  Cache cache(16);
  const std::vector<std::pair<double, double>> rates = {{40, 0.5}, {10, 2}, {5, 0.1}, {1, 1}};
  cache_keys_with(cache, rates);
  TtrPolicy p(pull(TtrKind::kFidelity, true));
  EXPECT_EQ(p.for_rates(10, 2), ms(50)) << "before the first retune: the minimum";
  p.retune(cache, t0);
  // Σr = 56, Σ r·u = 20 + 20 + 0.5 + 1 = 41.5: P = 2 · 0.05 · 56 / 41.5 s = 134.9 ms.
  EXPECT_NEAR(to_ms(p.period()), 2 * 0.05 * 56 / 41.5 * 1000, 0.1);
  // Each key: P, or its own 2 (1 - F) / u when that is longer (another key's polls refresh it).
  EXPECT_EQ(p.for_rates(10, 2), p.period());
  EXPECT_EQ(p.for_rates(1, 1), p.period());
  EXPECT_EQ(p.for_rates(40, 0.5), ms(200));
  EXPECT_EQ(p.for_rates(5, 0.1), ms(1000)) << "clamped to the maximum";
  EXPECT_EQ(p.for_rates(0, 3), ms(1000)) << "nobody reads it: the maximum";
  EXPECT_EQ(p.for_rates(30, 0), ms(1000)) << "it never changes: the maximum";

  // A stricter target than the shortest period can meet: the minimum; a laxer one than the
  // longest needs: the maximum.
  PullConfig strict = pull(TtrKind::kFidelity, true);
  strict.fidelity = 0.999;
  TtrPolicy s(strict);
  s.retune(cache, t0);
  EXPECT_EQ(s.period(), ms(50));
  PullConfig lax = pull(TtrKind::kFidelity, true);
  lax.fidelity = 0.5;
  TtrPolicy l(lax);
  l.retune(cache, t0);
  EXPECT_EQ(l.period(), ms(1000));
}

}  // namespace
}  // namespace oly
