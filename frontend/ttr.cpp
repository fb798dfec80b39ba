#include "frontend/ttr.h"

#include <algorithm>

namespace oly {

Duration TtrPolicy::after_poll(Duration ttr, bool changed, double read_rate) const {
  if (!adaptive_) return fixed_;
  if (changed) return std::max(min_, ttr / 2);
  const auto step = Duration(static_cast<int64_t>(static_cast<double>(min_.count()) / (1.0 + read_rate / 10.0)));
  return std::min(max_, ttr + std::max(step, Duration(1000)));
}

}  // namespace oly
