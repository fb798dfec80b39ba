// The version of the olympics programs, as `--version`, the HTTP Server headers, /metrics
// (oly_info) and `olympics status` report it.
#pragma once

#include <string_view>

namespace oly {

inline constexpr std::string_view kVersion = "1.1.0";

}  // namespace oly
