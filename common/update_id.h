// An update's identity, (publisher, seq): what exactly-once, the Byzantine mode's quorum
// (byzantine/quorum.h) and the gossip mode's log (gossip/update_log.h) count by.
//
// Thread-safety: a plain value.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace oly {

struct UpdateId {
  std::string publisher;
  uint64_t seq = 0;
  auto operator<=>(const UpdateId&) const = default;
};

}  // namespace oly
