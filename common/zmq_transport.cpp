#include "common/zmq_transport.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include <cstring>
#include <stdexcept>

namespace oly {

namespace {
void common_options(zmq::socket_t& s) {
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 100000);
  s.set(zmq::sockopt::rcvhwm, 100000);
}
}  // namespace

ZmqTransport::ZmqTransport(std::string name, ZmqOptions options)
    : name_(std::move(name)), options_(std::move(options)), ctx_(1) {
  if (options_.curve) {
    if (!options_.curve->ring) throw std::invalid_argument("CurveOptions: no key ring");
    zap_ = std::make_unique<ZapHandler>(ctx_, options_.curve->ring);
  }
  auto bind = [&](std::unique_ptr<zmq::socket_t>& sock, zmq::socket_type type, const std::string& addr) {
    sock = std::make_unique<zmq::socket_t>(ctx_, type);
    common_options(*sock);
    if (type == zmq::socket_type::router) sock->set(zmq::sockopt::router_handover, 1);
    if (options_.curve) {
      sock->set(zmq::sockopt::curve_server, 1);
      sock->set(zmq::sockopt::curve_secretkey, options_.curve->keys.secret_key);
      sock->set(zmq::sockopt::zap_domain, "olympics");
    }
    try {
      sock->bind(addr);
    } catch (const zmq::error_t& e) {
      throw std::runtime_error("cannot bind " + addr + ": " + e.what());
    }
  };
  if (!options_.bind.empty()) bind(router_, zmq::socket_type::router, options_.bind);
  if (!options_.pub_bind.empty()) bind(pub_, zmq::socket_type::pub, options_.pub_bind);
  rebuild_sources();
}

ZmqTransport::~ZmqTransport() {
  for (const int fd : source_fds_) fds_.unwatch(fd);
}

void ZmqTransport::connect(const std::string& name, const std::string& address) {
  if (knows(name) || name == name_ || address.empty()) return;
  try {
    add_peer(name, address);
  } catch (const std::exception& e) {
    spdlog::warn("{}", e.what());
  }
}

void ZmqTransport::add_peer(const std::string& name, const std::string& address, const std::string& pub) {
  auto& p = peers_[name];
  if (p.dealer && p.address == address && p.pub == pub) return;
  if (p.sub && p.pub != pub) p.sub.reset();
  p.address = address;
  p.pub = pub;
  p.dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  common_options(*p.dealer);
  p.dealer->set(zmq::sockopt::routing_id, name_);
  p.dealer->set(zmq::sockopt::immediate, options_.drop_when_disconnected ? 1 : 0);
  p.dealer->set(zmq::sockopt::reconnect_ivl, options_.reconnect_ms);
  p.dealer->set(zmq::sockopt::reconnect_ivl_max, options_.reconnect_ms * 5);
  secure_client(*p.dealer, name);
  if (options_.report_lost_peers) watch(name, p);
  try {
    p.dealer->connect(address);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot connect to " + name + " at '" + address + "': " + e.what());
  }
  rebuild_sources();
}

void ZmqTransport::secure_client(zmq::socket_t& s, const std::string& peer) const {
  if (!options_.curve) return;
  const auto server = options_.curve->ring->by_name(peer);
  if (!server) throw std::runtime_error("no CURVE public key for " + peer);
  s.set(zmq::sockopt::curve_serverkey, server->public_key);
  s.set(zmq::sockopt::curve_publickey, options_.curve->keys.public_key);
  s.set(zmq::sockopt::curve_secretkey, options_.curve->keys.secret_key);
}

bool ZmqTransport::admitted(const std::string& claimed, zmq::message_t& frame) {
  if (!options_.curve) return true;
  const char* user = zmq_msg_gets(frame.handle(), "User-Id");
  if (user == nullptr) return false;  // not through the ZAP handler: cannot happen with curve_server
  if (!owns_routing_id(user, claimed)) {
    if (++spoofed_ == 1) spdlog::warn("dropped a frame with routing id '{}' over the connection of key '{}'", claimed, user);
    return false;
  }
  if (!options_.curve->admit) return true;
  const auto sender = options_.curve->ring->known(user);  // the ZAP handler found it there
  if (!sender) return false;
  auto refusal = options_.curve->admit(*sender, std::string_view(static_cast<const char*>(frame.data()), frame.size()));
  if (!refusal) return true;
  if (++refused_ == 1) spdlog::warn("refused a frame from '{}' ({} key): its key may not send it here", user, role_name(sender->role));
  if (!refusal->empty()) send(claimed, std::move(*refusal));
  return false;
}

void ZmqTransport::watch(const std::string& name, Peer& p) {
  p.monitor.reset();
  const std::string at = "inproc://oly-monitor-" + std::to_string(++monitors_) + "-" + name;
  if (zmq_socket_monitor(p.dealer->handle(), at.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) {
    spdlog::warn("cannot watch the connection to {}: {}", name, zmq_strerror(zmq_errno()));
    return;
  }
  p.monitor = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
  p.monitor->set(zmq::sockopt::linger, 0);
  p.monitor->connect(at);
}

void ZmqTransport::subscribe(const std::string& publisher, const std::string& prefix) {
  auto it = peers_.find(publisher);
  if (it == peers_.end() || it->second.pub.empty()) return;
  auto& p = it->second;
  if (!p.sub) {
    p.sub = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::sub);
    common_options(*p.sub);
    p.sub->set(zmq::sockopt::reconnect_ivl, options_.reconnect_ms);
    secure_client(*p.sub, publisher);
    p.sub->connect(p.pub);
    rebuild_sources();
  }
  p.sub->set(zmq::sockopt::subscribe, prefix);
  maybe_readable(p.sub.get());
}

