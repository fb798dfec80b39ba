// The publisher's signature over an update (docs/byzantine.md, "Updates are signed"): in Byzantine
// mode Cacofonix signs each update with Ed25519 (libsodium), and every front end and the database
// check it, so that a traitorous front end can withhold an update but never invent or change one.
//
// What is signed is the update's canonical bytes: its op, publisher, seq and fields (never the
// token or the epoch, which front ends add or strip), each length-prefixed, so that no two
// different updates have the same bytes. Cacofonix signs one value per (publisher, seq).
//
// Errors: signing_keypair throws std::runtime_error when libsodium cannot start; the others
// never throw (a key of the wrong size does not verify).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <variant>

#include "common/message.h"

namespace oly::byzantine {

struct SigningKeys {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes
};

SigningKeys signing_keypair();
// The key pair of a 32-byte seed (a simulation's, so that a run replays exactly); "" when the seed
// is not 32 bytes.
SigningKeys signing_keypair(const std::string& seed);

using Update = std::variant<SetScore, IncrementMedalTally>;

// The bytes a signature covers.
std::string canonical_bytes(const Update& u);

// A detached signature (64 bytes) of `u` by `secret_key`.
std::string sign(const Update& u, const std::string& secret_key);

// Whether `signature` is `public_key`'s over `u`.
bool verify(const Update& u, const std::string& signature, const std::string& public_key);

}  // namespace oly::byzantine
