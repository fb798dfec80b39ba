// Cache: one front end's in-memory copy of scores and tallies, keyed "score/<event>" and
// "tally/<team>", bounded, least recently used evicted first.
//
// Versions decide everything: put() never replaces a value with an older version, so a late
// fill can never undo a newer write. Per key the cache also keeps what pull mode needs: when the
// value was last confirmed (`confirmed_at`), its time to refresh and its smoothed read rate.
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <functional>
#include <list>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/message.h"

namespace oly {

// A count of events per second, exponentially smoothed over `window` seconds: each event adds
// 1/window, and the sum decays by e^(-dt/window). A steady rate r converges to r.
struct DecayedRate {
  double per_second = 0;  // as of `at`
  TimePoint at{};
  void add(double events, TimePoint now, double window);
  double as_of(TimePoint now, double window) const;
  // as_of() for a count begun at `since`, corrected for being younger than its window (divided by
  // 1 - e^(-age/window), age at least a second): unbiased from the start, not creeping up from 0.
  double estimate(TimePoint now, double window, TimePoint since) const;
};

// Read rates are smoothed over this many seconds.
inline constexpr double kReadRateWindow = 5.0;

struct CacheEntry {
  KeyValue value;
  TimePoint confirmed_at;   // fetched, or confirmed unchanged by a poll
  Duration ttr{0};          // pull mode: serve without polling until confirmed_at + ttr
  DecayedRate reads;        // reads per second (over kReadRateWindow), updated by Cache::read
  DecayedRate updates;      // pull mode, fidelity: polls that found a change, per second, lately (ttr.h)
  DecayedRate updates_long; // ... and over a longer window
  TimePoint cached_at;      // when the key entered the cache (the rates' start)
  bool refreshing = false;  // pull mode: a poll for this key is in flight
  // Pull mode with hints: the place in the master's changes (change_log.h) as of which this value
  // was the master's; none until an answer says so. Cleared when the value changes.
  std::optional<Cursor> stamp;
  // The value as a tablet's answer carries it (codec.h, encode_read_value), made at the first
  // answer after each change of `value` (Cache clears it), so that a hit encodes only its req.
  std::string reply_value;
  double read_rate() const { return reads.per_second; }
};

class Cache {
 public:
  // REQUIRES: capacity >= 1.
  explicit Cache(size_t capacity) : capacity_(capacity) {}

  // The entry of `key`, or nullptr; counts as a use (for LRU) and updates the read rate.
  CacheEntry* read(const std::string& key, TimePoint now);
  // The entry of `key`, or nullptr, without counting a use.
  CacheEntry* peek(const std::string& key);
  // read(), but only of an entry that `wanted(entry)` accepts: nullptr, having counted nothing,
  // when there is none or it is refused. (One lookup where peek() then read() take two.)
  template <class F> CacheEntry* read_if(const std::string& key, TimePoint now, F&& wanted) {
    auto it = entries_.find(key);
    if (it == entries_.end() || !wanted(it->second.entry)) return nullptr;
    return &count_read(it->second, now);
  }
  // Calls f(key, entry) for every entry, without counting uses.
  template <class F> void for_each(F&& f) const {
    for (const auto& [key, slot] : entries_) f(key, slot.entry);
  }
  template <class F> void for_each(F&& f) {
    for (auto& [key, slot] : entries_) f(key, slot.entry);
  }

  // Stores `v` unless the cache holds a newer version; returns the entry that is now cached
  // (the newer one if `v` was older). Evicts the least recently used entry when full.
  CacheEntry& put(const KeyValue& v, TimePoint now, Duration ttr);

  // Sets e.value to `v`, a newer version of the same key (pull mode's hints), telling the observer.
  void update(CacheEntry& e, const KeyValue& v);
  // Tells the observer that `key` has a version `version` that the cache has not (an
  // invalidation); the cache itself is left as it is.
  void invalidated(const std::string& key, uint64_t version);
  // Whoever wants to hear of every newer version the cache learns (the HTTP event stream, api/):
  // told of each value put() or update() stores over an older version or a missing key, and of
  // each version invalidated() reports (without a value). Called synchronously; it must not
  // call back into the cache.
  using Observer = std::function<void(const std::string& key, uint64_t version, const KeyValue* value)>;
  void observe(Observer o) { observer_ = std::move(o); }

  bool erase(const std::string& key);
  void clear();
  size_t size() const { return entries_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  // The one place an entry's value changes: its encoded answer goes with it.
  static void set_value(CacheEntry& e, const KeyValue& v);
  struct Slot {
    CacheEntry entry;
    std::list<std::string>::iterator lru;
  };
  void touch(Slot& s);
  // A use of s: it becomes the most recently used, and its read rate counts the read.
  CacheEntry& count_read(Slot& s, TimePoint now);

  size_t capacity_;
  std::map<std::string, Slot> entries_;
  std::list<std::string> lru_;  // front = most recently used
  uint64_t evictions_ = 0;
  Observer observer_;
};

}  // namespace oly