void ZmqTransport::rebuild_sources() {
  for (const int fd : source_fds_) fds_.unwatch(fd);
  source_fds_.clear();
  sources_.clear();
  if (router_) sources_.push_back({router_.get(), "", false});
  for (auto& [n, p] : peers_) {
    if (p.dealer) sources_.push_back({p.dealer.get(), n, false});
    if (p.sub) sources_.push_back({p.sub.get(), n, true});
    if (p.monitor) sources_.push_back({p.monitor.get(), n, false, true});
  }
  maybe_.assign(sources_.size(), 1);  // what arrived before the rebuild is not lost
  for (size_t i = 0; i < sources_.size(); ++i) {
    const int fd = sources_[i].socket->get(zmq::sockopt::fd);
    fds_.watch(fd, EPOLLIN, [this, i](uint32_t) { maybe_[i] = 1; });
    source_fds_.push_back(fd);
  }
  next_source_ = 0;
  burst_ = 0;
}

void ZmqTransport::watch_fd(int fd, std::function<void()> on_readable) {
  fds_.watch(fd, EPOLLIN, [on_readable = std::move(on_readable)](uint32_t) {
    if (on_readable) on_readable();
  });
}

void ZmqTransport::maybe_readable(const zmq::socket_t* socket) {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].socket == socket) maybe_[i] = 1;
  }
}

void ZmqTransport::wait(Duration timeout) {
  // A socket that may still hold frames: look at the rest without blocking, and return.
  bool pending = false;
  for (const char m : maybe_) pending = pending || m != 0;
  fds_.wait(pending ? Duration(0) : timeout);  // a signal (EINTR) returns early: the loop checks for shutdown
}

void ZmqTransport::send(const std::string& to, std::string frame) {
  try {
    auto it = peers_.find(to);
    if (it != peers_.end()) {
      maybe_readable(it->second.dealer.get());
      if (!it->second.dealer->send(zmq::buffer(frame), zmq::send_flags::dontwait)) ++dropped_;
      return;
    }
    if (!router_) {
      ++dropped_;
      return;
    }
    maybe_readable(router_.get());
    if (!router_->send(zmq::buffer(to), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      ++dropped_;
      return;
    }
    router_->send(zmq::buffer(frame), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    ++dropped_;  // e.g. EHOSTUNREACH: the client is gone
  }
}

void ZmqTransport::publish(const std::string& topic, std::string frame) {
  if (!pub_) return;
  try {
    pub_->send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    pub_->send(zmq::buffer(frame), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    ++dropped_;
  }
}

std::optional<Incoming> ZmqTransport::receive() {
  for (size_t i = 0; i < sources_.size(); ++i) {
    const size_t source = (next_source_ + i) % sources_.size();
    if (!maybe_[source]) continue;
    auto& src = sources_[source];
    try {
      zmq::message_t first;
      // An empty answer (EAGAIN) comes after libzmq took the socket's pending commands, and with
      // them its ZMQ_FD signal: the next frame to arrive signals it again.
      if (!src.socket->recv(first, zmq::recv_flags::dontwait)) {
        maybe_[source] = 0;
        continue;
      }
      // Up to kBurst frames in a row from one socket before the next gets its turn: asking an
      // empty socket costs libzmq two system calls (poll and getpid), so moving on after every
      // frame cost more than the frame itself under load.
      const size_t at = (next_source_ + i) % sources_.size();
      burst_ = i == 0 ? burst_ + 1 : 1;
      next_source_ = at;
      if (burst_ == kBurst) {
        next_source_ = (at + 1) % sources_.size();
        burst_ = 0;
      }
      Incoming in;
      in.notice = src.notice;
      in.from = src.peer;
      // ROUTER: [identity, frame]; SUB: [topic, frame]; DEALER: [frame]. Extra parts are
      // drained and the message is kept only when it has the expected shape.
      std::vector<zmq::message_t> parts;
      parts.push_back(std::move(first));
      while (parts.back().more()) {
        zmq::message_t more;
        if (!src.socket->recv(more, zmq::recv_flags::dontwait)) break;
        parts.push_back(std::move(more));
      }
      if (src.monitor) {
        // [event: uint16 id, uint32 value][endpoint]; only DISCONNECTED is asked for.
        if (parts.size() != 2 || parts[0].size() < 2) continue;
        uint16_t event = 0;
        std::memcpy(&event, parts[0].data(), sizeof event);
        if (event != ZMQ_EVENT_DISCONNECTED) continue;
        in.lost = true;
        return in;
      }
      const size_t want = (src.socket == router_.get() || src.notice) ? 2 : 1;
      if (parts.size() != want) continue;
      if (src.socket == router_.get()) {
        in.from = parts[0].to_string();
        if (!admitted(in.from, parts.back())) continue;
      }
      in.frame = parts.back().to_string();
      return in;
    } catch (const zmq::error_t&) {
      maybe_[source] = 0;  // not asked again until its ZMQ_FD says so: a broken socket cannot spin the loop
      continue;
    }
  }
  return std::nullopt;
}

}  // namespace oly
