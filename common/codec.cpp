#include "common/codec.h"

#include "common/codec_reads.h"
#include "common/string_sink.h"
#include "common/utf8.h"

#include <algorithm>
#include <limits>
#include <msgpack.hpp>
#include <type_traits>

namespace oly {
namespace {

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};
template <class T> struct is_map : std::false_type {};
template <class K, class V> struct is_map<std::map<K, V>> : std::true_type {};

using Packer = msgpack::packer<StringSink>;

// ------------------------------------------------------------------------------- encoding

template <class T> void pack_value(Packer& pk, const T& v);

// visit() is non-const so that one field list serves both directions; encoding only reads.
template <class S> uint32_t present_fields(const S& s) {
  uint32_t n = 0;
  const_cast<S&>(s).visit([&](const char*, const auto& field) {
    if constexpr (is_optional<std::decay_t<decltype(field)>>::value) {
      if (!field) return;
    }
    ++n;
  });
  return n;
}

template <class S> void pack_fields(Packer& pk, const S& s) {
  const_cast<S&>(s).visit([&](const char* name, const auto& field) {
    if constexpr (is_optional<std::decay_t<decltype(field)>>::value) {
      if (!field) return;
      pk.pack(name);
      pack_value(pk, *field);
    } else {
      pk.pack(name);
      pack_value(pk, field);
    }
  });
}

template <class S> void pack_struct(Packer& pk, const S& s) {
  pk.pack_map(present_fields(s));
  pack_fields(pk, s);
}

template <class T> void pack_value(Packer& pk, const T& v) {
  if constexpr (std::is_same_v<T, std::string> || std::is_arithmetic_v<T>) {
    pk.pack(v);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    pk.pack_bin(static_cast<uint32_t>(v.data.size()));
    pk.pack_bin_body(v.data.data(), static_cast<uint32_t>(v.data.size()));
  } else if constexpr (std::is_same_v<T, ErrorCode>) {
    pk.pack(error_code_name(v));
  } else if constexpr (is_vector<T>::value) {
    pk.pack_array(static_cast<uint32_t>(v.size()));
    for (const auto& e : v) pack_value(pk, e);
  } else if constexpr (is_map<T>::value) {
    pk.pack_map(static_cast<uint32_t>(v.size()));
    for (const auto& [k, e] : v) {
      pk.pack(k);
      pack_value(pk, e);
    }
  } else {
    pack_struct(pk, v);
  }
}

// ------------------------------------------------------------------------------- decoding

const char* type_name(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "string";
    case msgpack::type::BIN: return "binary";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    default: return "extension";
  }
}

bool key_is(const msgpack::object& key, std::string_view name) {
  return key.type == msgpack::type::STR && std::string_view(key.via.str.ptr, key.via.str.size) == name;
}

const msgpack::object* find(const msgpack::object& map, std::string_view name) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    if (key_is(map.via.map.ptr[i].key, name)) return &map.via.map.ptr[i].val;
  }
  return nullptr;
}

// Where a field is, for error texts ("scores[1].version"): a chain of names and indexes, made
// into a string only when something fails (building it for every field cost more than reading
// the field).
struct Path {
  const Path* parent = nullptr;
  std::string_view name;  // a field's name or a map's key ("" for the top level)
  int64_t index = -1;     // an array element: its index (then `name` is unused)
  std::string str() const {
    if (parent == nullptr) return std::string(name);
    std::string s = parent->str();
    if (index >= 0) return s + "[" + std::to_string(index) + "]";
    return s.empty() ? std::string(name) : s + "." + std::string(name);
  }
  // The field's own name: the innermost name, looking through array indexes.
  std::string_view field() const { return index >= 0 && parent != nullptr ? parent->field() : name; }
};

