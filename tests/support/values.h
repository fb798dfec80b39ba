// Values for unit tests of the cache and pull mode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/message.h"

namespace oly::testing {

// The score of `event` at `version`, as a cache holds it (key "score/<event>").
inline KeyValue score_value(const std::string& event, uint64_t version) {
  Score s;
  s.event = event;
  s.version = version;
  return KeyValue{"score/" + event, version, s, std::nullopt};
}

}  // namespace oly::testing
