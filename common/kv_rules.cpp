#include "common/kv_rules.h"

#include <algorithm>

#include "common/utf8.h"

namespace oly {

std::string kv_key_problem(std::string_view key) {
  if (key.empty()) return "the key is empty";
  if (key.size() > kKvMaxKeyBytes) {
    return "the key is " + std::to_string(key.size()) + " bytes long; at most " + std::to_string(kKvMaxKeyBytes) + " are allowed";
  }
  if (!valid_utf8(key)) return "the key is not valid UTF-8";
  if (key.find('=') != std::string_view::npos) return "a key may not contain '='";
  if (std::any_of(key.begin(), key.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return "a key may not contain control characters";
  }
  return {};
}

std::string kv_value_problem(std::string_view value) {
  if (value.size() > kKvMaxValueBytes) {
    return "the value is " + std::to_string(value.size()) + " bytes long; at most " + std::to_string(kKvMaxValueBytes) +
           " are allowed";
  }
  if (!valid_utf8(value)) return "the value is not valid UTF-8";
  if (value.find('\0') != std::string_view::npos) return "a value may not contain NUL";
  return {};
}

}  // namespace oly
