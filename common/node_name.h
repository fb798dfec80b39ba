// The rule for a node's name where it becomes a file's (security: curve keeps each node's key
// pair in <keys_dir>/<role>/<name>.key): letters, digits, '-', '_' and '.', at most 64, not
// starting with '.'. Used by the config's rules (config.cpp) and `olympics keys --name`.
//
// And whose routing ids a key owns (common/zmq_transport.h: with CURVE a ROUTER takes a frame only
// when its routing id is owned by its connection's key): its name, or its name, '-' and more.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace oly {

inline bool fit_node_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && name[0] != '.' &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == std::string_view::npos;
}

inline bool owns_routing_id(std::string_view key_name, std::string_view routing_id) {
  return routing_id == key_name ||
         (routing_id.size() > key_name.size() + 1 && routing_id.starts_with(key_name) && routing_id[key_name.size()] == '-');
}

}  // namespace oly
