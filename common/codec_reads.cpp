#include "common/codec_reads.h"

#include <cstdint>
#include <cstring>

#include <msgpack.hpp>

#include "common/codec.h"
#include "common/string_sink.h"
#include "common/utf8.h"

namespace oly {

namespace {

// One value of the plain shape.
struct Plain {
  // kInt: a negative integer; kMap: a map's header (uint = its entry count, which the caller
  // reads next). kInt, kBool and kMap only where wide values are read (replies).
  enum class Kind { kNone, kNil, kStr, kUint, kInt, kBool, kMap } kind = Kind::kNone;
  std::string_view str;
  uint64_t uint = 0;
  int64_t sint = 0;
  bool boolean = false;
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
  // A fixmap's header: its number of entries.
  bool map_head(size_t& entries) {
    uint8_t head = 0;
    if (!byte(head) || (head & 0xf0u) != 0x80u) return false;
    entries = head & 0x0fu;
    return true;
  }
  // One entry of such a map: a fixstr key and a value (see value()).
  bool entry(std::string_view& key, Plain& v, bool wide) {
    uint8_t k = 0;
    return byte(k) && (k & 0xe0u) == 0xa0u && take(k & 0x1fu, key) && value(v, wide);
  }
  // A str, a non-negative integer or nil; when `wide`, also a negative integer, a boolean or a
  // map's header (fixmap: at most 15 entries).
  bool value(Plain& v, bool wide = false) {
    uint8_t t = 0;
    if (!byte(t)) return false;
    uint64_t n = 0;
    v = Plain{};
    if (t <= 0x7f) {
      v.kind = Plain::Kind::kUint;
      v.uint = t;
      return true;
    }
    if (t == 0xc0) {
      v.kind = Plain::Kind::kNil;
      return true;
    }
    if (t >= 0xcc && t <= 0xcf) {
      if (!big_endian(size_t{1} << (t - 0xcc), n)) return false;
      v.kind = Plain::Kind::kUint;
      v.uint = n;
      return true;
    }
    if (wide) {
      if (t == 0xc2 || t == 0xc3) {
        v.kind = Plain::Kind::kBool;
        v.boolean = t == 0xc3;
        return true;
      }
      if ((t & 0xf0u) == 0x80u) {
        v.kind = Plain::Kind::kMap;
        v.uint = t & 0x0fu;
        return true;
      }
      if (t >= 0xe0 || (t >= 0xd0 && t <= 0xd3)) {
        int64_t x = static_cast<int8_t>(t);
        if (t < 0xe0) {
          const size_t width = size_t{1} << (t - 0xd0);
          if (!big_endian(width, n)) return false;
          // Sign-extend from `width` bytes.
          const unsigned shift = static_cast<unsigned>(64 - 8 * width);
          x = static_cast<int64_t>(n << shift) >> shift;
        }
        // MessagePack readers (msgpack-c too) take a signed encoding of a value >= 0 as that
        // non-negative integer.
        if (x >= 0) {
          v.kind = Plain::Kind::kUint;
          v.uint = static_cast<uint64_t>(x);
        } else {
          v.kind = Plain::Kind::kInt;
          v.sint = x;
        }
        return true;
      }
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

// The fields of a Score or a Tally: every one present once, of its type; unknown keys with plain
// values are skipped, as by the general decoder.
bool read_int(const Plain& v, int64_t& out) {
  if (v.kind == Plain::Kind::kInt) {
    out = v.sint;
    return true;
  }
  if (v.kind != Plain::Kind::kUint || v.uint > static_cast<uint64_t>(INT64_MAX)) return false;
  out = static_cast<int64_t>(v.uint);
  return true;
}

bool is_text(const Plain& v);

// Keeps `v` in `slot` (nullptr: an unknown key, ignored as by the general decoder); false when the
// key came before (the general path then says what it makes of that).
bool put(Plain* slot, const Plain& v) {
  if (slot == nullptr) return true;
  if (slot->kind != Plain::Kind::kNone) return false;
  *slot = v;
  return true;
}

// Reads `entries` fields of a Score (r.score) or a Tally into `r`.
bool read_value(ByteReader& in, size_t entries, SimpleReply& r) {
  Plain name, a, b, c, version;  // a, b, c: gauls, romans, updated_at or gold, silver, bronze
  for (size_t i = 0; i < entries; ++i) {
    std::string_view key;
    Plain v;
    if (!in.entry(key, v, true) || v.kind == Plain::Kind::kMap) return false;
    // Which field, by its length first (one comparison of text per key).
    Plain* slot = nullptr;
    switch (key.size()) {
      case 4: slot = !r.score && key == "gold" ? &a : !r.score && key == "team" ? &name : nullptr; break;
      case 5: slot = r.score ? (key == "event" ? &name : key == "gauls" ? &a : nullptr) : nullptr; break;
      case 6: slot = r.score ? (key == "romans" ? &b : nullptr) : key == "silver" ? &b : key == "bronze" ? &c : nullptr; break;
      case 7: slot = key == "version" ? &version : nullptr; break;
      case 10: slot = r.score && key == "updated_at" ? &c : nullptr; break;
      default: break;
    }
    if (!put(slot, v)) return false;
  }
  if (!is_text(name) || version.kind != Plain::Kind::kUint) return false;
  r.name = name.str;
  r.version = version.uint;
  return read_int(a, r.values[0]) && read_int(b, r.values[1]) && read_int(c, r.values[2]);
}

bool is_text(const Plain& v) { return v.kind == Plain::Kind::kStr && valid_utf8(v.str) && v.str.size() <= kMaxNameBytes; }

}  // namespace

bool parse_simple_read(std::string_view frame, SimpleRead& r) {
  ByteReader in(frame);
  size_t entries = 0;
  if (!in.map_head(entries)) return false;
  Plain op, req, event, team, min_version, tablet, committed;
  for (size_t i = 0; i < entries; ++i) {
    std::string_view key;
    Plain v;
    if (!in.entry(key, v, false)) return false;
    // Which field, by its length first (one comparison of text per key).
    Plain* slot = nullptr;
    switch (key.size()) {
      case 2: slot = key == "op" ? &op : nullptr; break;
      case 3: slot = key == "req" ? &req : nullptr; break;
      case 4: slot = key == "team" ? &team : nullptr; break;
      case 5: slot = key == "event" ? &event : nullptr; break;
      case 6: slot = key == "tablet" ? &tablet : nullptr; break;
      case 9: slot = key == "committed" ? &committed : nullptr; break;
      case 11: slot = key == "min_version" ? &min_version : nullptr; break;
      default: break;
    }
    if (!put(slot, v)) return false;
  }
  if (!in.done() || op.kind != Plain::Kind::kStr) return false;
  const bool score = op.str == GetScore::kOp;
  if (!score && op.str != GetMedalTally::kOp) return false;
  // What the general path reads: req absent or a non-negative integer; the name present as text
  // (event for a score, team for a tally; the other is an unknown key there); min_version a
  // non-negative integer or absent; tablet text or absent.
  const Plain& name = score ? event : team;
  if (req.kind != Plain::Kind::kNone && req.kind != Plain::Kind::kUint) return false;
  if (!is_text(name)) return false;
  if (min_version.kind == Plain::Kind::kStr || tablet.kind == Plain::Kind::kUint) return false;
  if (tablet.kind == Plain::Kind::kStr && !is_text(tablet)) return false;
  // `committed` (front end -> database) is a boolean, which the plain shape has not: present and
  // not nil, the general path reads it.
  if (committed.kind != Plain::Kind::kNone && committed.kind != Plain::Kind::kNil) return false;
  r.score = score;
  r.req = req.uint;
  r.name = name.str;
  r.min_version.reset();
  if (min_version.kind == Plain::Kind::kUint) r.min_version = min_version.uint;
  r.tablet.reset();
  if (tablet.kind == Plain::Kind::kStr) r.tablet = tablet.str;
  return true;
}

bool decode_simple_read(std::string_view frame, Message& m) {
  SimpleRead r;
  if (!parse_simple_read(frame, r)) return false;
  std::optional<std::string> t;
  if (r.tablet) t.emplace(*r.tablet);
  m.req = r.req;
  if (r.score) {
    m.body.emplace<GetScore>(GetScore{std::string(r.name), r.min_version, std::move(t), std::nullopt});
  } else {
    m.body.emplace<GetMedalTally>(GetMedalTally{std::string(r.name), r.min_version, std::move(t), std::nullopt});
  }
  return true;
}

bool parse_simple_reply(std::string_view frame, SimpleReply& r) {
  ByteReader in(frame);
  size_t entries = 0;
  if (!in.map_head(entries)) return false;
  Plain op, req, bound;
  bool have_value = false;
  for (size_t i = 0; i < entries; ++i) {
    std::string_view key;
    Plain v;
    if (!in.entry(key, v, true)) return false;
    const bool value_key = key.size() == 5 && (key == "score" || key == "tally");
    if (v.kind == Plain::Kind::kMap) {
      // The value of a score or tally reply (one of them); a map under any other key, or two,
      // take the general path.
      if (!value_key || have_value) return false;
      have_value = true;
      r.score = key == "score";
      if (!read_value(in, static_cast<size_t>(v.uint), r)) return false;
      continue;
    }
    if (value_key) return false;  // not a map: the general path says so
    Plain* slot = nullptr;
    switch (key.size()) {
      case 2: slot = key == "op" ? &op : nullptr; break;
      case 3: slot = key == "req" ? &req : nullptr; break;
      case 7:
        if (key == "partial") return false;  // gossip mode's flag: the general path keeps it
        break;
      case 18: slot = key == "staleness_bound_ms" ? &bound : nullptr; break;
      default: break;
    }
    if (!put(slot, v)) return false;  // "ok" and unknown keys: ignored
  }
  if (!in.done() || op.kind != Plain::Kind::kStr) return false;
  if (req.kind != Plain::Kind::kNone && req.kind != Plain::Kind::kUint) return false;
  std::optional<int64_t> bound_ms;
  if (bound.kind != Plain::Kind::kNone && bound.kind != Plain::Kind::kNil) {
    int64_t b = 0;
    if (!read_int(bound, b)) return false;
    bound_ms = b;
  }
  if (!have_value || op.str != (r.score ? ScoreReply::kOp : TallyReply::kOp)) return false;
  r.req = req.uint;
  r.staleness_bound_ms = bound_ms;
  return true;
}

std::optional<Message> decode_simple_reply(std::string_view frame) {
  SimpleReply r;
  if (!parse_simple_reply(frame, r)) return std::nullopt;
  Message m;
  m.req = r.req;
  if (r.score) {
    m.body = ScoreReply{Score{std::string(r.name), r.values[0], r.values[1], r.version, r.values[2]}, r.staleness_bound_ms};
  } else {
    m.body = TallyReply{Tally{std::string(r.name), r.values[0], r.values[1], r.values[2], r.version}, r.staleness_bound_ms};
  }
  return m;
}

void append_simple_read(std::string& out, bool score, uint64_t req, std::string_view name,
                        std::optional<uint64_t> min_version, std::optional<std::string_view> tablet) {
  // encode()'s layout: op, req, then the fields in visit() order, the absent ones left out.
  StringSink sink{out};
  msgpack::packer<StringSink> pk(sink);
  pk.pack_map(3 + (min_version ? 1 : 0) + (tablet ? 1 : 0));
  const std::string_view op = score ? GetScore::kOp : GetMedalTally::kOp;
  pk.pack_str(2);
  pk.pack_str_body("op", 2);
  pk.pack_str(static_cast<uint32_t>(op.size()));
  pk.pack_str_body(op.data(), static_cast<uint32_t>(op.size()));
  pk.pack_str(3);
  pk.pack_str_body("req", 3);
  pk.pack(req);
  const std::string_view field = score ? "event" : "team";
  pk.pack_str(static_cast<uint32_t>(field.size()));
  pk.pack_str_body(field.data(), static_cast<uint32_t>(field.size()));
  pk.pack_str(static_cast<uint32_t>(name.size()));
  pk.pack_str_body(name.data(), static_cast<uint32_t>(name.size()));
  if (min_version) {
    pk.pack_str(11);
    pk.pack_str_body("min_version", 11);
    pk.pack(*min_version);
  }
  if (tablet) {
    pk.pack_str(6);
    pk.pack_str_body("tablet", 6);
    pk.pack_str(static_cast<uint32_t>(tablet->size()));
    pk.pack_str_body(tablet->data(), static_cast<uint32_t>(tablet->size()));
  }
}

}  // namespace oly