// Fields that hold a name (an id, an event, a team): at most kMaxNameBytes. Every other string is
// bounded by the frame's size and by its own rules (the key-value store's keys and values).
bool is_name_field(std::string_view field) {
  static constexpr std::string_view kNames[] = {"event", "team",   "tablet", "publisher", "id",   "frontend", "home",
                                                "master", "leader", "node",   "from",      "to",   "role",     "medal"};
  return std::find(std::begin(kNames), std::end(kNames), field) != std::end(kNames);
}

// Converts msgpack objects into fields, remembering the first failure with its path.
class Reader {
 public:
  bool failed() const { return failed_; }
  const std::string& why() const { return why_; }

  template <class T> void read(const msgpack::object& o, T& out, const Path& path) {
    if (failed_) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (o.type != msgpack::type::BOOLEAN) return fail(path, "boolean", o);
      out = o.via.boolean;
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      if (o.type == msgpack::type::POSITIVE_INTEGER) {
        if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<T>::max())) return range(path);
        out = static_cast<T>(o.via.u64);
      } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
        if (o.via.i64 < static_cast<int64_t>(std::numeric_limits<T>::min())) return range(path);
        out = static_cast<T>(o.via.i64);
      } else {
        return fail(path, "integer", o);
      }
    } else if constexpr (std::is_integral_v<T>) {
      if (o.type == msgpack::type::NEGATIVE_INTEGER) return range(path);
      if (o.type != msgpack::type::POSITIVE_INTEGER) return fail(path, "non-negative integer", o);
      if (o.via.u64 > std::numeric_limits<T>::max()) return range(path);
      out = static_cast<T>(o.via.u64);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64) out = o.via.f64;
      else if (o.type == msgpack::type::POSITIVE_INTEGER) out = static_cast<T>(o.via.u64);
      else if (o.type == msgpack::type::NEGATIVE_INTEGER) out = static_cast<T>(o.via.i64);
      else return fail(path, "number", o);
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (o.type != msgpack::type::STR) return fail(path, "string", o);
      const std::string_view text(o.via.str.ptr, o.via.str.size);
      if (!text_ok(text, path)) return;
      out.assign(text);
    } else if constexpr (std::is_same_v<T, Bytes>) {
      if (o.type != msgpack::type::BIN) return fail(path, "binary", o);
      out.data.assign(o.via.bin.ptr, o.via.bin.size);
    } else if constexpr (std::is_same_v<T, ErrorCode>) {
      if (o.type != msgpack::type::STR) return fail(path, "error code name", o);
      const std::string_view name(o.via.str.ptr, o.via.str.size);
      const auto c = parse_error_code(name);
      if (!c) return unknown_code(path, name);
      out = *c;
    } else if constexpr (is_vector<T>::value) {
      if (o.type != msgpack::type::ARRAY) return fail(path, "array", o);
      out.clear();
      out.resize(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size && !failed_; ++i) {
        read(o.via.array.ptr[i], out[i], Path{&path, {}, static_cast<int64_t>(i)});
      }
    } else if constexpr (is_map<T>::value) {
      if (o.type != msgpack::type::MAP) return fail(path, "map", o);
      out.clear();
      for (uint32_t i = 0; i < o.via.map.size && !failed_; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) return fail(path.str() + " key", "string", kv.key);
        const std::string_view k(kv.key.via.str.ptr, kv.key.via.str.size);
        if (!valid_utf8(k)) return bad(path.str() + " key", "not valid UTF-8");
        read(kv.val, out[std::string(k)], Path{&path, k});
      }
    } else {
      if (o.type != msgpack::type::MAP) return fail(path, "map", o);
      read_fields(o, out, path);
    }
  }

  // Reads the fields of struct `s` from map `o`, which is at `at` (the top level: Path{}).
  template <class S> void read_fields(const msgpack::object& o, S& s, const Path& at) {
    s.visit([&](const char* name, auto& field) {
      if (failed_) return;
      using F = std::decay_t<decltype(field)>;
      const msgpack::object* v = find(o, name);
      const Path here{&at, name};
      if constexpr (is_optional<F>::value) {
        if (v == nullptr || v->type == msgpack::type::NIL) {
          field.reset();
          return;
        }
        field.emplace();
        read(*v, *field, here);
      } else {
        if (v == nullptr) {
          failed_ = true;
          why_ = "missing field '" + here.str() + "'";
          return;
        }
        read(*v, field, here);
      }
    });
  }

 private:
  // Text must be valid UTF-8, and a name at most kMaxNameBytes: the text never quotes it.
  bool text_ok(std::string_view text, const Path& path) {
    if (!valid_utf8(text)) {
      bad(path.str(), "not valid UTF-8");
      return false;
    }
    if (text.size() > kMaxNameBytes && is_name_field(path.field())) {
      bad(path.str(), std::to_string(text.size()) + " bytes, over the limit of " + std::to_string(kMaxNameBytes) +
                          " for a name");
      return false;
    }
    return true;
  }
  void bad(const std::string& where, const std::string& what) {
    failed_ = true;
    why_ = "field '" + where + "': " + what;
  }
  void fail(const Path& path, const char* expected, const msgpack::object& got) { fail(path.str(), expected, got); }
  void fail(const std::string& where, const char* expected, const msgpack::object& got) {
    failed_ = true;
    why_ = "field '" + where + "': expected " + expected + ", got " + type_name(got);
  }
  // Quotes the name only when it is short and plain (never raw bytes into a log).
  void unknown_code(const Path& path, std::string_view name) {
    failed_ = true;
    const bool plain = name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || c == '_';
                       });
    why_ = "field '" + path.str() + "': " + (plain ? "'" + std::string(name) + "' is not" : std::string("not")) +
           " a known error code";
  }
  void range(const Path& path) {
    failed_ = true;
    why_ = "field '" + path.str() + "': integer out of range";
  }
  bool failed_ = false;
  std::string why_;
};

