// TextHash: the hash of an unordered map or set keyed by std::string that may be looked up by
// std::string_view without building a string (C++20 heterogeneous lookup): declare it as
// std::unordered_map<std::string, V, TextHash, std::equal_to<>>.
//
// Thread-safety: stateless.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace oly {

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

}  // namespace oly
