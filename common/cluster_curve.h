// A node's CurveZMQ set-up from the cluster's config (issue 19): with `security: curve`, every
// process reads its own key pair and the cluster's public keys from the key directory
// (config.keys_dir, common/key_files.h) and gives them to its ZmqTransport.
//
// Who is who: each front end and database node under its id, Cacofonix (the publisher) under
// cacofonix.id, and the tools (the olympics command, the operator) under kOperatorName.
//
// Errors: node_curve throws ConfigError naming the key file that is missing or wrong and how to
// make it; ensure_cluster_keys throws std::runtime_error when a file cannot be written.
//
// Thread-safety: free functions; set_request_curve is for a process's start, before any request.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/admission.h"
#include "common/config.h"
#include "common/zmq_transport.h"

namespace oly {

inline constexpr const char* kOperatorName = kOperatorKeyName;

// The key directory of `c`, resolved against run_dir.
std::string keys_dir(const Config& c);

// The CurveZMQ options of the node `name` of role `role`; for a server (`server` given) with the
// admission rule of its kind. nullopt when c.security is plain.
std::optional<CurveOptions> node_curve(const Config& c, KeyRole role, const std::string& name,
                                       std::optional<ServerKind> server = std::nullopt);

// Makes the missing key pairs of every node `c` names (front ends, database nodes, the publisher,
// the operator). Returns "<role>/<name>" of each one made.
std::vector<std::string> ensure_cluster_keys(const Config& c);

// The CurveZMQ options request_all (common/request.h) uses from now on in this process.
void set_request_curve(std::optional<CurveOptions> curve);
const std::optional<CurveOptions>& request_curve();

}  // namespace oly
