// Pieces of URLs, as both HTTP faces decode them (the key-value store's, the front ends' API).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace oly::http {

// `text` with every %XX escape decoded ('+' stays '+'), or nullopt when a '%' is not followed by
// two hex digits. The result may be any bytes: check it (UTF-8, '=') before using it.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace oly::http
