#include "byzantine/om1.h"

#include <algorithm>

namespace oly::byzantine {

Value majority(const std::vector<Value>& held) {
  for (const Value& candidate : held) {
    if (!candidate) continue;
    const auto n = std::count(held.begin(), held.end(), candidate);
    if (2 * static_cast<size_t>(n) > held.size()) return candidate;
  }
  return std::nullopt;
}

Om1Lieutenant::Om1Lieutenant(std::string commander, std::vector<std::string> others)
    : commander_name_(std::move(commander)), others_(std::move(others)) {}

bool Om1Lieutenant::on_propose(const std::string& from, Value v) {
  if (from != commander_name_ || commander_) {
    ++ignored_;
    return false;
  }
  commander_ = std::move(v);
  return true;
}

bool Om1Lieutenant::commander_silent() {
  if (commander_) return false;
  commander_ = Value{};
  return true;
}

bool Om1Lieutenant::on_relay(const std::string& from, Value v) {
  if (std::find(others_.begin(), others_.end(), from) == others_.end() || relays_.count(from)) {
    ++ignored_;
    return false;
  }
  relays_.emplace(from, std::move(v));
  return true;
}

Value Om1Lieutenant::decide() const {
  std::vector<Value> held = {commander_.value_or(Value{})};
  for (const auto& other : others_) {
    const auto it = relays_.find(other);
    held.push_back(it == relays_.end() ? Value{} : it->second);
  }
  return majority(held);
}

}  // namespace oly::byzantine
