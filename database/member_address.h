// A replica's address as the tier's membership (the Raft configuration) keeps it: its ZeroMQ
// address (tcp://host:port), then, when it serves the key-value store (docs/kvstore.md),
// ";http=" and its HTTP host:port. So every replica and every front end that learns the
// membership learns where each replica serves HTTP too, with no other replicated state.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace oly::database {

struct MemberAddress {
  std::string peer;  // tcp://host:port ("" in simulations)
  std::string http;  // host:port, "" when the replica serves no HTTP
};

inline constexpr std::string_view kHttpMark = ";http=";

inline std::string join_member_address(const std::string& peer, const std::string& http) {
  return http.empty() ? peer : peer + std::string(kHttpMark) + http;
}

inline MemberAddress split_member_address(std::string_view address) {
  const size_t mark = address.find(kHttpMark);
  if (mark == std::string_view::npos) return {std::string(address), ""};
  return {std::string(address.substr(0, mark)), std::string(address.substr(mark + kHttpMark.size()))};
}

}  // namespace oly::database
