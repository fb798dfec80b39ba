#include "frontend/cache.h"

#include <algorithm>
#include <cmath>

namespace oly {

void DecayedRate::add(double events, TimePoint now, double window) {
  // A cache entry is read thousands of times a second: within a millisecond of `at` the events
  // join the sum undecayed, and decay from `at` (under 1 - e^(-0.001/window) early, 0.02% for a
  // window of 5 s), which saves an exp() per read.
  if (now >= at && now - at < ms(1)) {
    per_second += events / window;
    return;
  }
  per_second = as_of(now, window) + events / window;
  at = now;
}

double DecayedRate::as_of(TimePoint now, double window) const {
  const double dt = std::max(0.0, to_ms(now - at) / 1000.0);
  return per_second * std::exp(-dt / window);
}

double DecayedRate::estimate(TimePoint now, double window, TimePoint since) const {
  const double age = std::max(1.0, to_ms(now - since) / 1000.0);
  return as_of(now, window) / (1.0 - std::exp(-age / window));
}

void Cache::touch(Slot& s) { lru_.splice(lru_.begin(), lru_, s.lru); }

CacheEntry* Cache::peek(const std::string& key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.entry;
}

CacheEntry* Cache::read(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &count_read(it->second, now);
}

CacheEntry& Cache::count_read(Slot& s, TimePoint now) {
  touch(s);
  s.entry.reads.add(1, now, kReadRateWindow);
  return s.entry;
}

CacheEntry& Cache::put(const KeyValue& v, TimePoint now, Duration ttr) {
  auto it = entries_.find(v.key);
  if (it != entries_.end()) {
    CacheEntry& e = it->second.entry;
    if (v.version >= e.value.version) {
      const bool newer = v.version > e.value.version;
      if (newer) e.stamp.reset();
      set_value(e, v);
      if (newer && observer_) observer_(v.key, v.version, &v);
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
  s.entry = CacheEntry{.value = v, .confirmed_at = now, .ttr = ttr, .reads = {0, now},
                       .updates = {0, now}, .updates_long = {0, now}, .cached_at = now, .stamp = std::nullopt, .reply_value = {}};
  if (observer_) observer_(v.key, v.version, &v);
  return s.entry;
}

void Cache::set_value(CacheEntry& e, const KeyValue& v) {
  e.value = v;
  e.reply_value.clear();  // made again from the new value at its first answer
}

void Cache::update(CacheEntry& e, const KeyValue& v) {
  set_value(e, v);
  if (observer_) observer_(v.key, v.version, &v);
}

void Cache::invalidated(const std::string& key, uint64_t version) {
  if (observer_) observer_(key, version, nullptr);
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
