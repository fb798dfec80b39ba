// The fast path of decode() for the message a front end gets most, a tablet's read (get_score,
// get_medal_tally): read straight from the bytes, without building a MessagePack object first.
//
// It takes only the plain shape the clients send (a map of at most 15 entries whose keys are short
// strings and whose values are strings, non-negative integers or nil, no key twice, nothing after
// the map) and, for that shape, gives exactly what the general decoder gives: the same message,
// with unknown keys ignored and nil read as absent. Anything else (another op, another shape, a
// field of the wrong type, text that is not valid UTF-8, a name over its limit) gets nullopt, and
// decode() takes the general path, which says what is wrong.
//
// Thread-safety: a pure function.
#pragma once

#include <optional>
#include <string_view>

#include "common/message.h"

namespace oly {

std::optional<Message> decode_simple_read(std::string_view frame);

}  // namespace oly
