// UTF-8 validity, for every text a process accepts from outside and might store or echo.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace oly {

// Whether `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800-U+DFFF),
// nothing above U+10FFFF, no truncated sequence. The empty string is valid.
bool valid_utf8(std::string_view s);

}  // namespace oly
