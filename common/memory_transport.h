// An in-memory network for simulations: endpoints in one thread, virtual time, seeded faults.
//
// Each frame sent gets a delivery time of now + a random delay in [min_delay, max_delay], but
// never earlier than the previous frame between the same pair (FIFO per pair, as TCP gives).
// Faults: a frame is dropped with probability `drop`; partition(a, b) drops every frame between
// a and b both ways until heal; crash(n) makes n drop everything it sends and everything sent to
// it (including frames already in flight) until restart(n); each endpoint that exchanged frames
// with n and is not cut off from it is told (Incoming::lost) after min_delay, as a TCP peer sees
// the kernel close a dead process's connections. All randomness comes from the seed, so a run
// replays exactly.
//
// Thread-safety: none; one simulation thread.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/transport.h"

namespace oly {

class MemoryNetwork {
 public:
  MemoryNetwork(const Clock& clock, uint64_t seed);
  ~MemoryNetwork();

  // Creates the endpoint `name`. REQUIRES: no live endpoint of that name. The endpoint must not
  // outlive the network.
  std::unique_ptr<Transport> endpoint(const std::string& name);

  void set_delay(Duration min_delay, Duration max_delay);
  void set_drop(double probability);
  void partition(const std::string& a, const std::string& b);
  void heal(const std::string& a, const std::string& b);
  void heal_all();
  void crash(const std::string& name);
  void restart(const std::string& name);
  bool crashed(const std::string& name) const { return down_.count(name) > 0; }

  // The earliest delivery time of any frame in flight to `name` (or to anyone, for ""), if any.
  std::optional<TimePoint> next_delivery(const std::string& name = "") const;

  uint64_t frames_sent() const { return sent_; }
  uint64_t frames_dropped() const { return dropped_; }

 private:
  friend class MemoryEndpoint;
  struct InFlight {
    TimePoint at;
    uint64_t order;
    Incoming msg;
    bool operator<(const InFlight& o) const { return at != o.at ? at < o.at : order < o.order; }
  };
  void deliver(const std::string& from, const std::string& to, std::string frame, bool notice);
  std::optional<Incoming> take(const std::string& name);
  bool blocked(const std::string& a, const std::string& b) const;

  const Clock& clock_;
  std::mt19937_64 rng_;
  Duration min_delay_{100};
  Duration max_delay_{1000};
  double drop_ = 0.0;
  std::map<std::string, std::set<InFlight>> inbox_;               // per destination
  std::map<std::pair<std::string, std::string>, TimePoint> last_; // FIFO per pair
  std::set<std::pair<std::string, std::string>> cut_;             // partitions, both orders
  std::set<std::string> down_;
  std::set<std::string> live_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> subs_;  // publisher -> (sub, prefix)
  uint64_t order_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace oly
