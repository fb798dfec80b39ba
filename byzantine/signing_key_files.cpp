#include "byzantine/signing_key_files.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "byzantine/signed_update.h"
#include "common/cluster_curve.h"
#include "common/key_files.h"

namespace oly::byzantine {

namespace fs = std::filesystem;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string read_hex(const std::string& path, size_t bytes, const char* what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": missing (make the cluster's keys with `olympics keys`)");
  std::string text;
  std::getline(in, text);
  const auto bad = [&] {
    return std::runtime_error(path + ": expected the publisher's " + what + " key (" + std::to_string(2 * bytes) +
                              " hexadecimal digits)");
  };
  if (text.size() != 2 * bytes) throw bad();
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    const auto digit = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      throw bad();
    };
    out += static_cast<char>(digit(text[i]) * 16 + digit(text[i + 1]));
  }
  return out;
}

std::string file(const std::string& dir, const std::string& name, const char* ext) {
  return (fs::path(dir) / std::string(role_name(KeyRole::kPublisher)) / (name + ext)).string();
}

}  // namespace

std::string signing_key_file(const std::string& dir, const std::string& name) { return file(dir, name, ".sign"); }
std::string verify_key_file(const std::string& dir, const std::string& name) { return file(dir, name, ".verify"); }

bool ensure_signing_keys(const std::string& dir, const std::string& name) {
  const std::string sign = signing_key_file(dir, name);
  const std::string verify = verify_key_file(dir, name);
  if (fs::exists(sign) && fs::exists(verify)) return false;
  if (fs::exists(sign) || fs::exists(verify)) {
    throw std::runtime_error((fs::exists(sign) ? verify : sign) + ": missing while its pair is there; remove both to make a new pair");
  }
  const SigningKeys keys = signing_keypair();
  write_key_file(sign, hex(keys.secret_key), 0600);
  write_key_file(verify, hex(keys.public_key), 0644);
  return true;
}

std::string load_signing_key(const std::string& dir, const std::string& name) {
  return read_hex(signing_key_file(dir, name), 64, "signing");
}

std::string load_verify_key(const std::string& dir, const std::string& name) {
  return read_hex(verify_key_file(dir, name), 32, "verify");
}

std::string publisher_verify_key(const Config& c) {
  return c.byzantine ? load_verify_key(keys_dir(c), c.cacofonix.id) : "";
}

std::string publisher_signing_key(const Config& c) {
  return c.byzantine ? load_signing_key(keys_dir(c), c.cacofonix.id) : "";
}

std::string publisher_key_or_exit(const Config& c, KeyUse use) {
  try {
    return use == KeyUse::kSign ? publisher_signing_key(c) : publisher_verify_key(c);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "error: %s: byzantine: true: %s\n", c.source.c_str(), e.what());
    std::exit(2);
  }
}

}  // namespace oly::byzantine
