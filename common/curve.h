// CurveZMQ for the cluster's ZeroMQ links (issue 19, part 1): key pairs, and the ZAP handler that
// decides who may connect to a server's sockets.
//
// With CURVE (RFC 26) every link is encrypted and each side proves it holds its secret key: a
// client must know the server's public key, and the server learns the client's. ZeroMQ asks the
// context's ZAP handler (RFC 27) about every client that connects to a server socket; this one
// accepts a client whose public key is in the cluster's key ring (common/key_ring.h) and gives the
// connection that key's name as its User-Id (ZmqTransport checks it against the routing id a peer
// claims, and looks up the key's role to admit its ops), and refuses any other key. CurveZMQ's handshake and per-message nonces make a captured frame useless to
// replay on another connection, and on the same one it is refused as out of order.
//
// Keys are Z85 text, 40 characters (32 bytes).
//
// Thread-safety: curve_keypair and z85_key are pure; ZapHandler runs its own thread and is
// otherwise used from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <zmq.hpp>

#include "common/key_ring.h"

namespace oly {

struct CurveKeys {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// A new key pair. Throws std::runtime_error when libzmq was built without CURVE.
CurveKeys curve_keypair();

// Whether `key` is 40 characters of the Z85 alphabet.
bool z85_key(std::string_view key);

// Serves ZAP for `ctx` (the transport's context) on a thread of its own, from construction to
// destruction. REQUIRES: destroyed before `ctx` is closed; one per context.
class ZapHandler {
 public:
  // `ring`: the keys let in, each known by its name.
  ZapHandler(zmq::context_t& ctx, std::shared_ptr<const KeyRing> ring);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  void serve(zmq::socket_t& socket);

  const std::shared_ptr<const KeyRing> ring_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace oly
