// The publisher's signing keys in Byzantine mode (docs/byzantine.md), beside the cluster's CURVE
// keys (common/key_files.h): <keys_dir>/publisher/<name>.sign (the Ed25519 secret key, hex, one
// line, readable by its owner only) and <keys_dir>/publisher/<name>.verify (the public key, hex).
// Cacofonix signs with the first; every front end and database replica checks with the second.
// `olympics keys` and `olympics up` make them when the config says byzantine: true.
//
// Errors: throw std::runtime_error naming the file and what is wrong with it.
//
// Thread-safety: free functions over files.
#pragma once

#include <string>

#include "common/config.h"

namespace oly::byzantine {

std::string signing_key_file(const std::string& dir, const std::string& name);
std::string verify_key_file(const std::string& dir, const std::string& name);

// Makes the pair of `name` unless both files are there. true when it made one.
bool ensure_signing_keys(const std::string& dir, const std::string& name);
// The keys, as raw bytes (64 and 32).
std::string load_signing_key(const std::string& dir, const std::string& name);
std::string load_verify_key(const std::string& dir, const std::string& name);

// The config's publisher (cacofonix.id) in its key directory: its verify key for a front end or a
// replica, its signing key for Cacofonix. "" when the config is not byzantine.
std::string publisher_verify_key(const Config& c);
std::string publisher_signing_key(const Config& c);
// The same for a process's start: on an error, prints "error: <config>: byzantine: <what>" and
// exits with 2.
enum class KeyUse { kVerify, kSign };
std::string publisher_key_or_exit(const Config& c, KeyUse use);

}  // namespace oly::byzantine
