// The codec: every message survives a round trip, the wire shape is what docs/protocol.md says
// (checked with msgpack-c directly, as a third-party client would see it), and every kind of
// malformed frame is rejected with the right code and a text naming the field, never a crash.
#include "common/codec.h"

#include "common/codec_reads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace oly {
namespace {

using namespace std::string_literals;

// The kinds of field a message has, told apart by what they can do (strings are handled first).
template <class T>
concept Optional = requires(T v) {
  v.has_value();
  v.reset();
};
template <class T>
concept Mapping = requires {
  typename T::mapped_type;
};
template <class T>
concept Sequence = requires(T v) {
  v.resize(1);
  v.front();
};

// Calls f(name, field) for every field of `s` (visit() is non-const so that the codec can use one
// field list both ways; here we only read).
template <class S, class F>
void for_each_field(const S& s, F&& f) {
  const_cast<S&>(s).visit(f);
}

// ------------------------------------------------------------------------------------------------
// Rendering any message as text, field by field: two values are equal when their texts are, and a
// difference is printed readably, without every struct defining operator==.

template <class T>
std::string show(const T& v);

template <class T>
std::string show_each(const T& range) {
  std::string out = "[";
  for (const auto& e : range) out += show(e) + ",";
  return out + "]";
}

template <class T>
std::string show(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return "'" + v + "'";
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_same_v<T, ErrorCode>) {
    return std::string(error_code_name(v));
  } else if constexpr (std::is_same_v<T, Bytes>) {
    std::string hex = "bin:";
    for (unsigned char c : v.data) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    return hex;
  } else if constexpr (Optional<T>) {
    return v ? show(*v) : "absent";
  } else if constexpr (Sequence<T>) {
    return show_each(v);
  } else if constexpr (Mapping<T>) {
    std::string out = "{";
    for (const auto& [k, e] : v) out += show(k) + ":" + show(e) + ",";
    return out + "}";
  } else {
    std::string out = "{";
    for_each_field(v, [&](const char* name, const auto& f) {
      out += std::string(name) + "=" + show(f) + " ";
    });
    return out + "}";
  }
}

std::string show_message(const Message& m) {
  return std::string(op_name(m.body)) + " req=" + std::to_string(m.req) + " " +
         std::visit([](const auto& b) { return show(b); }, m.body);
}

// ------------------------------------------------------------------------------------------------
// Samples: every field set to a distinct value, generated from the field lists so that a message
// added to Body is covered without touching this file.

class Filler {
 public:
  explicit Filler(bool with_optionals) : with_optionals_(with_optionals) {}

  template <class T>
  void fill(T& v) {
    ++n_;
    if constexpr (std::is_same_v<T, std::string>) {
      v = "s" + std::to_string(n_) + " \"é\\";
    } else if constexpr (std::is_same_v<T, bool>) {
      v = true;
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      v = (n_ % 2 ? -1 : 1) * static_cast<T>(n_ * 1'000'000'007LL);
    } else if constexpr (std::is_integral_v<T>) {
      v = static_cast<T>(n_) * 0x9E3779B97F4A7C15ULL;  // large: exercises 64-bit encodings
    } else if constexpr (std::is_same_v<T, ErrorCode>) {
      v = kErrorCodes[static_cast<std::size_t>(n_) % kErrorCodes.size()].code;
    } else if constexpr (std::is_same_v<T, Bytes>) {
      v.data = std::string("\0\xff\xc1 not text ", 13) + std::to_string(n_);  // any bytes, not UTF-8
    } else if constexpr (Optional<T>) {
      if (with_optionals_)
        fill(v.emplace());
      else
        v.reset();
    } else if constexpr (Sequence<T>) {
      v.resize(2);
      for (auto& e : v) fill(e);
    } else if constexpr (Mapping<T>) {
      for (int i = 0; i < 2; ++i) fill(v["k" + std::to_string(n_) + "." + std::to_string(i)]);
    } else {
      for_each_field(v, [&](const char*, auto& f) { fill(f); });
    }
  }

 private:
  bool with_optionals_;
  int64_t n_ = 0;
};

template <std::size_t... I>
std::vector<Message> samples(bool with_optionals, std::index_sequence<I...>) {
  std::vector<Message> out;
  (
      [&] {
        std::variant_alternative_t<I, Body> body;
        Filler(with_optionals).fill(body);
        out.push_back(Message{std::numeric_limits<uint64_t>::max() - I, std::move(body)});
      }(),
      ...);
  return out;
}

// One message per alternative of Body, with optional fields all set or all absent.
std::vector<Message> all_samples(bool with_optionals) {
  return samples(with_optionals, std::make_index_sequence<std::variant_size_v<Body>>());
}

// ------------------------------------------------------------------------------------------------
// Hand-made frames, for what the encoder would never produce.

using Packer = msgpack::packer<msgpack::sbuffer>;

std::string packed(const std::function<void(Packer&)>& pack) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pack(pk);
  return std::string(buf.data(), buf.size());
}

