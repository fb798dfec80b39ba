// Key: what one value is stored, cached, invalidated and versioned under: one event's score or
// one team's medal tally.
//
// Its text form, "score/<event>" or "tally/<team>", is the one that travels (Ack.key,
// Invalidate.keys, KeyValue.key, Fetch.key), that the database stores and that maps of keys are
// ordered by; Key is the only code that builds or splits it. Event and team names are validated
// elsewhere (config); a Key holds any name that does not make its text ambiguous.
//
// Thread-safety: a plain value.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oly {

class Key {
 public:
  enum class Kind : uint8_t { kScore, kTally };

  static Key score(std::string_view event) { return Key(Kind::kScore, event); }
  static Key tally(std::string_view team) { return Key(Kind::kTally, team); }

  // The key written as `text`, or nullopt when `text` is neither "score/<name>" nor "tally/<name>"
  // with a non-empty name.
  static std::optional<Key> parse(std::string_view text) {
    for (Kind k : {Kind::kScore, Kind::kTally}) {
      const std::string_view p = prefix(k);
      if (text.size() > p.size() && text.substr(0, p.size()) == p) return Key(k, text.substr(p.size()));
    }
    return std::nullopt;
  }

  Kind kind() const { return kind_; }
  bool is_score() const { return kind_ == Kind::kScore; }
  bool is_tally() const { return kind_ == Kind::kTally; }
  // The event (for a score) or the team (for a tally).
  std::string_view name() const { return std::string_view(text_).substr(prefix(kind_).size()); }
  // "score/<event>" or "tally/<team>" (held, not built: a read looks its key up by this text).
  const std::string& str() const { return text_; }

  // Orders as the text does (the prefixes order as the kinds).
  auto operator<=>(const Key& o) const { return text_ <=> o.text_; }
  bool operator==(const Key& o) const { return text_ == o.text_; }

 private:
  Key(Kind kind, std::string_view name) : kind_(kind), text_(std::string(prefix(kind)).append(name)) {}
  static constexpr std::string_view prefix(Kind k) { return k == Kind::kScore ? "score/" : "tally/"; }

  Kind kind_;
  std::string text_;
};

}  // namespace oly
