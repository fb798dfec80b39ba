// What each key may send to each kind of server, with `security: curve` (issue 19): the rule
// ZmqTransport applies to every frame on a server's ROUTER (CurveOptions::admit).
//
//   sender's key   | to a front end                        | to a database node
//   ---------------+---------------------------------------+---------------------------------------
//   frontend       | everything                            | everything but Raft and membership ops
//   database       | everything                            | everything
//   publisher      | updates (set_score,                   | the public ops
//                  |   increment_medal_tally) + public ops |
//   operator       | the public ops + stats, list_registry | the same + remove_replica
//                  |                                       |
//
// The public ops are reads (get_score, get_medal_tally, get_scoreboard, get_master, get_members,
// kv_get). So nothing writes to the database without a front end's key, nothing publishes
// without the publisher's, and only servers speak the protocol between servers (heartbeats,
// invalidations, fetches, leases, mastership). A key not in the ring never gets this far: the ZAP
// handler refuses its connection.
//
// A refused request is answered `unauthorised`, naming the key and the op (an op that is not
// plain lower-case text is not echoed back). A frame whose op cannot be read is let through: the
// server answers it `malformed` as it does for any client.
//
// Thread-safety: pure functions; the callback admission() returns keeps only copies.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/key_ring.h"

namespace oly {

enum class ServerKind { kFrontend, kDatabase };

// Whether a `server` takes `op` from a key of role `role`.
bool admits(ServerKind server, KeyRole role, std::string_view op);

// The op of a frame (a MessagePack map whose `op` is a string), or nullopt.
std::optional<std::string> frame_op(std::string_view frame);

// CurveOptions::admit for the server named `self`.
std::function<std::optional<std::string>(const KeyEntry& sender, std::string_view frame)> admission(
    ServerKind server, std::string self);

}  // namespace oly
