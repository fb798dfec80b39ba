// The rule for a node's name where it becomes a file's (security: curve keeps each node's key
// pair in <keys_dir>/<role>/<name>.key): letters, digits, '-', '_' and '.', at most 64, not
// starting with '.'. Used by the config's rules (config.cpp) and `olympics keys --name`.
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>

namespace oly {

inline bool fit_node_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && name[0] != '.' &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == std::string_view::npos;
}

}  // namespace oly
