// The key-value store's rules (docs/kvstore.md): what a key and a value may be, and how big the
// store may grow. One table for every side: the client (KvClient refuses a request breaking them
// before sending it), whoever first receives a request (the HTTP gateway, with a 400, or a
// replica's request checks, with bad_value), and the state machine for the store's size (from the
// replicated state, so every replica decides alike).
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace oly {

inline constexpr size_t kKvMaxKeyBytes = 1024;
inline constexpr size_t kKvMaxValueBytes = 65536;
inline constexpr int64_t kKvMaxStoreBytes = 10 * 1024 * 1024;  // keys and values together

// Why `key` cannot be a key ("" when it can): 1 to kKvMaxKeyBytes bytes of valid UTF-8, without
// '=' and without control characters. The text never quotes the key.
std::string kv_key_problem(std::string_view key);
// Why `value` cannot be a value ("" when it can): at most kKvMaxValueBytes bytes of valid UTF-8,
// without NUL. The text never quotes the value.
std::string kv_value_problem(std::string_view value);

}  // namespace oly
