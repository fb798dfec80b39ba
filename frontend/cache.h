// Cache: one front end's in-memory copy of scores and tallies, keyed "score/<event>" and
// "tally/<team>", bounded, least recently used evicted first.
//
// Versions decide everything: put() never replaces a value with an older version, so a late
// fill can never undo a newer write. Per key the cache also keeps what pull mode needs: when the
// value was last confirmed (`confirmed_at`), its time to refresh and its smoothed read rate.
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <list>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/message.h"

namespace oly {

struct CacheEntry {
  KeyValue value;
  TimePoint confirmed_at;   // fetched, or confirmed unchanged by a poll
  Duration ttr{0};          // pull mode: serve without polling until confirmed_at + ttr
  double read_rate = 0;     // reads per second, exponentially smoothed
  TimePoint rate_at;        // when read_rate was last updated
  bool refreshing = false;  // pull mode: a poll for this key is in flight
};

class Cache {
 public:
  // REQUIRES: capacity >= 1.
  explicit Cache(size_t capacity) : capacity_(capacity) {}

  // The entry of `key`, or nullptr; counts as a use (for LRU) and updates the read rate.
  CacheEntry* read(const std::string& key, TimePoint now);
  // The entry of `key`, or nullptr, without counting a use.
  CacheEntry* peek(const std::string& key);

  // Stores `v` unless the cache holds a newer version; returns the entry that is now cached
  // (the newer one if `v` was older). Evicts the least recently used entry when full.
  CacheEntry& put(const KeyValue& v, TimePoint now, Duration ttr);

  bool erase(const std::string& key);
  void clear();
  size_t size() const { return entries_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Slot {
    CacheEntry entry;
    std::list<std::string>::iterator lru;
  };
  void touch(Slot& s);

  size_t capacity_;
  std::map<std::string, Slot> entries_;
  std::list<std::string> lru_;  // front = most recently used
  uint64_t evictions_ = 0;
};

}  // namespace oly