// A MessagePack map built key by key, in order; setting a key again replaces its value.
class RawMap {
 public:
  template <class V>
  RawMap& with(std::string key, V value) {
    return with_raw(std::move(key), [value](Packer& pk) { pk.pack(value); });
  }
  RawMap& with_raw(std::string key, std::function<void(Packer&)> pack) {
    for (auto& [k, f] : fields_) {
      if (k == key) {
        f = std::move(pack);
        return *this;
      }
    }
    fields_.emplace_back(std::move(key), std::move(pack));
    return *this;
  }
  std::string bytes() const {
    return packed([&](Packer& pk) {
      pk.pack_map(static_cast<uint32_t>(fields_.size()));
      for (const auto& [k, f] : fields_) {
        pk.pack(k);
        f(pk);
      }
    });
  }

 private:
  std::vector<std::pair<std::string, std::function<void(Packer&)>>> fields_;
};

RawMap request(const char* op, uint64_t req = 7) {
  return RawMap().with("op", op).with("req", req);
}
// A valid set_score request, for tests that spoil one field.
RawMap set_score(uint64_t req) {
  return request("set_score", req)
      .with("event", "Curling")
      .with("gauls", 1)
      .with("romans", 2)
      .with("publisher", "cacofonix-1")
      .with("seq", 1);
}

// `frame` is rejected with `code`, a text containing `text`, and `req` recovered.
::testing::AssertionResult rejected(const std::string& frame, ErrorCode code,
                                    const std::string& text, uint64_t req = 0) {
  Decoded d;
  try {
    d = decode(frame);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "decode threw: " << e.what();
  }
  if (d.ok) return ::testing::AssertionFailure() << "decoded as " << show_message(d.message);
  if (d.error.code != code || d.error.text.find(text) == std::string::npos || d.error.req != req) {
    return ::testing::AssertionFailure()
           << "got code '" << d.error.code << "', text '" << d.error.text << "', req "
           << d.error.req << "; wanted '" << code << "', a text with '" << text << "', req " << req;
  }
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------------------------------------
// round trips

void expect_round_trip(const Message& m) {
  SCOPED_TRACE(show_message(m));
  const Decoded d = decode(encode(m));
  ASSERT_TRUE(d.ok) << d.error.text;
  EXPECT_EQ(d.message.body.index(), m.body.index());
  EXPECT_EQ(d.message.req, m.req);
  EXPECT_EQ(show_message(d.message), show_message(m));
}

TEST(Codec, EveryMessageWithEveryFieldSetSurvivesARoundTrip) {
  const auto all = all_samples(true);
  ASSERT_EQ(all.size(), std::variant_size_v<Body>);
  for (const auto& m : all) expect_round_trip(m);
}

TEST(Codec, EveryMessageWithOptionalFieldsAbsentSurvivesARoundTrip) {
  for (const auto& m : all_samples(false)) expect_round_trip(m);
}

TEST(Codec, DefaultValuedMessagesSurviveARoundTrip) {
  for (const auto& m : all_samples(false)) {
    Message empty{0, m.body};
    std::visit([](auto& b) { b = std::decay_t<decltype(b)>{}; }, empty.body);
    expect_round_trip(empty);
  }
}

TEST(Codec, ExtremeIntegersSurviveARoundTrip) {
  ScoreReply r;
  r.score = {"", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
             std::numeric_limits<uint64_t>::max(), -1};
  r.staleness_bound_ms = 0;
  expect_round_trip({std::numeric_limits<uint64_t>::max(), r});
  const Decoded d = decode(encode({1, r}));
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.message.as<ScoreReply>().score, r.score);
}

// A cache hit's answer is built from the value encoded once (encode_read_reply): it must be byte
// for byte what encode() gives the same reply, for scores and tallies, with and without a
// staleness bound, over random values and reqs (including the edges of every integer width).
TEST(Codec, RepliesBuiltFromAPreEncodedValueAreWhatEncodeGives) {
  std::mt19937_64 rng(16);
  const std::vector<uint64_t> reqs = {0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295u, 4294967296u,
                                      std::numeric_limits<uint64_t>::max()};
  auto any_int = [&] {
    const int64_t edges[] = {0, -1, -32, -33, 127, -128, 32767, -32768, std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::max()};
    return rng() % 2 ? edges[rng() % 10] : static_cast<int64_t>(rng());
  };
  for (int i = 0; i < 2000; ++i) {
    const uint64_t req = i < static_cast<int>(reqs.size()) ? reqs[static_cast<size_t>(i)] : rng();
    const std::optional<int64_t> bound = rng() % 2 ? std::optional<int64_t>(any_int()) : std::nullopt;
    KeyValue kv;
    kv.version = rng();
    Body expected;
    if (i % 2 == 0) {
      kv.key = "score/Curling";
      kv.score = Score{std::string(rng() % 40, 'e') + "é", any_int(), any_int(), rng(), any_int()};
      expected = ScoreReply{*kv.score, bound};
    } else {
      kv.key = "tally/Gaul";
      kv.tally = Tally{std::string(rng() % 250, 't'), any_int(), any_int(), any_int(), rng()};
      expected = TallyReply{*kv.tally, bound};
    }
    const std::string built = encode_read_reply(req, kv, encode_read_value(kv), bound);
    ASSERT_EQ(built, encode(Message{req, expected})) << "case " << i;
    const Decoded d = decode(built);
    ASSERT_TRUE(d.ok) << d.error.text;
    EXPECT_EQ(d.message.req, req);
  }
}

