#include "frontend/cache.h"

#include <cmath>

namespace oly {

namespace {
// Read rates are smoothed over about this long.
constexpr double kRateWindowSeconds = 5.0;
}  // namespace

void Cache::touch(Slot& s) { lru_.splice(lru_.begin(), lru_, s.lru); }

CacheEntry* Cache::peek(const std::string& key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.entry;
}

CacheEntry* Cache::read(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  touch(it->second);
  CacheEntry& e = it->second.entry;
  // Exponentially decayed count of reads per second.
  const double dt = std::max(0.0, to_ms(now - e.rate_at) / 1000.0);
  e.read_rate = e.read_rate * std::exp(-dt / kRateWindowSeconds) + 1.0 / kRateWindowSeconds;
  e.rate_at = now;
  return &e;
}

CacheEntry& Cache::put(const KeyValue& v, TimePoint now, Duration ttr) {
  auto it = entries_.find(v.key);
  if (it != entries_.end()) {
    CacheEntry& e = it->second.entry;
    if (v.version >= e.value.version) {
      e.value = v;
      e.confirmed_at = now;
      e.ttr = ttr;
    }
    touch(it->second);
    return e;
  }
  if (entries_.size() >= capacity_ && !lru_.empty()) {
    entries_.erase(lru_.back());
    lru_.pop_back();
    ++evictions_;
  }
  lru_.push_front(v.key);
  Slot& s = entries_[v.key];
  s.lru = lru_.begin();
  s.entry = CacheEntry{v, now, ttr, 0, now, false};
  return s.entry;
}

bool Cache::erase(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  lru_.erase(it->second.lru);
  entries_.erase(it);
  return true;
}

void Cache::clear() {
  entries_.clear();
  lru_.clear();
}

}  // namespace oly
