#include "tabletnet/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/codec.h"
#include "common/codec_reads.h"
#include "common/message.h"
#include "tabletnet/address.h"

namespace oly::tabletnet {

namespace {

constexpr Duration kIdleCheckEvery = ms(1000);

std::runtime_error sys_error(const std::string& what, const std::string& address) {
  return std::runtime_error("tablet port " + address + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

struct TabletServer::Conn {
  int fd = -1;
  uint64_t id = 0;
  std::string endpoint;     // "tcp/<id>": what its frames come from
  FrameReader reader;
  std::string out;          // answers not yet sent
  std::size_t out_off = 0;  // of out, already sent
  std::size_t pending = 0;  // requests delivered, not yet answered
  TimePoint last_active;
  bool reading = true;      // EPOLLIN wanted
  bool writing = false;     // EPOLLOUT wanted
  bool dirty = false;       // in dirty_
  bool doomed = false;      // in doomed_: closed at the end of this pass
  bool resume = false;      // in resume_: at the pending cap with whole frames buffered, now below it
  bool eof = false;         // the client shut down its side: closed once its answers are out
  explicit Conn(std::size_t max_frame) : reader(max_frame) {}
  std::size_t unsent() const { return out.size() - out_off; }
};

TabletServer::TabletServer(Transport& inner, FdWatcher& fds, const std::string& host_port, const Clock& clock,
                           Limits limits)
    : RelayTransport(inner, std::string(kEndpointPrefix)), fds_(fds), clock_(clock), limits_(limits) {
  std::string why;
  const auto found = ipv4_address(host_port, true, why);
  if (!found) throw std::runtime_error("tablet port: " + why);
  sockaddr_in addr = *found;
  listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_ < 0) throw sys_error("socket", host_port);
  const int one = 1;
  ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_, 4096) != 0) {
    const auto e = sys_error("cannot listen", host_port);
    ::close(listen_);
    throw e;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) {
    const auto e = sys_error("eventfd", host_port);
    ::close(listen_);
    throw e;
  }
  fds_.watch(listen_, EPOLLIN, [this](uint32_t) { accept_all(); });
  fds_.watch(wake_, EPOLLIN, [this](uint32_t) {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t r = ::read(wake_, &count, sizeof count);
  });
  now_ = clock_.now();
  next_idle_check_ = now_ + kIdleCheckEvery;
}

TabletServer::~TabletServer() {
  for (auto& [id, c] : conns_) {
    fds_.unwatch(c->fd);
    ::close(c->fd);
  }
  fds_.unwatch(wake_);
  fds_.unwatch(listen_);
  ::close(wake_);
  ::close(listen_);
}

void TabletServer::on_ready(Conn& c, uint32_t events) {
  // now_ is the clock as of this pass's pump() or flush(): a connection's activity is only timed
  // for its idle limit.
  if (events & EPOLLOUT) write_out(c);
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_from(c);
}

void TabletServer::pump() {
  for (const uint64_t id : doomed_) close_conn(id, nullptr);
  doomed_.clear();
}

void TabletServer::accept_all() {
  while (true) {
    const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error of that one connection (it is gone)
    if (conns_.size() >= limits_.max_connections) {
      ::close(fd);
      ++counts_.refused_full;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>(limits_.max_frame);
    c->fd = fd;
    c->id = next_id_++;
    c->endpoint = endpoint(c->id);
    c->last_active = now_;
    // The watcher never calls back for a descriptor unwatched (close_conn unwatches before the
    // connection is destroyed), so the callback may hold the connection itself.
    Conn* conn = c.get();
    fds_.watch(fd, EPOLLIN, [this, conn](uint32_t events) { on_ready(*conn, events); });
    conns_.emplace(c->id, std::move(c));
    ++counts_.accepted;
  }
}

void TabletServer::doom(Conn& c, uint64_t ServerCounts::*why) {
  if (c.doomed) return;
  c.doomed = true;
  doomed_.push_back(c.id);
  ++(counts_.*why);
  want(c, false, false);
}

void TabletServer::read_from(Conn& c) {
  if (c.doomed) return;
  const uint64_t on_the_spot = counts_.answered_on_the_spot;
  std::array<char, 64 * 1024> buf;
  while (take_frames(c)) {
    const std::size_t room = c.reader.room();
    if (room == 0) break;
    // Answers made on the spot are not capped by max_pending: a client that sends faster than it
    // reads is judged (write_out, max_unsent) before more of its requests are read.
    if (c.unsent() > limits_.max_unsent) break;
    const ssize_t got = ::recv(c.fd, buf.data(), std::min(room, buf.size()), 0);
    if (got == 0) {
      // The client sent all it will (a shutdown of its side, or a close): its requests still get
      // their answers, then the connection is closed.
      c.eof = true;
      take_frames(c);
      if (!c.doomed) close_when_answered(c);
      return;
    }
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      doom(c, &ServerCounts::closed_by_peer);
      return;
    }
    if (got < 0) break;
    c.last_active = now_;
    c.reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(got)));
    // Less than asked for: the socket is drained for now (epoll says when more comes), so no
    // second recv() just to hear EAGAIN.
    if (static_cast<std::size_t>(got) < std::min(room, buf.size())) {
      take_frames(c);
      break;
    }
  }
  if (c.doomed) return;
  // Answers made on the spot go out now, not after the node's step: a client waits for nothing
  // but its own read (write_out also sets what the connection waits for).
  if (counts_.answered_on_the_spot != on_the_spot) {
    write_out(c);
    return;
  }
  // At the pending cap: not read again until answers go out (answered(), flush()).
  want(c, c.pending < limits_.max_pending, c.writing);
}