TEST(Codec, EveryOpNameIsDistinct) {
  std::set<std::string_view> ops;
  for (const auto& m : all_samples(true))
    EXPECT_TRUE(ops.insert(op_name(m.body)).second) << op_name(m.body);
}

// ------------------------------------------------------------------------------------------------
// wire shape

TEST(CodecWire, EveryMessageIsOneMapWithOpReqOkAndItsFieldsByName) {
  for (bool with_optionals : {true, false}) {
    for (const auto& m : all_samples(with_optionals)) {
      SCOPED_TRACE(show_message(m));
      const std::string bytes = encode(m);
      msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
      const msgpack::object& o = oh.get();
      ASSERT_EQ(o.type, msgpack::type::MAP);
      std::map<std::string, msgpack::object> keys;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        ASSERT_EQ(o.via.map.ptr[i].key.type, msgpack::type::STR);
        keys[o.via.map.ptr[i].key.as<std::string>()] = o.via.map.ptr[i].val;
      }
      ASSERT_EQ(keys.count("op"), 1u);
      EXPECT_EQ(keys["op"].as<std::string>(), op_name(m.body));
      ASSERT_EQ(keys["req"].type, msgpack::type::POSITIVE_INTEGER);
      EXPECT_EQ(keys["req"].as<uint64_t>(), m.req);
      if (is_reply(m.body)) {
        ASSERT_EQ(keys["ok"].type, msgpack::type::BOOLEAN);
        EXPECT_EQ(keys["ok"].as<bool>(), !m.is<Error>());
      } else {
        EXPECT_EQ(keys.count("ok"), 0u);
      }
      // Exactly the fields that are set, under their own names: no more, no fewer.
      std::set<std::string> want = {"op", "req"};
      if (is_reply(m.body)) want.insert("ok");
      std::visit(
          [&](const auto& b) {
            for_each_field(b, [&](const char* name, const auto& f) {
              if constexpr (Optional<std::decay_t<decltype(f)>>) {
                if (!f) return;
              }
              want.insert(name);
            });
          },
          m.body);
      std::set<std::string> got;
      for (const auto& [k, v] : keys) got.insert(k);
      EXPECT_EQ(got, want);
    }
  }
}

TEST(CodecWire, AnErrorIsOkFalseWithCodeAndText) {
  const std::string bytes = encode({9, make_error(ErrorCode::kFenced, "epoch 3 is stale")});
  msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
  const auto m = oh.get().as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(m.at("op").as<std::string>(), "error");
  EXPECT_EQ(m.at("req").as<uint64_t>(), 9u);
  EXPECT_FALSE(m.at("ok").as<bool>());
  EXPECT_EQ(m.at("code").as<std::string>(), "fenced");
  EXPECT_EQ(m.at("error").as<std::string>(), "epoch 3 is stale");
  EXPECT_EQ(m.count("master"), 0u);
}

TEST(CodecWire, NestedValuesAreMapsAndArrays) {
  Scoreboard sb;
  sb.scores = {{"Curling", 1, 2, 3, 4}};
  const std::string bytes = encode({1, sb});
  msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
  const auto m = oh.get().as<std::map<std::string, msgpack::object>>();
  ASSERT_EQ(m.at("scores").type, msgpack::type::ARRAY);
  ASSERT_EQ(m.at("tallies").type, msgpack::type::ARRAY);
  const auto score = m.at("scores").via.array.ptr[0].as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(score.at("event").as<std::string>(), "Curling");
  EXPECT_EQ(score.at("romans").as<int64_t>(), 2);
}

TEST(CodecWire, AThirdPartyFrameDecodesWithUnknownKeysIgnoredAndNilOptionalsAbsent) {
  const std::string frame = RawMap()
                                .with("min_version", msgpack::type::nil_t())
                                .with("event", "Skiing")
                                .with("client_library", "python 3.12")
                                .with("req", 41)
                                .with("op", "get_score")
                                .bytes();
  const Decoded d = decode(frame);
  ASSERT_TRUE(d.ok) << d.error.text;
  EXPECT_EQ(d.message.req, 41u);
  EXPECT_EQ(d.message.as<GetScore>().event, "Skiing");
  EXPECT_FALSE(d.message.as<GetScore>().min_version.has_value());
}

TEST(CodecWire, AMissingReqDecodesAsZero) {
  const Decoded d = decode(RawMap().with("op", "get_scoreboard").bytes());
  ASSERT_TRUE(d.ok) << d.error.text;
  EXPECT_EQ(d.message.req, 0u);
}

// ------------------------------------------------------------------------------------------------
// rejection

TEST(CodecRejects, ATruncatedFrame) {
  const std::string full = encode({5, SetScore{"Curling", 1, 2, "p", 3, "tok", 4, {}}});
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_TRUE(rejected(full.substr(0, n), ErrorCode::kMalformed, "")) << "first " << n << " bytes";
  }
  EXPECT_TRUE(rejected("", ErrorCode::kMalformed, "not a MessagePack value"));
}

TEST(CodecRejects, AFrameThatIsNotAMap) {
  EXPECT_TRUE(rejected(packed([](Packer& pk) {
                         pk.pack(std::vector<int>{1, 2});
                       }),
                       ErrorCode::kMalformed, "expected a map, got array"));
  EXPECT_TRUE(rejected(packed([](Packer& pk) { pk.pack("get_score"); }), ErrorCode::kMalformed,
                       "expected a map, got string"));
  EXPECT_TRUE(rejected(packed([](Packer& pk) { pk.pack(3); }), ErrorCode::kMalformed,
                       "expected a map, got integer"));
}

