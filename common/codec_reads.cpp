#include "common/codec_reads.h"

#include <cstdint>
#include <cstring>

#include "common/codec.h"
#include "common/utf8.h"

namespace oly {

namespace {

// One value of the plain shape.
struct Plain {
  enum class Kind { kNone, kNil, kStr, kUint } kind = Kind::kNone;
  std::string_view str;
  uint64_t uint = 0;
};

// Reads bytes of a frame front to back; any shape outside the fast path fails it.
class ByteReader {
 public:
  explicit ByteReader(std::string_view b) : b_(b) {}
  bool done() const { return at_ == b_.size(); }
  bool byte(uint8_t& out) {
    if (at_ >= b_.size()) return false;
    out = static_cast<uint8_t>(b_[at_++]);
    return true;
  }
  bool big_endian(size_t n, uint64_t& out) {
    if (b_.size() - at_ < n) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) out = (out << 8) | static_cast<uint8_t>(b_[at_ + i]);
    at_ += n;
    return true;
  }
  bool take(size_t n, std::string_view& out) {
    if (b_.size() - at_ < n) return false;
    out = b_.substr(at_, n);
    at_ += n;
    return true;
  }
  // A str, a non-negative integer or nil.
  bool value(Plain& v) {
    uint8_t t = 0;
    if (!byte(t)) return false;
    uint64_t n = 0;
    if (t <= 0x7f) {
      v = {Plain::Kind::kUint, {}, t};
      return true;
    }
    if (t == 0xc0) {
      v = {Plain::Kind::kNil, {}, 0};
      return true;
    }
    if (t >= 0xcc && t <= 0xcf) {
      if (!big_endian(size_t{1} << (t - 0xcc), n)) return false;
      v = {Plain::Kind::kUint, {}, n};
      return true;
    }
    if (t >= 0xa0 && t <= 0xbf) {
      n = t & 0x1fu;
    } else if (t == 0xd9 || t == 0xda) {
      if (!big_endian(t == 0xd9 ? 1 : 2, n)) return false;
    } else {
      return false;
    }
    v.kind = Plain::Kind::kStr;
    return take(static_cast<size_t>(n), v.str);
  }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

bool is_text(const Plain& v) { return v.kind == Plain::Kind::kStr && valid_utf8(v.str) && v.str.size() <= kMaxNameBytes; }

}  // namespace

std::optional<Message> decode_simple_read(std::string_view frame) {
  ByteReader in(frame);
  uint8_t head = 0;
  if (!in.byte(head) || (head & 0xf0u) != 0x80u) return std::nullopt;
  Plain op, req, event, team, min_version, tablet;
  const size_t entries = head & 0x0fu;
  for (size_t i = 0; i < entries; ++i) {
    uint8_t k = 0;
    std::string_view key;
    if (!in.byte(k) || (k & 0xe0u) != 0xa0u || !in.take(k & 0x1fu, key)) return std::nullopt;
    Plain v;
    if (!in.value(v)) return std::nullopt;
    Plain* slot = key == "op"                                 ? &op
                  : key == "req"                              ? &req
                  : key == "event"                            ? &event
                  : key == "team"                             ? &team
                  : key == "min_version"                      ? &min_version
                  : key == "tablet"                           ? &tablet
                                                              : nullptr;
    if (slot == nullptr) continue;  // an unknown key: ignored, as by the general decoder
    if (slot->kind != Plain::Kind::kNone) return std::nullopt;  // twice
    *slot = v;
  }
  if (!in.done() || op.kind != Plain::Kind::kStr) return std::nullopt;
  const bool score = op.str == GetScore::kOp;
  if (!score && op.str != GetMedalTally::kOp) return std::nullopt;
  // What the general path reads: req absent or a non-negative integer; the name present as text
  // (event for a score, team for a tally; the other is an unknown key there); min_version a
  // non-negative integer or absent; tablet text or absent.
  const Plain& name = score ? event : team;
  if (req.kind != Plain::Kind::kNone && req.kind != Plain::Kind::kUint) return std::nullopt;
  if (!is_text(name)) return std::nullopt;
  if (min_version.kind == Plain::Kind::kStr || tablet.kind == Plain::Kind::kUint) return std::nullopt;
  if (tablet.kind == Plain::Kind::kStr && !is_text(tablet)) return std::nullopt;
  std::optional<uint64_t> min;
  if (min_version.kind == Plain::Kind::kUint) min = min_version.uint;
  std::optional<std::string> t;
  if (tablet.kind == Plain::Kind::kStr) t.emplace(tablet.str);
  Message m;
  m.req = req.uint;
  if (score) {
    m.body = GetScore{std::string(name.str), min, std::move(t), std::nullopt};
  } else {
    m.body = GetMedalTally{std::string(name.str), min, std::move(t), std::nullopt};
  }
  return m;
}

}  // namespace oly