bool TabletServer::take_frames(Conn& c) {
  std::string_view payload;
  while (c.pending < limits_.max_pending) {
    const FrameReader::Status s = c.reader.next(payload);
    if (s == FrameReader::Status::kNeedMore) return true;
    if (s == FrameReader::Status::kFrame) {
      ++counts_.frames_in;
      if (c.pending == 0 && shortcut_ && answer_on_the_spot(c, payload)) continue;
      if (refuse_op(c, payload)) continue;
      ++c.pending;
      deliver_as(c.endpoint, std::string(payload));
      continue;
    }
    const bool empty = s == FrameReader::Status::kEmpty;
    const Error e = make_error(
        empty ? ErrorCode::kMalformed : ErrorCode::kTooLarge,
        empty ? "a frame of 0 bytes; the connection is closed"
              : "a frame of " + std::to_string(c.reader.refused_length()) + " bytes, over the limit of " +
                    std::to_string(limits_.max_frame) + "; the connection is closed");
    append_frame(c.out, encode(Message{0, e}));
    write_out(c);  // best effort: it is closed at the end of this pass either way
    doom(c, &ServerCounts::closed_bad_frame);
    return false;
  }
  return false;
}

bool TabletServer::answer_on_the_spot(Conn& c, std::string_view payload) {
  // The answer is written in place behind a length prefix filled in once its size is known.
  const std::size_t at = open_frame(c.out);
  if (!shortcut_(payload, c.out)) {
    c.out.resize(at);
    return false;
  }
  close_frame(c.out, at);
  ++counts_.frames_out;
  ++counts_.answered_on_the_spot;
  mark_dirty(c);
  return true;
}

namespace {

// What the tablets' port serves (docs/protocol.md, section 2): registration and reads. Not an
// update, not what front ends and the database say to each other, not a reply.
bool served_here(const Body& b) {
  return std::holds_alternative<Register>(b) || std::holds_alternative<GetScore>(b) ||
         std::holds_alternative<GetMedalTally>(b) || std::holds_alternative<GetScoreboard>(b);
}

}  // namespace

bool TabletServer::refuse_op(Conn& c, std::string_view payload) {
  // A read of the plain shape, the common case (a hit behind a pending request, a miss), is
  // recognised in place; only other frames are decoded here, and again by the core.
  SimpleRead read;
  if (parse_simple_read(payload, read)) return false;
  const Decoded d = decode(payload);
  if (!d.ok || served_here(d.message.body)) return false;  // the core's (it answers malformed frames)
  const std::string op(op_name(d.message.body));
  append_frame(c.out, encode(Message{d.message.req, make_error(ErrorCode::kUnexpectedOp,
                                                               op + ": not served on the tablets' port (it serves register, "
                                                                    "get_score, get_medal_tally and get_scoreboard)")}));
  ++counts_.frames_out;
  ++counts_.refused_ops;
  mark_dirty(c);
  return true;
}

