#include "common/key_files.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace oly {

namespace fs = std::filesystem;

namespace {

std::string key_file(const std::string& dir, KeyRole role, const std::string& name, const char* ext) {
  return (fs::path(dir) / std::string(role_name(role)) / (name + ext)).string();
}

std::string read_key(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": missing (make the cluster's keys with `olympics keys`)");
  std::string key;
  std::getline(in, key);
  if (!z85_key(key)) throw std::runtime_error(path + ": expected a CURVE " + what + " key (40 characters of Z85)");
  return key;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) throw std::runtime_error(fs::path(path).parent_path().string() + ": cannot create: " + ec.message());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error(path + ": cannot write");
    ::chmod(tmp.c_str(), mode);
    out << text << '\n';
    if (!out.flush()) throw std::runtime_error(path + ": cannot write");
  }
  fs::rename(tmp, path);
}

}  // namespace

std::string public_key_file(const std::string& dir, KeyRole role, const std::string& name) {
  return key_file(dir, role, name, ".pub");
}

std::string secret_key_file(const std::string& dir, KeyRole role, const std::string& name) {
  return key_file(dir, role, name, ".key");
}

bool ensure_key_pair(const std::string& dir, KeyRole role, const std::string& name) {
  const std::string pub = public_key_file(dir, role, name);
  const std::string sec = secret_key_file(dir, role, name);
  if (fs::exists(pub) && fs::exists(sec)) return false;
  if (fs::exists(pub) || fs::exists(sec)) {
    throw std::runtime_error((fs::exists(pub) ? sec : pub) + ": missing while its pair is there; remove both to make a new pair");
  }
  std::error_code ec;
  fs::create_directories(fs::path(pub).parent_path(), ec);
  if (ec) throw std::runtime_error(fs::path(pub).parent_path().string() + ": cannot create: " + ec.message());
  const CurveKeys keys = curve_keypair();
  write_file(sec, keys.secret_key, 0600);  // the secret first: a .pub alone is never a usable pair
  write_file(pub, keys.public_key, 0644);
  return true;
}

void write_key_file(const std::string& path, const std::string& text, unsigned mode) {
  write_file(path, text, static_cast<mode_t>(mode));
}

CurveKeys load_key_pair(const std::string& dir, KeyRole role, const std::string& name) {
  return {read_key(public_key_file(dir, role, name), "public"), read_key(secret_key_file(dir, role, name), "secret")};
}

}  // namespace oly