TEST(CodecRejects, AMissingOpAndRecoversTheReq) {
  EXPECT_TRUE(rejected(RawMap().with("req", 5).with("event", "Curling").bytes(), ErrorCode::kMalformed,
                       "missing field 'op'", 5));
}

TEST(CodecRejects, AnOpThatIsNotAString) {
  EXPECT_TRUE(rejected(RawMap().with("op", 3).with("req", 6).bytes(), ErrorCode::kMalformed,
                       "field 'op': expected string, got integer", 6));
}

TEST(CodecRejects, AnUnknownOpNamingIt) {
  EXPECT_TRUE(rejected(request("fly_to_the_moon", 8).bytes(), ErrorCode::kUnknownOp,
                       "unknown op 'fly_to_the_moon'", 8));
}

TEST(CodecRejects, AnUnknownOpWithoutEchoingAHugeName) {
  const Decoded d = decode(request(std::string(100000, 'x').c_str(), 8).bytes());
  ASSERT_FALSE(d.ok);
  EXPECT_EQ(d.error.code, ErrorCode::kUnknownOp);
  EXPECT_LT(d.error.text.size(), 200u);
}

TEST(CodecRejects, AReqThatIsNotANonNegativeInteger) {
  EXPECT_TRUE(rejected(RawMap().with("op", "get_scoreboard").with("req", -1).bytes(),
                       ErrorCode::kMalformed, "field 'req'"));
  EXPECT_TRUE(rejected(RawMap().with("op", "get_scoreboard").with("req", "7").bytes(),
                       ErrorCode::kMalformed, "field 'req': expected non-negative integer, got string"));
}

TEST(CodecRejects, AMissingRequiredField) {
  EXPECT_TRUE(rejected(request("get_score", 9).bytes(), ErrorCode::kMalformed,
                       "get_score: missing field 'event'", 9));
  EXPECT_TRUE(rejected(request("set_score", 9).with("event", "Curling").with("gauls", 1).bytes(),
                       ErrorCode::kMalformed, "set_score: missing field 'romans'", 9));
  EXPECT_TRUE(decode(set_score(9).bytes()).ok);  // the same with every field is fine
}

TEST(CodecRejects, AMissingFieldInsideANestedValue) {
  const auto frame = request("score", 10).with_raw("score", [](Packer& pk) {
    pk.pack_map(1);
    pk.pack("event");
    pk.pack("Curling");
  });
  EXPECT_TRUE(rejected(frame.bytes(), ErrorCode::kMalformed, "missing field 'score.gauls'", 10));
}

TEST(CodecRejects, AStringForAnInteger) {
  EXPECT_TRUE(rejected(set_score(11).with("gauls", "three").bytes(), ErrorCode::kMalformed,
                       "set_score: field 'gauls': expected integer, got string", 11));
}

TEST(CodecRejects, AnIntegerForAString) {
  EXPECT_TRUE(rejected(request("get_score", 12).with("event", 3).bytes(), ErrorCode::kMalformed,
                       "get_score: field 'event': expected string, got integer", 12));
}

TEST(CodecRejects, AMapForAnArray) {
  EXPECT_TRUE(rejected(
      request("scoreboard", 13).with("scores", std::map<std::string, int>{{"a", 1}}).bytes(),
      ErrorCode::kMalformed, "scoreboard: field 'scores': expected array, got map", 13));
}

TEST(CodecRejects, AWrongTypeDeepInsideNamingThePath) {
  const auto frame = request("scoreboard", 14)
                         .with("tallies", std::vector<int>{})
                         .with_raw("scores", [](Packer& pk) {
                           pk.pack_array(2);
                           pk.pack(Score{}.event);  // not a map
                           pk.pack(1);
                         });
  EXPECT_TRUE(
      rejected(frame.bytes(), ErrorCode::kMalformed, "field 'scores[0]': expected map, got string", 14));
  const auto stats = request("stats_reply", 15)
                         .with("node", "db")
                         .with("role", "database")
                         .with("counters", std::map<std::string, std::string>{{"reads", "many"}});
  EXPECT_TRUE(rejected(stats.bytes(), ErrorCode::kMalformed,
                       "field 'counters.reads': expected integer, got string", 15));
}

TEST(CodecRejects, ABooleanThatIsNot) {
  const auto frame = request("ack", 16)
                         .with("publisher", "p")
                         .with("seq", 1)
                         .with("key", "score/Curling")
                         .with("version", 1)
                         .with("duplicate", 1);
  EXPECT_TRUE(rejected(frame.bytes(), ErrorCode::kMalformed,
                       "field 'duplicate': expected boolean, got integer", 16));
}

TEST(CodecRejects, ANilForARequiredField) {
  EXPECT_TRUE(rejected(request("get_score", 17).with("event", msgpack::type::nil_t()).bytes(),
                       ErrorCode::kMalformed, "field 'event': expected string, got nil", 17));
}

