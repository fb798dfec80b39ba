// Board: the latest value this front end has told web clients of, per key, in the config's order
// (every event's score, then every team's tally), and the version vectors that name a client's
// place in it.
//
// Marks: the board's values may be behind the cache (an invalidation says a key changed, not to
// what; a lease that ran out empties the cache unseen). So each key also records the latest
// mark at which its value was known current: a value the cache took (current when it arrived),
// or a read through the core started at that mark. new_mark() starts a new mark (a stream
// opening); a stream opened at mark m is sent a key only once confirmed(key) >= m, so it never
// gets a value older than an update acknowledged before it opened.
//
// A version vector is the versions of all keys in that order, joined by '.' ("3.0.12.1.0"): the
// scoreboard's ETag and the event stream's event id. Versions come from the database, so a
// vector means the same on every front end: a client that reconnects to another front end with
// Last-Event-ID resumes exactly there.
//
// Thread-safety: none (the front end's loop).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/message.h"

namespace oly::api {

using Versions = std::vector<uint64_t>;

class Board {
 public:
  explicit Board(const Config& cfg);

  // The keys, in order ("score/<event>"..., "tally/<team>"...).
  const std::vector<std::string>& keys() const { return keys_; }
  // The index of `key` in keys(), or nullopt.
  std::optional<size_t> index(const std::string& key) const;

  // Takes `kv` if it is newer than what the board has; says whether it was.
  bool take(const KeyValue& kv);
  // The board's version of key i (0: nothing known).
  uint64_t version(size_t i) const { return values_[i].version; }
  const Versions& versions() const { return versions_; }
  // The JSON of key i's value (null when nothing is known yet).
  const nlohmann::json& value(size_t i) const { return values_[i].json; }
  // How many keys have a value.
  size_t known() const;

  // The current mark, and a new one (see above).
  uint64_t mark() const { return mark_; }
  uint64_t new_mark() { return ++mark_; }
  // Key i's value is current as of `mark` (a read started then returned it or older).
  void confirm(size_t i, uint64_t mark) { confirmed_[i] = std::max(confirmed_[i], mark); }
  // Key i changed to a version the board has not: its value is current as of no mark.
  void unconfirm(size_t i) { confirmed_[i] = 0; }
  uint64_t confirmed(size_t i) const { return confirmed_[i]; }

  // "3.0.12": `v` joined by '.'.
  static std::string vector_text(const Versions& v);
  // The vector in `text` if it has exactly keys().size() decimal versions, else nullopt.
  std::optional<Versions> parse_vector(const std::string& text) const;

 private:
  struct Slot {
    uint64_t version = 0;
    nlohmann::json json;
  };
  std::vector<std::string> keys_;
  std::map<std::string, size_t> index_;
  std::vector<Slot> values_;
  Versions versions_;
  std::vector<uint64_t> confirmed_;
  uint64_t mark_ = 1;
};

}  // namespace oly::api
