#include "common/key_ring.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "common/curve.h"

namespace oly {

namespace fs = std::filesystem;

std::string_view role_name(KeyRole r) {
  switch (r) {
    case KeyRole::kFrontend: return "frontend";
    case KeyRole::kDatabase: return "database";
    case KeyRole::kPublisher: return "publisher";
    case KeyRole::kOperator: return "operator";
  }
  return "?";
}

std::optional<KeyRole> parse_role(std::string_view name) {
  for (const KeyRole r : kRoles) {
    if (role_name(r) == name) return r;
  }
  return std::nullopt;
}

KeyRing::KeyRing(std::vector<KeyEntry> entries) {
  for (auto& e : entries) add(std::move(e));
}

void KeyRing::add(KeyEntry e) {
  if (key_of_.count(e.name) || by_key_.count(e.public_key)) return;
  key_of_[e.name] = e.public_key;
  by_key_[e.public_key] = std::move(e);
}

namespace {

// Every <dir>/<role>/<name>.pub.
std::vector<KeyEntry> read_dir(const std::string& dir) {
  std::vector<KeyEntry> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir + ": no such key directory (make one with `olympics keys`)");
  for (const KeyRole r : kRoles) {
    const fs::path sub = fs::path(dir) / std::string(role_name(r));
    if (!fs::is_directory(sub, ec)) continue;
    for (const auto& file : fs::directory_iterator(sub, ec)) {
      if (file.path().extension() != ".pub") continue;
      std::ifstream in(file.path());
      std::string key;
      std::getline(in, key);
      if (!z85_key(key)) throw std::runtime_error(file.path().string() + ": expected a CURVE public key (40 characters of Z85)");
      out.push_back({file.path().stem().string(), r, key});
    }
  }
  return out;
}

}  // namespace

std::shared_ptr<KeyRing> KeyRing::from_dir(std::string dir) {
  std::shared_ptr<KeyRing> ring(new KeyRing());
  for (auto& e : read_dir(dir)) ring->add(std::move(e));
  ring->dir_ = std::move(dir);
  ring->read_at_ = std::chrono::steady_clock::now();
  return ring;
}

void KeyRing::refresh(bool force) const {
  if (dir_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - read_at_ < std::chrono::seconds(1)) return;
  read_at_ = now;
  try {
    for (auto& e : read_dir(dir_)) const_cast<KeyRing*>(this)->add(std::move(e));
  } catch (const std::exception&) {
    // A file being written, or the directory gone: what was read stays.
  }
}

std::optional<KeyEntry> KeyRing::by_key(const std::string& public_key) const {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(public_key);
  if (it == by_key_.end()) {
    refresh(false);
    it = by_key_.find(public_key);
    if (it == by_key_.end()) return std::nullopt;
  }
  return it->second;
}

std::optional<KeyEntry> KeyRing::by_name(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = key_of_.find(name);
  if (it == key_of_.end()) {
    refresh(true);
    it = key_of_.find(name);
    if (it == key_of_.end()) return std::nullopt;
  }
  return by_key_.at(it->second);
}

std::optional<KeyEntry> KeyRing::known(const std::string& name) const {
  std::lock_guard lock(mu_);
  const auto it = key_of_.find(name);
  if (it == key_of_.end()) return std::nullopt;
  return by_key_.at(it->second);
}

std::vector<KeyEntry> KeyRing::entries() const {
  std::lock_guard lock(mu_);
  std::vector<KeyEntry> out;
  for (const auto& [k, e] : by_key_) out.push_back(e);
  return out;
}

}  // namespace oly
