#include "api/board.h"

#include <charconv>

#include "api/json.h"
#include "common/key.h"

namespace oly::api {

Board::Board(const Config& cfg) {
  for (const auto& e : cfg.events) keys_.push_back(Key::score(e).str());
  for (const auto& t : teams()) keys_.push_back(Key::tally(t).str());
  for (size_t i = 0; i < keys_.size(); ++i) index_[keys_[i]] = i;
  values_.resize(keys_.size());
  versions_.assign(keys_.size(), 0);
  confirmed_.assign(keys_.size(), 0);
}

std::optional<size_t> Board::index(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

bool Board::take(const KeyValue& kv) {
  const auto i = index(kv.key);
  if (!i || (!kv.score && !kv.tally)) return false;
  Slot& s = values_[*i];
  if (!s.json.is_null() && kv.version <= s.version) return false;
  s.version = kv.version;
  s.json = value_json(kv);
  versions_[*i] = kv.version;
  return true;
}

size_t Board::known() const {
  size_t n = 0;
  for (const auto& s : values_) n += s.json.is_null() ? 0 : 1;
  return n;
}

std::string Board::vector_text(const Versions& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += '.';
    out += std::to_string(v[i]);
  }
  return out;
}

std::optional<Versions> Board::parse_vector(const std::string& text) const {
  Versions v;
  const char* p = text.data();
  const char* end = p + text.size();
  while (true) {
    uint64_t x = 0;
    auto [next, ec] = std::from_chars(p, end, x);
    if (ec != std::errc() || next == p) return std::nullopt;
    v.push_back(x);
    if (v.size() > keys_.size()) return std::nullopt;
    if (next == end) break;
    if (*next != '.') return std::nullopt;
    p = next + 1;
  }
  if (v.size() != keys_.size()) return std::nullopt;
  return v;
}

}  // namespace oly::api
