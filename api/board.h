// Board: the latest value this front end has told web clients of, per key, in the config's order
// (every event's score, then every team's tally), and the version vectors that name a client's
// place in it.
//
// A version vector is the versions of all keys in that order, joined by '.' ("3.0.12.1.0"): the
// scoreboard's ETag and the event stream's event id. Versions come from the database, so a
// vector means the same on every front end: a client that reconnects to another front end with
// Last-Event-ID resumes exactly there.
//
// Thread-safety: none (the front end's loop).
#pragma once

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
};

}  // namespace oly::api
