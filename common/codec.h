// Encoding and decoding of Message to and from one MessagePack map per frame.
//
// decode() never throws and never crashes on any input: a frame that is not a map, lacks `op`,
// names an unknown op, lacks a required field, has a field of the wrong type or an integer out of
// range, or is larger than kMaxFrameBytes gives a DecodeError whose `code` is one of
// ErrorCode::kMalformed, ErrorCode::kUnknownOp or ErrorCode::kTooLarge and whose `text` names the offending field.
// The request id is recovered when the frame got that far, so that the error reply can echo it.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/message.h"

namespace oly {

// Frames above this size are rejected before parsing (1 MiB).
inline constexpr std::size_t kMaxFrameBytes = 1 << 20;

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

// Decodes one frame. See the file comment for the validation rules.
Decoded decode(std::string_view frame);

}  // namespace oly
