// Encoding and decoding of Message to and from one MessagePack map per frame.
//
// decode() never throws and never crashes on any input: a frame that is not a map, lacks `op`,
// names an unknown op, lacks a required field, has a field of the wrong type or an integer out of
// range, a string (or map key) that is not valid UTF-8, a name over kMaxNameBytes, or is larger
// than kMaxFrameBytes gives a DecodeError whose `code` is one of
// ErrorCode::kMalformed, ErrorCode::kUnknownOp or ErrorCode::kTooLarge and whose `text` names the offending field.
// The request id is recovered when the frame got that far, so that the error reply can echo it.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/message.h"

namespace oly {

// Frames above this size are rejected before parsing (1 MiB).
inline constexpr std::size_t kMaxFrameBytes = 1 << 20;
// A field that holds a name (event, team, tablet, publisher, id, frontend, home, master, leader,
// node, from, to, role, medal) is at most this many bytes; every string must be valid UTF-8.
inline constexpr std::size_t kMaxNameBytes = 256;

struct DecodeError {
  ErrorCode code = ErrorCode::kMalformed;  // kMalformed, kUnknownOp or kTooLarge
  std::string text;       // e.g. "get_score: field 'event': expected string, got integer"
  uint64_t req = 0;       // the frame's req when it could be read, else 0
};

// The result of decode(): exactly one of `message` and `error` is meaningful (`ok` says which).
struct Decoded {
  bool ok = false;
  Message message;
  DecodeError error;
};

// Encodes `msg` as one MessagePack map. Never fails.
std::string encode(const Message& msg);

// A read's answer made from a value encoded once (what a cache keeps with each entry, so that a
// hit encodes only its req): encode_read_reply(req, kv, encode_read_value(kv), bound) is byte for
// byte encode(Message{req, ScoreReply{*kv.score, bound}}) (TallyReply for a tally).
// REQUIRES: kv holds a score or a tally.
std::string encode_read_value(const KeyValue& kv);
std::string encode_read_reply(uint64_t req, const KeyValue& kv, std::string_view value,
                              std::optional<int64_t> staleness_bound_ms);
// The same, appended to `frame` (a caller that reuses one buffer allocates nothing).
void append_read_reply(std::string& frame, uint64_t req, const KeyValue& kv, std::string_view value,
                       std::optional<int64_t> staleness_bound_ms);

// Decodes one frame. See the file comment for the validation rules.
Decoded decode(std::string_view frame);
// decode() without its fast paths for tablets' reads and their answers (codec_reads.h): for the
// tests that hold the fast paths to the same results.
Decoded decode_general(std::string_view frame);

}  // namespace oly