TEST(CodecRejects, ANegativeValueForAnUnsignedField) {
  EXPECT_TRUE(rejected(set_score(18).with("seq", -1).bytes(), ErrorCode::kMalformed,
                       "set_score: field 'seq': integer out of range", 18));
  EXPECT_TRUE(
      rejected(request("get_score", 18).with("event", "Curling").with("min_version", -5).bytes(),
               ErrorCode::kMalformed, "field 'min_version': integer out of range", 18));
}

TEST(CodecRejects, AnIntegerOutOfRange) {
  const uint64_t too_big = uint64_t{std::numeric_limits<int64_t>::max()} + 1;
  EXPECT_TRUE(rejected(set_score(19).with("gauls", too_big).bytes(), ErrorCode::kMalformed,
                       "set_score: field 'gauls': integer out of range", 19));
}

TEST(CodecRejects, AFloatForAnInteger) {
  EXPECT_TRUE(rejected(
      request("get_score", 20).with("event", "Curling").with("min_version", 1.5).bytes(),
      ErrorCode::kMalformed, "field 'min_version': expected non-negative integer, got float", 20));
}

TEST(CodecRejects, AFrameOverTheSizeLimitBeforeParsingIt) {
  EXPECT_TRUE(rejected(std::string(kMaxFrameBytes + 1, '\x80'), ErrorCode::kTooLarge, "over the limit"));
  GetScore big;
  big.event = std::string(2 * kMaxFrameBytes, 'x');
  EXPECT_TRUE(rejected(encode({21, big}), ErrorCode::kTooLarge, std::to_string(kMaxFrameBytes)));
}

TEST(CodecRejects, NothingAtExactlyTheSizeLimit) {
  Error g = make_error(ErrorCode::kStorage, std::string(100000, 'x'));  // a text, not a name
  const std::size_t overhead = encode({22, g}).size() - g.error.size();
  g.error.assign(kMaxFrameBytes - overhead, 'x');
  const std::string frame = encode({22, g});
  ASSERT_EQ(frame.size(), kMaxFrameBytes);
  EXPECT_TRUE(decode(frame).ok) << decode(frame).error.text;
}

// Every string must be valid UTF-8 (a name, a text, a map's key, at any depth); the error names
// the field and never carries the bytes.
TEST(CodecRejects, TextThatIsNotUtf8AndNeverEchoesIt) {
  const std::vector<std::string> bad = {"\xff", "Curl\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\x80"};
  for (const auto& b : bad) {
    const std::string frame = request("get_score", 30).with("event", b).with("tablet", "t1").bytes();
    EXPECT_TRUE(rejected(frame, ErrorCode::kMalformed, "get_score: field 'event': not valid UTF-8", 30));
    EXPECT_EQ(decode(frame).error.text.find(b), std::string::npos);
    EXPECT_TRUE(rejected(set_score(31).with("publisher", b).bytes(), ErrorCode::kMalformed,
                         "field 'publisher': not valid UTF-8", 31));
    EXPECT_TRUE(rejected(request("register", 32).with("tablet", b).bytes(), ErrorCode::kMalformed,
                         "register: field 'tablet': not valid UTF-8", 32));
  }
  // Nested: a score inside a scoreboard, and a map's key.
  Scoreboard board;
  board.scores.push_back(Score{"Curl\xff", 1, 2, 3, 4});
  EXPECT_TRUE(rejected(encode({33, board}), ErrorCode::kMalformed, "field 'scores[0].event': not valid UTF-8", 33));
  Stats stats;
  stats.info["ro\xff" "le"] = "x";
  EXPECT_TRUE(rejected(encode({34, stats}), ErrorCode::kMalformed, "field 'info key': not valid UTF-8", 34));
  // Valid UTF-8 of every length passes.
  EXPECT_TRUE(decode(request("get_score", 35).with("event", "Eisschnelllauf ⛸ 𝄞 é").bytes()).ok);
}

TEST(CodecRejects, ANameOverItsLimitButNotAnyOtherText) {
  const std::string at_limit(kMaxNameBytes, 'n'), over(kMaxNameBytes + 1, 'n');
  EXPECT_TRUE(decode(request("get_score", 36).with("event", at_limit).with("tablet", at_limit).bytes()).ok);
  EXPECT_TRUE(rejected(request("get_score", 37).with("event", "Curling").with("tablet", over).bytes(),
                       ErrorCode::kMalformed, "field 'tablet': 257 bytes, over the limit of 256 for a name", 37));
  EXPECT_TRUE(rejected(set_score(38).with("event", over).bytes(), ErrorCode::kMalformed,
                       "set_score: field 'event': 257 bytes", 38));
  Scoreboard board;
  board.tallies.push_back(Tally{over, 1, 2, 3, 4});
  EXPECT_TRUE(rejected(encode({39, board}), ErrorCode::kMalformed, "field 'tallies[0].team': 257 bytes", 39));
  // A text (an error's) may be longer.
  EXPECT_TRUE(decode(encode({40, make_error(ErrorCode::kStorage, std::string(10000, 'x'))})).ok);
}

TEST(CodecRejects, AnUnknownOpIsQuotedOnlyAsPrintableText) {
  EXPECT_TRUE(rejected(request("\xff\xfe\x01", 41).bytes(), ErrorCode::kUnknownOp, "unknown op (3 bytes, not printable text)", 41));
  EXPECT_TRUE(rejected(request("fly", 42).bytes(), ErrorCode::kUnknownOp, "unknown op 'fly'", 42));
}