// Decodes the body of alternative I if its kOp is `op`; walks the variant's alternatives.
template <std::size_t I = 0>
bool decode_body(std::string_view op, const msgpack::object& o, Body& body, std::string& why) {
  if constexpr (I == std::variant_size_v<Body>) {
    return false;
  } else {
    using T = std::variant_alternative_t<I, Body>;
    if (T::kOp != op) return decode_body<I + 1>(op, o, body, why);
    T value;
    Reader r;
    r.read_fields(o, value, Path{});
    if (r.failed()) {
      why = std::string(op) + ": " + r.why();
    } else {
      body = std::move(value);
    }
    return true;
  }
}

}  // namespace

std::string encode(const Message& msg) {
  std::string frame;
  frame.reserve(256);
  StringSink sink{frame};
  Packer pk(sink);
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        const bool reply = is_reply(msg.body);
        pk.pack_map(present_fields(b) + (reply ? 3 : 2));
        pk.pack("op");
        pk.pack(T::kOp);
        pk.pack("req");
        pk.pack(msg.req);
        if (reply) {
          pk.pack("ok");
          pk.pack(!std::is_same_v<T, Error>);
        }
        pack_fields(pk, b);
      },
      msg.body);
  return frame;
}

std::string encode_read_value(const KeyValue& kv) {
  std::string out;
  StringSink sink{out};
  Packer pk(sink);
  if (kv.score) {
    pk.pack("score");
    pack_value(pk, *kv.score);
  } else if (kv.tally) {
    pk.pack("tally");
    pack_value(pk, *kv.tally);
  }
  return out;
}

std::string encode_read_reply(uint64_t req, const KeyValue& kv, std::string_view value,
                              std::optional<int64_t> staleness_bound_ms) {
  std::string frame;
  frame.reserve(value.size() + 64);
  append_read_reply(frame, req, kv, value, staleness_bound_ms);
  return frame;
}

