// Timers: a small fixed set of named one-shot timers, for a core that must say when it next
// wants a tick.
//
// Each timer is unset (TimePoint::max()) or set to a time; next() is the earliest set one. A core
// sets a timer when it schedules something, tests it with due() on a tick, and sets it again or
// cancels it. Nothing fires by itself: a timer is a remembered time, not a callback.
//
// `Name` is an enum class whose last enumerator is kCount.
//
// Thread-safety: plain value.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "common/clock.h"

namespace oly {

template <class Name>
class Timers {
 public:
  Timers() { at_.fill(TimePoint::max()); }

  void set(Name n, TimePoint at) { at_[index(n)] = at; }
  void cancel(Name n) { at_[index(n)] = TimePoint::max(); }
  bool is_set(Name n) const { return at_[index(n)] != TimePoint::max(); }
  // Set and at or before `now`.
  bool due(Name n, TimePoint now) const { return at_[index(n)] <= now; }
  // TimePoint::max() when unset.
  TimePoint at(Name n) const { return at_[index(n)]; }
  // The earliest set timer (TimePoint::max() when none is set).
  TimePoint next() const { return *std::min_element(at_.begin(), at_.end()); }

 private:
  static constexpr size_t kSize = static_cast<size_t>(Name::kCount);
  static constexpr size_t index(Name n) { return static_cast<size_t>(n); }
  std::array<TimePoint, kSize> at_;
};

}  // namespace oly