// Cuts `frame` short or adds a byte, now and then.
void spoil_sometimes(std::string& frame, std::mt19937_64& rng) {
  if (rng() % 20 == 0 && !frame.empty()) frame.resize(rng() % frame.size());
  if (rng() % 20 == 0) frame.push_back('\x01');
}

// decode() (fast paths included) gives what decode_general() gives.
void expect_decoded_as_generally(const std::string& frame, int i) {
  const Decoded general = decode_general(frame);
  const Decoded both = decode(frame);
  ASSERT_EQ(both.ok, general.ok) << "case " << i;
  if (general.ok) {
    ASSERT_EQ(encode(both.message), encode(general.message)) << "case " << i << ": " << show_message(general.message);
  } else {
    ASSERT_EQ(both.error.text, general.error.text) << "case " << i;
  }
}

// The fast path for tablets' reads (codec_reads.h) decides exactly as the general decoder: over
// random maps of the keys a read has (and others), with values of every kind (texts short and
// long, not UTF-8, over the name limit; integers of every width and sign; nil, booleans, floats,
// nested maps), keys repeated, ops of both reads and others, and bytes cut off or added.
TEST(CodecReads, TheFastPathDecidesAsTheGeneralDecoder) {
  std::mt19937_64 rng(1606);
  const std::vector<std::string> keys = {"op", "req", "event", "team", "min_version", "tablet", "junk", "ok", "committed"};
  const std::vector<std::string> ops = {"get_score", "get_medal_tally", "get_scoreboard", "set_score", "get_scor"};
  auto value = [&](Packer& pk) {
    switch (rng() % 14) {
      case 0: pk.pack(std::string("Curling")); break;
      case 1: pk.pack(std::string(rng() % 300, 'x')); break;
      case 2: pk.pack(std::string("Cur\xffling")); break;
      case 3: pk.pack(uint64_t{rng() % 128}); break;
      case 4: pk.pack(uint64_t{rng()}); break;
      case 5: pk.pack(static_cast<uint32_t>(rng())); break;
      case 6: pk.pack(-static_cast<int64_t>(rng() % 1000) - 1); break;
      case 7: pk.pack_nil(); break;
      case 8: pk.pack(true); break;
      case 9: pk.pack(1.5); break;
      case 10: pk.pack_map(1); pk.pack(std::string("a")); pk.pack(1); break;
      case 11: pk.pack(ops[rng() % ops.size()]); break;
      case 12: pk.pack(std::string(rng() % 70000, 'y')); break;
      default: pk.pack(std::string("Gauls")); break;
    }
  };
  int fast = 0;
  for (int i = 0; i < 20000; ++i) {
    // Half the cases start from a read's own keys, shuffled, some left out, some spoilt below.
    std::vector<std::string> chosen;
    if (rng() % 2 == 0) {
      chosen = {"op", "req", rng() % 2 ? "event" : "team"};
      if (rng() % 2) chosen.push_back("min_version");
      if (rng() % 2) chosen.push_back("tablet");
      if (rng() % 4 == 0) chosen.push_back(keys[rng() % keys.size()]);
      if (rng() % 8 == 0) chosen.erase(chosen.begin() + static_cast<long>(rng() % chosen.size()));
      std::shuffle(chosen.begin(), chosen.end(), rng);
    } else {
      for (uint64_t k = rng() % 9; k > 0; --k) chosen.push_back(keys[rng() % keys.size()]);
    }
    const bool spoil = rng() % 3 == 0;
    std::string frame = packed([&](Packer& pk) {
      pk.pack_map(static_cast<uint32_t>(chosen.size()));
      for (const std::string& key : chosen) {
        pk.pack(key);
        const bool plain = !spoil || rng() % 3 != 0;
        if (key == "op" && plain) {
          pk.pack(ops[rng() % 2]);
        } else if ((key == "event" || key == "team" || key == "tablet") && plain) {
          pk.pack(rng() % 2 ? std::string("Curling") : std::string(rng() % 300, 'n'));
        } else if ((key == "req" || key == "min_version") && plain) {
          pk.pack(rng() % 2 ? uint64_t{rng() % 200} : rng());
        } else {
          value(pk);
        }
      }
    });
    spoil_sometimes(frame, rng);
    ASSERT_NO_FATAL_FAILURE(expect_decoded_as_generally(frame, i));
    Message m;
    fast += decode_simple_read(frame, m);
  }
  EXPECT_GT(fast, 1000) << "the fast path was hardly taken: the test does not test it";
}

