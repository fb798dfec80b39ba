#include "common/curve.h"

#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace oly {

CurveKeys curve_keypair() {
  std::array<char, 41> pub{};
  std::array<char, 41> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    throw std::runtime_error(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
  }
  return {std::string(pub.data(), 40), std::string(sec.data(), 40)};
}

bool z85_key(std::string_view key) {
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (key.size() != 40) return false;
  for (const char c : key) {
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::shared_ptr<const KeyRing> ring) : ring_(std::move(ring)) {
  // Bound here, before any server socket of the context exists: without a handler, libzmq lets
  // every CURVE client in.
  auto socket = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::rep);
  socket->set(zmq::sockopt::linger, 0);
  socket->bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this, s = std::move(socket)]() mutable {
    serve(*s);
    s->close();
  });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::serve(zmq::socket_t& socket) {
  while (!stop_.load()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) <= 0) continue;
    // Request: version, request id, domain, address, identity, mechanism, credentials...
    std::vector<zmq::message_t> parts;
    while (true) {
      zmq::message_t part;
      if (!socket.recv(part, zmq::recv_flags::dontwait)) break;
      const bool more = part.more();
      parts.push_back(std::move(part));
      if (!more) break;
    }
    if (parts.empty()) continue;
    const std::string request_id = parts.size() > 1 ? parts[1].to_string() : "";
    std::string user;
    bool ok = false;
    if (parts.size() >= 7 && parts[0].to_string() == "1.0" && parts[5].to_string() == "CURVE" && parts[6].size() == 32) {
      std::array<char, 41> z85{};
      zmq_z85_encode(z85.data(), static_cast<const uint8_t*>(parts[6].data()), 32);
      if (const auto entry = ring_->by_key(std::string(z85.data(), 40))) {
        ok = true;
        user = entry->name;
      }
    }
    ++(ok ? accepted_ : refused_);
    if (!ok && refused_.load() == 1) spdlog::warn("refused a connection: its key is not one of this cluster's");
    // Reply: version, request id, status code, status text, user id, metadata.
    socket.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(std::string(ok ? "200" : "400")), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(std::string(ok ? "OK" : "unknown key")), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(user), zmq::send_flags::sndmore);
    socket.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
}

}  // namespace oly
