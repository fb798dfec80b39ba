// The fast paths of decode() for the message a front end gets most, a tablet's read (get_score,
// get_medal_tally), and for its answer, what a tablet gets most: read straight from the bytes,
// without building a MessagePack object first.
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

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/message.h"

namespace oly {

// true: `m` holds the message (its body replaced); false: `m` is as it was.
bool decode_simple_read(std::string_view frame, Message& m);

// The same read, seen in place: what decode_simple_read would put in a GetScore (score) or a
// GetMedalTally, its texts pointing into the frame. For a caller that answers without building
// the message (a front end's cache hit, FrontendCore::answer_cached_read). true when the frame
// has the plain shape (`r` then filled), false otherwise.
struct SimpleRead {
  bool score = true;                        // get_score, else get_medal_tally
  uint64_t req = 0;
  std::string_view name;                    // the event or the team
  std::optional<uint64_t> min_version;
  std::optional<std::string_view> tablet;
};
bool parse_simple_read(std::string_view frame, SimpleRead& r);

// The same for what a tablet gets most, a read's answer (score, medal_tally): the shape encode()
// gives (op, req, ok, the score's or tally's map of plain fields, staleness_bound_ms), with keys in
// any order, unknown keys of plain values ignored (but `partial`, and the map `clock`, of gossip
// mode take the general path). Anything else gets nullopt.
std::optional<Message> decode_simple_reply(std::string_view frame);

// The same answer, seen in place, for a client that needs no message (bench_read_load).
struct SimpleReply {
  bool score = true;                       // score, else medal_tally
  uint64_t req = 0;
  std::string_view name;                   // Score::event or Tally::team
  uint64_t version = 0;
  int64_t values[3] = {};                  // gauls, romans, updated_at; or gold, silver, bronze
  std::optional<int64_t> staleness_bound_ms;
};
bool parse_simple_reply(std::string_view frame, SimpleReply& r);

// Appends the bytes encode() gives for a GetScore (score) or GetMedalTally with these fields and
// no `committed`: a client that reuses one buffer allocates nothing per request.
void append_simple_read(std::string& out, bool score, uint64_t req, std::string_view name,
                        std::optional<uint64_t> min_version, std::optional<std::string_view> tablet);

}  // namespace oly
