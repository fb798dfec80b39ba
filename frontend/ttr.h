// Pull mode's time to refresh (TTR): how long a front end serves a cached value before it asks
// the master whether it changed. Three policies (`pull.ttr` in the config):
//
// fixed: always pull.ttr_ms.
//
// limd: starts at ttr_min_ms and after each poll
//   - the value had changed:  ttr = max(ttr_min, ttr / 2)                       (multiplicative decrease)
//   - it had not:             ttr = min(ttr_max, ttr + ttr_min / (1 + rate/10)) (linear increase)
//   where rate is the key's smoothed reads per second.
//
// fidelity: each key's TTR follows both how often it is read and how often it changes. Per key the front
//   end knows its read rate r (reads per second) and its change rate u (polls that found a new
//   version, per second: the updates of a burst that one poll sees make one stale spell; see
//   update_rate() below). A value served t after its poll is out of date with probability
//   about u·t, so a key polled every T serves about r·u·T/2 stale reads a second
//   and costs 1/T polls. Serving a share F (pull.fidelity) of all reads fresh with the fewest
//   polls is a Lagrange problem whose answer is the square-root rule
//       T_k = c / sqrt(r_k · u_k),   (unclamped: c = 2·(1 - F)·Σr / Σ sqrt(r·u)),
//   clamped to [ttr_min, ttr_max]. retune() recomputes c from the whole cache, by bisection so
//   that the model's stale reads with the clamped TTRs meet the target. So a key nobody reads or
//   that never changes is polled every ttr_max; polls go to keys that are read and are changing
//   now, and a key's TTR grows again as its changes stop (its u decays).
//   With hints (pull.hints, the default; change_log.h) one poll confirms or refreshes every key,
//   so the cost is the rate of polls, not the sum over keys: the optimum is then one period P,
//   the largest that meets the target,
//       Σ r_k · min(1, u_k · P / 2) <= (1 - F) · Σ r_k,   P in [ttr_min, ttr_max],
//   (unclamped: P = 2·(1 - F)·Σr / Σ r·u), found by bisection in retune(). A key read and
//   changing gets P, or longer if it would meet the target on its own (2·(1 - F) / u_k, up to
//   ttr_max): the polls of the others refresh it every P anyway, and it should not drive polls
//   that only it needs; a key not read or never changing gets ttr_max. Without hints the square-root rule above; there the model ignores how long a burst
//   lasts (reads during a burst are stale whatever the TTR), and on the measured feeds it spends
//   its polls no better than limd does (bench/RESULTS.md).
//
// Whatever the policy, a served value is at most longest_ttr (fixed: ttr_ms; else ttr_max) plus
// one poll round trip behind the database (plus, when an update is in flight at the master, up
// to 10 ms before the master answers polls from the database).
//
// Thread-safety: plain value.
#pragma once

#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "frontend/cache.h"

namespace oly {

// Change rates are smoothed over these many seconds. A key's change rate is the larger of the
// two: a burst shows at once (the short window), but a key is believed quiet only after it has
// been quiet for a while (the long one), so that one lucky quiet spell does not stretch its TTR.
inline constexpr double kUpdateRateWindow = 5.0;
inline constexpr double kQuietWindow = 30.0;

// A key new to the cache is assumed to change like the average key, an assumption that fades
// as e^(-age / kPriorSeconds) while its own polls speak for it.
inline constexpr double kPriorSeconds = 5.0;

class TtrPolicy {
 public:
  explicit TtrPolicy(const PullConfig& c)
      : kind_(c.ttr),
        hints_(c.hints),
        fidelity_(c.fidelity),
        fixed_(ms(c.ttr_ms)),
        min_(ms(c.ttr_min_ms)),
        max_(ms(c.ttr_max_ms)),
        period_(min_) {}

  // The TTR of a value just fetched (nothing known of its updates yet).
  Duration initial() const { return kind_ == TtrKind::kFixed ? fixed_ : min_; }
  // A poll of `e` (which still holds the version polled) was answered at `now` with `version`:
  // records whether it saw a change (e.updates) and returns the key's next TTR.
  Duration after_poll(CacheEntry& e, uint64_t version, TimePoint now) const;
  // fidelity: recomputes c (see above) from the rates of every entry of `cache` read lately.
  void retune(const Cache& cache, TimePoint now);
  // The longest TTR; a served value is at most this plus a round trip behind.
  Duration bound() const { return kind_ == TtrKind::kFixed ? fixed_ : max_; }
  // fidelity: the TTR of a key read r times and updated u times a second.
  Duration for_rates(double r, double u) const;
  // fidelity: the update rate used for `e` at `now`: the larger of its short- and long-window
  // rates (its own rate), and at least the faded prior (kPriorSeconds) of the average key's.
  double update_rate(const CacheEntry& e, TimePoint now) const;
  double scale() const { return scale_; }
  // fidelity with hints: the period P of every key that is read and changes (see above).
  Duration period() const { return period_; }
  TtrKind kind() const { return kind_; }

 private:
  void retune_period(const std::vector<std::pair<double, double>>& rates, double target);

  TtrKind kind_;
  bool hints_;
  double fidelity_;
  Duration fixed_, min_, max_;
  Duration period_;   // with hints: ttr_min until the first retune
  double scale_ = 0;  // c: 0 until the first retune (every key that changes is then polled at ttr_min)
  double mean_updates_ = 0;  // the average update rate of the keys being read, at the last retune
};

}  // namespace oly
