// The key directory of a cluster with `security: curve` (issue 19): one CurveZMQ key pair per
// node, in <dir>/<role>/<name>.pub (the public key, Z85, one line) and <dir>/<role>/<name>.key
// (the secret key, readable by its owner only). `olympics keys` and `olympics up` make the missing
// ones; an operator who runs nodes on several machines copies every .pub file to each, and each
// node's own .key to its machine only.
//
// Errors: throw std::runtime_error naming the file and what is wrong with it (missing, not a Z85
// key, cannot be written).
//
// Thread-safety: free functions over files.
#pragma once

#include <string>

#include "common/curve.h"
#include "common/key_ring.h"

namespace oly {

std::string public_key_file(const std::string& dir, KeyRole role, const std::string& name);
std::string secret_key_file(const std::string& dir, KeyRole role, const std::string& name);

// Makes the key pair of `name` unless its files are there. true when it made one.
bool ensure_key_pair(const std::string& dir, KeyRole role, const std::string& name);

// The key pair of `name` (both files).
CurveKeys load_key_pair(const std::string& dir, KeyRole role, const std::string& name);

// Writes `text` and a newline to `path` through a temporary file, with `mode` (0600 for a secret),
// making its directory.
void write_key_file(const std::string& path, const std::string& text, unsigned mode);

}  // namespace oly
