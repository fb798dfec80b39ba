// Pull mode's time to refresh (TTR): how long a front end serves a cached value before it asks
// the master whether it changed.
//
// Fixed: always pull.ttr_ms. Adaptive (the default): starts at ttr_min_ms and after each poll
//   - the value had changed:  ttr = max(ttr_min, ttr / 2)                       (multiplicative decrease)
//   - it had not:             ttr = min(ttr_max, ttr + ttr_min / (1 + rate/10)) (linear increase)
// where rate is the key's smoothed reads per second: a popular key's TTR grows more slowly,
// because each stale second of it is seen by more reads. Either way a served value is at most
// ttr_max (fixed: ttr_ms) plus one poll round trip behind the database (plus, when an update
// is in flight at the master, up to 10 ms before the master answers polls from the database).
//
// Thread-safety: plain value.
#pragma once

#include "common/clock.h"
#include "common/config.h"

namespace oly {

class TtrPolicy {
 public:
  explicit TtrPolicy(const PullConfig& c)
      : adaptive_(c.adaptive), fixed_(ms(c.ttr_ms)), min_(ms(c.ttr_min_ms)), max_(ms(c.ttr_max_ms)) {}

  Duration initial() const { return adaptive_ ? min_ : fixed_; }
  Duration after_poll(Duration ttr, bool changed, double read_rate) const;
  // The most a served value can be behind: the longest TTR (plus a round trip, added by callers).
  Duration bound() const { return adaptive_ ? max_ : fixed_; }

 private:
  bool adaptive_;
  Duration fixed_, min_, max_;
};

}  // namespace oly
