#include "metrics/histogram.h"

#include <limits>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace oly::metrics {

Histogram::Histogram(std::span<const double> upper_bounds)
    : bounds_(upper_bounds.begin(), upper_bounds.end()), counts_(bounds_.size() + 1, 0) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    const double b = bounds_[i];
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, b).ptr;  // "nan", "inf", "0.001"
    const std::string where =
        "histogram bound #" + std::to_string(i) + " (" + std::string(text, end) + ")";
    if (!std::isfinite(b)) throw std::invalid_argument(where + " is not finite (+Inf is implicit)");
    if (b < 0) throw std::invalid_argument(where + " is negative");
    if (i > 0 && !(bounds_[i - 1] < b)) {
      throw std::invalid_argument(where + " is not greater than the bound before it");
    }
  }
}

void Histogram::observe(double seconds) {
  // `!(>= 0)` also catches NaN.
  if (!(seconds >= 0) || std::isinf(seconds)) {
    ++rejected_;
    return;
  }
  // The first bound >= the value: "le" semantics, a value on a bound counts in that bucket.
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  ++counts_[static_cast<size_t>(bucket)];
  sum_ += seconds;
  ++count_;
}

double Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const double want = q * static_cast<double>(count_);
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += counts_[i];
    if (static_cast<double>(running) >= want) return bounds_[i];
  }
  return std::numeric_limits<double>::infinity();
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(counts_.size());
  uint64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) out[i] = running += counts_[i];
  return out;
}

}  // namespace oly::metrics
