// The cluster's public keys, each with the name and the role it is known by (issue 19): who may
// connect to a server's CurveZMQ sockets, what each may send there (common/admission.h), and the
// key a client needs to connect to a named server.
//
// Roles are what a key may do, not what a process is called: a front end's key (kFrontend) and a
// database replica's (kDatabase) are the cluster's servers; the publisher's key (kPublisher,
// Cacofonix) may publish updates to a front end; the operator's key (kOperator, the olympics tool
// and other tools) may read, ask for stats and manage the tier's membership.
//
// A ring is either fixed (built from entries, for tests) or read from a key directory
// (common/key_files.h: <dir>/<role>/<name>.pub). A ring read from a directory reads it again when
// asked for a name it does not have (names come from the node's own config and its tier's
// membership), and for a key it does not have at most once a second (keys come from whoever
// connects): a replica or front end that joins after the others started is known as soon as its
// key file is there.
//
// Thread-safety: every member is safe to call from any thread (the ZAP handler's thread and the
// transport's).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oly {

enum class KeyRole { kFrontend, kDatabase, kPublisher, kOperator };

// "frontend", "database", "publisher", "operator": also the key directory's subdirectories.
std::string_view role_name(KeyRole r);
std::optional<KeyRole> parse_role(std::string_view name);
inline constexpr KeyRole kRoles[] = {KeyRole::kFrontend, KeyRole::kDatabase, KeyRole::kPublisher, KeyRole::kOperator};

struct KeyEntry {
  std::string name;        // the endpoint's name (fe1, db2, cacofonix, olympics)
  KeyRole role = KeyRole::kOperator;
  std::string public_key;  // Z85, 40 characters
  bool operator==(const KeyEntry&) const = default;
};

class KeyRing {
 public:
  // A fixed ring. Names and keys must each be unique (a later duplicate is ignored).
  explicit KeyRing(std::vector<KeyEntry> entries);
  // The ring of a key directory, read now. Throws std::runtime_error naming the file when a
  // public key file does not hold a Z85 key, or the directory cannot be read.
  static std::shared_ptr<KeyRing> from_dir(std::string dir);

  std::optional<KeyEntry> by_key(const std::string& public_key) const;
  std::optional<KeyEntry> by_name(const std::string& name) const;
  // by_name without reading the directory again: for the names frames claim (any client's routing
  // id), where a miss is the common case.
  std::optional<KeyEntry> known(const std::string& name) const;
  std::vector<KeyEntry> entries() const;

 private:
  KeyRing() = default;
  void add(KeyEntry e);  // REQUIRES: mu_ held
  // A ring read from a directory: read it again, unless `force` is false and it was read less
  // than a second ago. REQUIRES: mu_ held.
  void refresh(bool force) const;

  mutable std::mutex mu_;
  mutable std::map<std::string, KeyEntry> by_key_;
  mutable std::map<std::string, std::string> key_of_;  // name -> public key
  std::string dir_;  // "" for a fixed ring
  mutable std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace oly
