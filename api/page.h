// The live scoreboard page (api/static/index.html, built into the binary; docs/api.md, "The page").
#pragma once

#include <string_view>

namespace oly::api {

// The page's HTML, with its CSS and script inline: nothing else is fetched but the API.
std::string_view index_html();

}  // namespace oly::api
