// Histogram: a Prometheus-style latency histogram with fixed bucket bounds, for a process to
// observe durations into and render (prometheus.h) on each GET /metrics.
//
// Buckets are Prometheus "le" buckets: an observation v counts in every bucket whose upper bound
// is >= v, so a value exactly on a bound counts in that bound's bucket. The bounds are fixed at
// construction; a last bucket, +Inf, is implicit and holds every accepted observation.
//
// Accepted observations are finite and >= 0 (-0 counts as 0). Anything else (NaN, a negative
// value, +Inf, -Inf) is a measuring bug, not a latency: it is ignored (counted in no bucket, not
// in sum() or count()) and only tallied in rejected(), so that one bad value can neither turn
// the sum into NaN or +Inf for good nor make it go down (which rate() would read as a reset).
//
// observe() is O(log buckets) (a binary search) and never allocates.
//
// Thread-safety: none (owned by one single-threaded server).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace oly::metrics {

// Default bounds for this service's latencies, in seconds: 100 us to 2.5 s.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

class Histogram {
 public:
  // `upper_bounds`: in seconds (or the histogram's unit), finite, >= 0, strictly ascending; may be
  // empty (then only the +Inf bucket). Throws std::invalid_argument naming the offending bound
  // otherwise (bounds come from code: a bad one is a programming error).
  explicit Histogram(std::span<const double> upper_bounds = kLatencyBuckets);

  // Counts `seconds` (see the header comment for what is accepted).
  void observe(double seconds);
  // Counts a duration, as seconds.
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) {
    observe(std::chrono::duration<double>(d).count());
  }

  // The bounds given at construction (without +Inf).
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Cumulative counts, one per bound and a last one for +Inf (size upper_bounds().size() + 1):
  // element i is the number of accepted observations <= upper_bounds()[i]; the last equals
  // count(). Allocates; meant for rendering and tests.
  std::vector<uint64_t> cumulative_counts() const;
  // The sum of the accepted observations (0 when none).
  double sum() const { return sum_; }
  // The number of accepted observations.
  uint64_t count() const { return count_; }
  // The number of observations ignored (NaN, negative, infinite).
  uint64_t rejected() const { return rejected_; }
  // An upper estimate of the q-quantile (0 < q <= 1): the bound of the first bucket holding at
  // least q of the observations; +Inf when that is the last bucket, 0 when there are none.
  double quantile(double q) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is (largest bound, +Inf]
  double sum_ = 0;
  uint64_t count_ = 0;
  uint64_t rejected_ = 0;
};

}  // namespace oly::metrics
