#include "common/admission.h"

#include <algorithm>
#include <array>

#include "common/codec.h"

namespace oly {

namespace {

constexpr std::array<std::string_view, 7> kPublic = {"get_score", "get_medal_tally", "get_scoreboard",
                                                     "get_master", "get_members", "kv_get", "get_feed"};
constexpr std::array<std::string_view, 2> kUpdates = {"set_score", "increment_medal_tally"};
constexpr std::array<std::string_view, 2> kOperatorFrontend = {"stats", "list_registry"};
constexpr std::array<std::string_view, 3> kOperatorDatabase = {"stats", "list_registry", "remove_replica"};
constexpr std::array<std::string_view, 5> kBetweenReplicas = {"raft", "join", "remove_replica", "gossip", "fetch_state"};

template <size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view op) {
  return std::find(set.begin(), set.end(), op) != set.end();
}

// A string at `p` (fixstr, str8, str16): its text, and p moved past it.
std::optional<std::string_view> read_str(std::string_view frame, size_t& p) {
  if (p >= frame.size()) return std::nullopt;
  const auto b = static_cast<uint8_t>(frame[p]);
  size_t len = 0;
  if ((b & 0xe0) == 0xa0) {
    len = b & 0x1f;
    p += 1;
  } else if (b == 0xd9 && p + 1 < frame.size()) {
    len = static_cast<uint8_t>(frame[p + 1]);
    p += 2;
  } else if (b == 0xda && p + 2 < frame.size()) {
    len = static_cast<size_t>(static_cast<uint8_t>(frame[p + 1])) << 8 | static_cast<uint8_t>(frame[p + 2]);
    p += 3;
  } else {
    return std::nullopt;
  }
  if (p + len > frame.size()) return std::nullopt;
  const auto s = frame.substr(p, len);
  p += len;
  return s;
}

bool plain_name(std::string_view op) {
  return !op.empty() && op.size() <= 32 &&
         std::all_of(op.begin(), op.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

}  // namespace

bool admits(ServerKind server, KeyRole role, std::string_view op) {
  const bool frontend = server == ServerKind::kFrontend;
  switch (role) {
    case KeyRole::kDatabase: return true;
    case KeyRole::kFrontend: return frontend || !in(kBetweenReplicas, op);
    case KeyRole::kPublisher: return in(kPublic, op) || (frontend && in(kUpdates, op));
    case KeyRole::kOperator: return in(kPublic, op) || (frontend ? in(kOperatorFrontend, op) : in(kOperatorDatabase, op));
  }
  return false;
}

std::optional<std::string> frame_op(std::string_view frame) {
  // What encode() writes: a map whose first key is "op". Anything else takes the decoder.
  if (!frame.empty()) {
    const auto b = static_cast<uint8_t>(frame[0]);
    size_t p = (b & 0xf0) == 0x80 ? 1 : b == 0xde ? 3 : b == 0xdf ? 5 : 0;
    if (p != 0) {
      if (const auto key = read_str(frame, p); key && *key == "op") {
        if (const auto op = read_str(frame, p)) return std::string(*op);
      }
    }
  }
  const Decoded d = decode(frame);
  if (!d.ok) return std::nullopt;
  return std::string(op_name(d.message.body));
}

std::function<std::optional<std::string>(const KeyEntry&, std::string_view)> admission(ServerKind server,
                                                                                        std::string self) {
  return [server, self = std::move(self)](const KeyEntry& sender, std::string_view frame) -> std::optional<std::string> {
    if (sender.role == KeyRole::kDatabase || (sender.role == KeyRole::kFrontend && server == ServerKind::kFrontend)) {
      return std::nullopt;  // the servers' own protocol: no need to look at the op
    }
    const auto op = frame_op(frame);
    if (!op || admits(server, sender.role, *op)) return std::nullopt;
    const Decoded d = decode(frame);
    if (d.ok && is_reply(d.message.body)) return std::string();  // a reply is never answered
    const uint64_t req = d.ok ? d.message.req : 0;
    return encode(Message{req, make_error(ErrorCode::kUnauthorised,
                                          "the " + std::string(role_name(sender.role)) + " key '" + sender.name +
                                              "' may not send " + (plain_name(*op) ? "'" + *op + "'" : "this op") +
                                              " to " + self)});
  };
}

}  // namespace oly