// The fast path for reads' answers (score, medal_tally) decides exactly as the general decoder,
// over answers encode() gives, then shuffled, with fields left out, repeated or spoilt (values of
// every kind, integers of every width and sign, texts not UTF-8 or over the name limit), unknown
// keys, and bytes cut off or added.
TEST(CodecReads, TheRepliesFastPathDecidesAsTheGeneralDecoder) {
  std::mt19937_64 rng(1607);
  auto integer = [&](Packer& pk) {
    switch (rng() % 8) {
      case 0: pk.pack(uint64_t{rng() % 128}); break;
      case 1: pk.pack(rng()); break;
      case 2: pk.pack(static_cast<int64_t>(rng())); break;
      case 3: pk.pack(-static_cast<int64_t>(rng() % 32) - 1); break;
      case 4: pk.pack(static_cast<int8_t>(rng())); break;
      case 5: pk.pack(static_cast<int16_t>(rng())); break;
      case 6: pk.pack(static_cast<int32_t>(rng())); break;
      default: pk.pack_int64(static_cast<int64_t>(rng() % 1000)); break;  // a signed encoding of >= 0
    }
  };
  auto value = [&](Packer& pk) {
    switch (rng() % 10) {
      case 0: pk.pack(std::string("Curling")); break;
      case 1: pk.pack(std::string(rng() % 300, 'x')); break;
      case 2: pk.pack(std::string("Cur\xffling")); break;
      case 3: pk.pack_nil(); break;
      case 4: pk.pack(rng() % 2 == 0); break;
      case 5: pk.pack(1.5); break;
      case 6: pk.pack_map(1); pk.pack(std::string("a")); pk.pack(1); break;
      case 7: pk.pack_array(0); break;
      default: integer(pk); break;
    }
  };
  // A map of `fields` (name -> its plain packer), some shuffled, left out, repeated, spoilt.
  using Fields = std::vector<std::pair<std::string, std::function<void(Packer&)>>>;
  auto pack_map = [&](Packer& pk, Fields fields) {
    if (rng() % 3 == 0) std::shuffle(fields.begin(), fields.end(), rng);
    if (rng() % 10 == 0) fields.erase(fields.begin() + static_cast<long>(rng() % fields.size()));
    if (rng() % 10 == 0) fields.push_back(fields[rng() % fields.size()]);
    if (rng() % 10 == 0) fields.push_back({"junk", value});
    pk.pack_map(static_cast<uint32_t>(fields.size()));
    for (const auto& [name, pack] : fields) {
      pk.pack(name);
      if (rng() % 25 == 0) value(pk); else pack(pk);
    }
  };
  auto name = [&](Packer& pk) { pk.pack(rng() % 8 ? std::string("Curling") : std::string(rng() % 300, 'n')); };
  int fast = 0;
  for (int i = 0; i < 20000; ++i) {
    const bool tally = rng() % 2 == 0;
    Fields inner = tally ? Fields{{"team", name}, {"gold", integer}, {"silver", integer}, {"bronze", integer},
                                  {"version", [&](Packer& pk) { pk.pack(rng() % 1000); }}}
                         : Fields{{"event", name}, {"gauls", integer}, {"romans", integer},
                                  {"version", [&](Packer& pk) { pk.pack(rng() % 1000); }}, {"updated_at", integer}};
    Fields outer = {
        {"op", [&](Packer& pk) { pk.pack(std::string(rng() % 10 == 0 ? (tally ? "score" : "medal_tally")
                                                                    : (tally ? "medal_tally" : "score"))); }},
        {"req", [&](Packer& pk) { pk.pack(rng() % 2 ? uint64_t{rng() % 200} : rng()); }},
        {"ok", [&](Packer& pk) { pk.pack(true); }},
        {tally ? "tally" : "score", [&](Packer& pk) { pack_map(pk, inner); }},
    };
    if (rng() % 2) outer.push_back({"staleness_bound_ms", rng() % 4 ? std::function<void(Packer&)>(integer)
                                                                  : [](Packer& pk) { pk.pack_nil(); }});
    std::string frame = packed([&](Packer& pk) { pack_map(pk, outer); });
    spoil_sometimes(frame, rng);
    ASSERT_NO_FATAL_FAILURE(expect_decoded_as_generally(frame, i));
    fast += decode_simple_reply(frame).has_value();
  }
  EXPECT_GT(fast, 3000) << "the fast path was hardly taken: the test does not test it";
  // What a front end answers, straight from its cache's encoding, takes the fast path.
  KeyValue kv;
  kv.score = Score{"Curling", -3, 2, 7, 1700000000000};
  EXPECT_TRUE(decode_simple_reply(encode_read_reply(9, kv, encode_read_value(kv), 250)).has_value());
  kv = {};
  kv.tally = Tally{"Gaul", 1, 0, 4, 2};
  EXPECT_TRUE(decode_simple_reply(encode_read_reply(9, kv, encode_read_value(kv), std::nullopt)).has_value());
}

// A client's reads encoded in place are byte for byte what encode() gives the same message, for
// names and tablets short and long and every width of req and min_version.
TEST(CodecReads, AReadEncodedInPlaceIsWhatEncodeGives) {
  std::mt19937_64 rng(1608);
  std::string out = "kept";
  for (int i = 0; i < 5000; ++i) {
    const bool score = rng() % 2 == 0;
    const uint64_t req = rng() >> (rng() % 64);
    const std::string name(rng() % 300 + 1, 'e');
    std::optional<uint64_t> min;
    if (rng() % 2) min = rng() >> (rng() % 64);
    std::optional<std::string> tablet;
    if (rng() % 2) tablet = std::string(rng() % 40, 't');
    const std::string expected = score ? encode({req, GetScore{name, min, tablet, std::nullopt}})
                                       : encode({req, GetMedalTally{name, min, tablet, std::nullopt}});
    out.resize(4);
    append_simple_read(out, score, req, name, min, tablet ? std::optional<std::string_view>(*tablet) : std::nullopt);
    ASSERT_EQ(out.substr(4), expected) << "case " << i;
    ASSERT_EQ(out.substr(0, 4), "kept");
  }
}

