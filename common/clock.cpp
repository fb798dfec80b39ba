#include "common/clock.h"

namespace oly {

namespace {
int64_t steady_us() {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int64_t system_us() {
  return std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

SteadyClock::SteadyClock() : wall_minus_steady_us_(system_us() - steady_us()) {}

TimePoint SteadyClock::now() const { return TimePoint(Duration(steady_us())); }

int64_t SteadyClock::wall_us(TimePoint t) const { return to_us(t) + wall_minus_steady_us_; }

}  // namespace oly
