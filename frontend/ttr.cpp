#include "frontend/ttr.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace oly {

namespace {

double own_update_rate(const CacheEntry& e, TimePoint now) {
  return std::max(e.updates.estimate(now, kUpdateRateWindow, e.cached_at),
                  e.updates_long.estimate(now, kQuietWindow, e.cached_at));
}

// The square-root rule's TTR for scale c, read rate r and change rate u, clamped to [lo, hi].
Duration square_root_ttr(double c, double r, double u, Duration lo, Duration hi) {
  const double ru = r * u;
  if (ru <= 1e-12) return hi;
  const double seconds = c / std::sqrt(ru);
  if (seconds >= to_ms(hi) / 1000.0) return hi;
  return std::max(lo, Duration(static_cast<int64_t>(seconds * 1e6)));
}

}  // namespace

double TtrPolicy::update_rate(const CacheEntry& e, TimePoint now) const {
  const double age = std::max(0.0, to_ms(now - e.cached_at) / 1000.0);
  return std::max(own_update_rate(e, now), mean_updates_ * std::exp(-age / kPriorSeconds));
}

Duration TtrPolicy::for_rates(double r, double u) const {
  if (hints_) {
    // P, or longer for a key that changes so rarely that it would meet the target on its own.
    if (r * u <= 1e-12) return max_;
    const double own_ms = 2.0 * (1.0 - fidelity_) / u * 1000.0;
    if (own_ms >= to_ms(max_)) return max_;
    return std::max(period_, Duration(static_cast<int64_t>(own_ms * 1000.0)));
  }
  return square_root_ttr(scale_, r, u, min_, max_);
}

Duration TtrPolicy::after_poll(CacheEntry& e, uint64_t version, TimePoint now) const {
  const bool changed = version > e.value.version;
  switch (kind_) {
    case TtrKind::kFixed:
      return fixed_;
    case TtrKind::kLimd: {
      if (changed) return std::max(min_, e.ttr / 2);
      const double step = static_cast<double>(min_.count()) / (1.0 + e.read_rate() / 10.0);
      return std::min(max_, e.ttr + std::max(Duration(static_cast<int64_t>(step)), Duration(1000)));
    }
    case TtrKind::kFidelity: {
      // Changes, not versions: the updates of a burst that one poll sees make one stale spell.
      e.updates.add(changed ? 1.0 : 0.0, now, kUpdateRateWindow);
      e.updates_long.add(changed ? 1.0 : 0.0, now, kQuietWindow);
      return for_rates(e.reads.as_of(now, kReadRateWindow), update_rate(e, now));
    }
  }
  return min_;
}

void TtrPolicy::retune(const Cache& cache, TimePoint now) {
  if (kind_ != TtrKind::kFidelity) return;
  std::vector<std::pair<double, double>> rates;  // (reads, changes) per second, of keys being read
  double reads = 0;
  double updates = 0;
  cache.for_each([&](const std::string&, const CacheEntry& e) {
    const double r = e.reads.as_of(now, kReadRateWindow);
    if (r <= 0) return;
    updates += own_update_rate(e, now);
    rates.emplace_back(r, update_rate(e, now));
    reads += r;
  });
  mean_updates_ = rates.empty() ? 0 : updates / static_cast<double>(rates.size());
  const double target = (1.0 - fidelity_) * reads;
  if (hints_) {
    retune_period(rates, target);
    return;
  }
  // The stale reads per second that c would give, in the model (at most every read stale), with
  // each TTR clamped. Increasing in c.
  const auto stale_reads = [&](double c) {
    double stale = 0;
    for (const auto& [r, u] : rates) stale += r * std::min(1.0, u * to_ms(square_root_ttr(c, r, u, min_, max_)) / 2000.0);
    return stale;
  };
  // The largest c whose stale reads stay within the target, by bisection in log space: with the
  // clamps, the closed form 2 (1 - F) Σr / Σ sqrt(r u) would miss it.
  double lo = 1e-6, hi = 1e3;
  if (stale_reads(hi) <= target) {  // every key at its longest TTR is fresh enough
    scale_ = hi;
    return;
  }
  if (stale_reads(lo) > target) {
    // Not even the shortest TTRs would meet it: the unclamped rule still shares the polls out.
    double weight = 0;
    for (const auto& [r, u] : rates) weight += std::sqrt(r * u);
    scale_ = 2.0 * (1.0 - fidelity_) * reads / weight;
    return;
  }
  for (int i = 0; i < 40; ++i) {
    const double mid = std::sqrt(lo * hi);
    (stale_reads(mid) <= target ? lo : hi) = mid;
  }
  scale_ = lo;
}

void TtrPolicy::retune_period(const std::vector<std::pair<double, double>>& rates, double target) {
  // The stale reads per second with every changing key polled each `p` ms: increasing in p.
  const auto stale_reads = [&](double p) {
    double stale = 0;
    for (const auto& [r, u] : rates) stale += r * std::min(1.0, u * p / 2000.0);
    return stale;
  };
  double lo = to_ms(min_), hi = to_ms(max_);
  if (stale_reads(hi) <= target) {
    period_ = max_;
    return;
  }
  if (stale_reads(lo) > target) {
    period_ = min_;
    return;
  }
  for (int i = 0; i < 30; ++i) {
    const double mid = (lo + hi) / 2;
    (stale_reads(mid) <= target ? lo : hi) = mid;
  }
  period_ = std::max(min_, Duration(static_cast<int64_t>(lo * 1000.0)));
}

}  // namespace oly
