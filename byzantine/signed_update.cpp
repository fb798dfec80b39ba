#include "byzantine/signed_update.h"

#include <sodium.h>

#include <stdexcept>

namespace oly::byzantine {

namespace {

void start_sodium() {
  static const int ok = sodium_init();
  if (ok < 0) throw std::runtime_error("libsodium cannot start");
}

void put(std::string& out, std::string_view field) {
  const auto n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(field);
}

}  // namespace

SigningKeys signing_keypair() {
  start_sodium();
  SigningKeys k{std::string(crypto_sign_PUBLICKEYBYTES, '\0'), std::string(crypto_sign_SECRETKEYBYTES, '\0')};
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                      reinterpret_cast<unsigned char*>(k.secret_key.data()));
  return k;
}

SigningKeys signing_keypair(const std::string& seed) {
  start_sodium();
  if (seed.size() != crypto_sign_SEEDBYTES) return {};
  SigningKeys k{std::string(crypto_sign_PUBLICKEYBYTES, '\0'), std::string(crypto_sign_SECRETKEYBYTES, '\0')};
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                           reinterpret_cast<unsigned char*>(k.secret_key.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return k;
}

std::string canonical_bytes(const Update& u) {
  std::string out;
  if (const auto* s = std::get_if<SetScore>(&u)) {
    put(out, SetScore::kOp);
    put(out, s->publisher);
    put(out, std::to_string(s->seq));
    put(out, s->event);
    put(out, std::to_string(s->gauls));
    put(out, std::to_string(s->romans));
  } else {
    const auto& m = std::get<IncrementMedalTally>(u);
    put(out, IncrementMedalTally::kOp);
    put(out, m.publisher);
    put(out, std::to_string(m.seq));
    put(out, m.team);
    put(out, m.medal);
  }
  return out;
}

std::string sign(const Update& u, const std::string& secret_key) {
  start_sodium();
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) return {};
  const std::string bytes = canonical_bytes(u);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                       reinterpret_cast<const unsigned char*>(secret_key.data()));
  return sig;
}

bool verify(const Update& u, const std::string& signature, const std::string& public_key) {
  start_sodium();
  if (signature.size() != crypto_sign_BYTES || public_key.size() != crypto_sign_PUBLICKEYBYTES) return false;
  const std::string bytes = canonical_bytes(u);
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

}  // namespace oly::byzantine