void TabletServer::mark_dirty(Conn& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_.push_back(c.id);
}

void TabletServer::answered(uint64_t id, std::string frame) {
  const auto it = conns_.find(id);
  if (it == conns_.end()) {
    ++counts_.answers_dropped;
    return;
  }
  Conn& c = *it->second;
  append_frame(c.out, frame);
  ++counts_.frames_out;
  if (c.pending == limits_.max_pending && !c.resume) {
    c.resume = true;
    resume_.push_back(id);
  }
  if (c.pending > 0) --c.pending;
  mark_dirty(c);
}

void TabletServer::publish(const std::string& topic, std::string frame) {
  if (topic != kTabletsTopic) {
    RelayTransport::publish(topic, std::move(frame));
    return;
  }
  for (auto& [id, c] : conns_) {
    if (c->doomed) continue;
    append_frame(c->out, frame);
    ++counts_.notices_out;
    mark_dirty(*c);
  }
}

void TabletServer::flush() {
  // The clock, once per pass of the loop: what this pass reads and writes is timed by it.
  now_ = clock_.now();
  if (now_ >= next_idle_check_) {
    expire_idle(now_);
    next_idle_check_ = now_ + kIdleCheckEvery;
  }
  for (const uint64_t id : dirty_) {
    const auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Conn& c = *it->second;
    c.dirty = false;
    write_out(c);
    if (c.eof && !c.doomed) close_when_answered(c);
  }
  dirty_.clear();
  // Connections that were at the pending cap: their buffered frames first, then reading again.
  // What is delivered here waits for the node's next step, so the loop is woken for it.
  const uint64_t before = counts_.frames_in;
  for (const uint64_t id : resume_) {
    const auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Conn& c = *it->second;
    c.resume = false;
    if (c.doomed) continue;
    take_frames(c);
    if (!c.doomed) want(c, !c.eof && c.pending < limits_.max_pending, c.writing);
  }
  resume_.clear();
  if (counts_.frames_in != before) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(wake_, &one, sizeof one);
  }
  for (const uint64_t id : doomed_) close_conn(id, nullptr);
  doomed_.clear();
}

void TabletServer::write_out(Conn& c) {
  if (c.doomed && c.unsent() == 0) return;
  while (c.unsent() > 0) {
    const ssize_t sent = ::send(c.fd, c.out.data() + c.out_off, c.unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      doom(c, &ServerCounts::closed_by_peer);
      return;
    }
    c.out_off += static_cast<std::size_t>(sent);
    c.last_active = now_;
  }
  if (c.unsent() == 0) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.unsent() > limits_.max_unsent) {
    doom(c, &ServerCounts::closed_slow);
    return;
  }
  want(c, !c.eof && c.pending < limits_.max_pending, c.unsent() > 0);
}

void TabletServer::close_when_answered(Conn& c) {
  if (c.pending == 0 && c.unsent() == 0) {  // a partial frame left at the end never completes
    doom(c, &ServerCounts::closed_by_peer);
  } else {
    want(c, false, c.unsent() > 0);
  }
}

void TabletServer::want(Conn& c, bool in, bool out) {
  if (c.reading == in && c.writing == out) return;
  c.reading = in;
  c.writing = out;
  fds_.rewatch(c.fd, (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u));
}

void TabletServer::close_conn(uint64_t id, uint64_t ServerCounts::*why) {
  const auto it = conns_.find(id);
  if (it == conns_.end()) return;
  fds_.unwatch(it->second->fd);
  ::close(it->second->fd);
  conns_.erase(it);
  if (why != nullptr) ++(counts_.*why);
}

void TabletServer::expire_idle(TimePoint now) {
  std::vector<uint64_t> idle;
  for (const auto& [id, c] : conns_) {
    if (now - c->last_active >= limits_.idle) idle.push_back(id);
  }
  for (const uint64_t id : idle) close_conn(id, &ServerCounts::closed_idle);
}

}  // namespace oly::tabletnet