TEST(CodecRejects, DeeplyNestedValues) {
  for (int depth : {20, 200000}) {
    const auto frame =
        request("get_score", 23).with("event", "Curling").with_raw("junk", [depth](Packer& pk) {
          for (int i = 0; i < depth; ++i) pk.pack_array(1);
          pk.pack_nil();
        });
    EXPECT_TRUE(rejected(frame.bytes(), ErrorCode::kMalformed, "not a MessagePack value"))
        << "depth " << depth;
  }
}

TEST(CodecRejects, HugeArraysMapsAndStrings) {
  const auto huge_array = request("registry", 24).with_raw("entries", [](Packer& pk) {
    pk.pack_array(100000);
    for (int i = 0; i < 100000; ++i) pk.pack_nil();
  });
  EXPECT_TRUE(rejected(huge_array.bytes(), ErrorCode::kMalformed, "not a MessagePack value"));
  // Headers that claim billions of elements or bytes, with nothing behind them.
  for (const std::string claim : {"\xdd\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff",
                                  "\xdb\xff\xff\xff\xff", "\xc6\xff\xff\xff\xff"}) {
    EXPECT_TRUE(rejected("\x81\xa2op" + claim, ErrorCode::kMalformed, "not a MessagePack value"));
  }
}

TEST(CodecRejects, TrailingBytes) {
  EXPECT_TRUE(rejected(encode({25, GetScoreboard{}}) + "x", ErrorCode::kMalformed, "trailing bytes"));
  EXPECT_TRUE(rejected(encode({25, GetScoreboard{}}) + encode({26, GetScoreboard{}}),
                       ErrorCode::kMalformed, "trailing bytes"));
}

// ------------------------------------------------------------------------------------------------
// fuzzing

// Decodes `frame` and checks that it neither threw nor gave a result outside the contract; a
// decoded message must encode and decode again to the same message.
::testing::AssertionResult decodes_safely(const std::string& frame) {
  Decoded d;
  try {
    d = decode(frame);
  } catch (...) {
    return ::testing::AssertionFailure() << "decode threw";
  }
  if (!d.ok) {
    if (d.error.code == ErrorCode::kMalformed || d.error.code == ErrorCode::kUnknownOp ||
        d.error.code == ErrorCode::kTooLarge) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "unexpected code " << d.error.code;
  }
  const Decoded again = decode(encode(d.message));
  if (!again.ok || show_message(again.message) != show_message(d.message)) {
    return ::testing::AssertionFailure()
           << "decoded " << show_message(d.message) << " but it does not re-encode";
  }
  return ::testing::AssertionSuccess();
}

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

class CodecFuzz : public ::testing::Test {
 protected:
  // Checks one input; reports at most a few failures with the input.
  void check(const std::string& frame) {
    const auto r = decodes_safely(frame);
    if (!r && ++failures_ <= 5) ADD_FAILURE() << r.message() << "; input " << hex(frame);
  }
  uint64_t seed_ = 20260214;
  std::mt19937_64 rng_{seed_};
  int failures_ = 0;
};

TEST_F(CodecFuzz, RandomBytesNeverCrashOrThrow) {
  SCOPED_TRACE("seed " + std::to_string(seed_));
  // Half the inputs start like a map so that the decoder gets past the first byte.
  std::uniform_int_distribution<int> len(0, 64), byte(0, 255);
  for (int i = 0; i < 20000; ++i) {
    std::string s(static_cast<std::size_t>(len(rng_)), '\0');
    for (auto& c : s) c = static_cast<char>(byte(rng_));
    if (i % 2 == 0 && !s.empty()) s[0] = static_cast<char>(0x80 | (byte(rng_) & 0x0f));
    check(s);
  }
}

TEST_F(CodecFuzz, MutatedValidMessagesNeverCrashOrThrow) {
  SCOPED_TRACE("seed " + std::to_string(seed_));
  std::vector<std::string> valid;
  for (bool opt : {true, false}) {
    for (const auto& m : all_samples(opt)) valid.push_back(encode(m));
  }
  const std::string interesting =
      "\xc0\xc1\xc2\xc3\xcc\xcf\xd3\xdc\xdd\xde\xdf\xd9\xdb\xff\x00\x7f\x80\x90\xa0"s;
  std::uniform_int_distribution<std::size_t> pick(0, valid.size() - 1);
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid[pick(rng_)];
    const int edits = 1 + static_cast<int>(rng_() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng_() % s.size();
      switch (rng_() % 5) {
        case 0:  // a bit flip
          s[at] = static_cast<char>(s[at] ^ (1 << (rng_() % 8)));
          break;
        case 1:  // a truncation
          s.resize(at);
          break;
        case 2:  // a type byte
          s[at] = interesting[rng_() % interesting.size()];
          break;
        case 3:  // an insertion
          s.insert(at, 1, static_cast<char>(rng_() % 256));
          break;
        default:  // a deletion
          s.erase(at, 1 + rng_() % 8);
          break;
      }
    }
    check(s);
  }
}

}  // namespace
}  // namespace oly
