#include "gossip/vector_clock.h"

#include <algorithm>

namespace oly::gossip {

VectorClock::VectorClock(std::map<std::string, uint64_t> entries) {
  for (auto& [r, n] : entries) set(r, n);
}

uint64_t VectorClock::at(const std::string& replica) const {
  const auto it = v_.find(replica);
  return it == v_.end() ? 0 : it->second;
}

void VectorClock::set(const std::string& replica, uint64_t n) {
  if (n == 0) v_.erase(replica);
  else v_[replica] = n;
}

uint64_t VectorClock::tick(const std::string& replica) { return ++v_[replica]; }

void VectorClock::merge(const VectorClock& other) {
  for (const auto& [r, n] : other.v_) v_[r] = std::max(v_[r], n);
}

bool VectorClock::covers(const VectorClock& other) const {
  return std::all_of(other.v_.begin(), other.v_.end(), [&](const auto& e) { return at(e.first) >= e.second; });
}

VectorClock::Order VectorClock::compare(const VectorClock& a, const VectorClock& b) {
  const bool ab = a.covers(b), ba = b.covers(a);
  if (ab && ba) return Order::kEqual;
  if (ba) return Order::kBefore;
  if (ab) return Order::kAfter;
  return Order::kConcurrent;
}

std::string VectorClock::text() const {
  std::string out;
  for (const auto& [r, n] : v_) out += (out.empty() ? "" : " ") + r + ":" + std::to_string(n);
  return out;
}

}  // namespace oly::gossip
