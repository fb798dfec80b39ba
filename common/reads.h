// The reads of one key that front ends send, and the value in their answers: one way to ask for a
// score or a medal tally by its Key text, for the cache's fills (frontend/read_path.cpp) and the
// HTTP API (api/gateway.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/message.h"

namespace oly {

// The read of `key` (a Key's text): get_medal_tally for "tally/<team>", else get_score (a text
// that is no Key is asked as an event, and found unknown); at least `min_version` when given;
// `committed`: what the database has committed now (message.h GetScore).
Body read_of_key(const std::string& key, std::optional<uint64_t> min_version = std::nullopt, bool committed = false);
// The value a read's answer holds (a score or a medal_tally), under its key; nullopt for anything else.
std::optional<KeyValue> value_in(const Body& answer);

}  // namespace oly
