// Time as every core sees it.
//
// Cores never read a clock: they are handed `now` (a TimePoint) on every call. Shells take it
// from SteadyClock (CLOCK_MONOTONIC, which on Linux is one clock for every process of the
// machine, so timestamps recorded by different processes on one host are comparable);
// simulations take it from VirtualClock, which moves only when told to.
//
// Thread-safety: SteadyClock is thread-safe; VirtualClock is not.
#pragma once

#include <chrono>
#include <cstdint>

namespace oly {

using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

inline constexpr Duration ms(int64_t v) { return std::chrono::milliseconds(v); }

// Microseconds since the clock's origin: the form in which times are written to files.
inline int64_t to_us(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_us(int64_t us) { return TimePoint(Duration(us)); }
inline double to_ms(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for timeouts and for timestamps compared across processes of one host.
  virtual TimePoint now() const = 0;
  // Wall-clock microseconds since the Unix epoch at monotonic time `t`: for display, and for
  // publishers' write stamps (gossip mode's last-writer-wins, docs/gossip.md).
  virtual int64_t wall_us(TimePoint t) const = 0;
  // The same in milliseconds.
  int64_t wall_ms(TimePoint t) const { return wall_us(t) / 1000; }
};

class SteadyClock final : public Clock {
 public:
  SteadyClock();
  TimePoint now() const override;
  int64_t wall_us(TimePoint t) const override;

 private:
  int64_t wall_minus_steady_us_;  // taken once at construction
};

// A clock for tests and simulations: starts at `start` and moves only by advance()/set().
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(TimePoint start = TimePoint(Duration(1'000'000))) : now_(start) {}
  TimePoint now() const override { return now_; }
  int64_t wall_us(TimePoint t) const override { return 1'700'000'000'000'000 + to_us(t); }
  void advance(Duration d) { now_ += d; }
  // REQUIRES: t >= now() (time never goes backwards).
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace oly