void append_read_reply(std::string& frame, uint64_t req, const KeyValue& kv, std::string_view value,
                       std::optional<int64_t> staleness_bound_ms) {
  // The layout encode() gives a ScoreReply or TallyReply: op, req, ok, then the fields in
  // their visit() order (the value, then the bound when present).
  StringSink sink{frame};
  Packer pk(sink);
  pk.pack_map(staleness_bound_ms ? 5 : 4);
  pk.pack("op");
  pk.pack(kv.score ? ScoreReply::kOp : TallyReply::kOp);
  pk.pack("req");
  pk.pack(req);
  pk.pack("ok");
  pk.pack(true);
  frame.append(value);
  if (staleness_bound_ms) {
    pk.pack("staleness_bound_ms");
    pk.pack(*staleness_bound_ms);
  }
}

Decoded decode(std::string_view frame) {
  // A tablet's read and its answer, the commonest messages, straight from their bytes
  // (codec_reads.h).
  if (frame.size() <= kMaxFrameBytes) {
    Decoded d;
    if (decode_simple_read(frame, d.message)) {
      d.ok = true;
      return d;
    }
    if (auto reply = decode_simple_reply(frame)) {
      d.ok = true;
      d.message = std::move(*reply);
      return d;
    }
  }
  return decode_general(frame);
}

Decoded decode_general(std::string_view frame) {
  Decoded d;
  if (frame.size() > kMaxFrameBytes) {
    d.error = {ErrorCode::kTooLarge,
               "frame of " + std::to_string(frame.size()) + " bytes is over the limit of " +
                   std::to_string(kMaxFrameBytes),
               0};
    return d;
  }
  // One zone per thread, emptied at every decode (it keeps its first chunk): a small frame
  // allocates nothing here. Nothing decoded refers to it once decode() returns.
  thread_local msgpack::zone zone;
  zone.clear();
  msgpack::object o;
  try {
    // Limits bound what a hostile frame can make us allocate (elements and nesting depth).
    std::size_t off = 0;
    bool referenced = false;
    o = msgpack::unpack(zone, frame.data(), frame.size(), off, referenced, nullptr, nullptr,
                        msgpack::unpack_limit(65536, 65536, kMaxFrameBytes, kMaxFrameBytes, 1024, 16));
    if (off != frame.size()) {
      d.error = {ErrorCode::kMalformed, "trailing bytes after the message", 0};
      return d;
    }
  } catch (const std::exception& e) {
    d.error = {ErrorCode::kMalformed, std::string("not a MessagePack value: ") + e.what(), 0};
    return d;
  }
  if (o.type != msgpack::type::MAP) {
    d.error = {ErrorCode::kMalformed, std::string("expected a map, got ") + type_name(o), 0};
    return d;
  }
  uint64_t req = 0;
  if (const auto* r = find(o, "req")) {
    if (r->type != msgpack::type::POSITIVE_INTEGER) {
      d.error = {ErrorCode::kMalformed, std::string("field 'req': expected non-negative integer, got ") +
                                       type_name(*r), 0};
      return d;
    }
    req = r->via.u64;
  }
  d.error.req = req;
  const auto* op = find(o, "op");
  if (op == nullptr) {
    d.error = {ErrorCode::kMalformed, "missing field 'op'", req};
    return d;
  }
  if (op->type != msgpack::type::STR) {
    d.error = {ErrorCode::kMalformed, std::string("field 'op': expected string, got ") + type_name(*op), req};
    return d;
  }
  std::string_view op_str(op->via.str.ptr, op->via.str.size);
  std::string why;
  if (!decode_body(op_str, o, d.message.body, why)) {
    // Quoted only when it is printable ASCII (never raw bytes back), at most 64 characters.
    const std::string_view shown = op_str.substr(0, 64);
    const bool plain = std::all_of(shown.begin(), shown.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    d.error = {ErrorCode::kUnknownOp,
               plain ? "unknown op '" + std::string(shown) + "'"
                     : "unknown op (" + std::to_string(op_str.size()) + " bytes, not printable text)",
               req};
    return d;
  }
  if (!why.empty()) {
    d.error = {ErrorCode::kMalformed, std::move(why), req};
    return d;
  }
  d.message.req = req;
  d.ok = true;
  return d;
}

}  // namespace oly
