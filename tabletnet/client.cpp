#include "tabletnet/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/codec.h"
#include "common/message.h"
#include "tabletnet/address.h"

namespace oly::tabletnet {

namespace {

// Whether `frame` is a notice: req 0 and a notice's op.
bool is_notice(std::string_view frame) {
  const Decoded d = decode(frame);
  return d.ok && d.message.req == 0 &&
         (d.message.is<Serving>() || d.message.is<MasterChanged>());
}

}  // namespace

TcpClientTransport::TcpClientTransport(std::string name, const Clock& clock) : name_(std::move(name)), clock_(clock) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

TcpClientTransport::~TcpClientTransport() {
  for (auto& [name, p] : peers_) {
    if (p.fd >= 0) ::close(p.fd);
  }
  ::close(epoll_);
}

void TcpClientTransport::add_peer(const std::string& name, const std::string& host_port) {
  Peer& p = peers_[name];
  if (p.address == host_port && p.fd >= 0) return;
  drop(p);
  p.address = host_port;
  p.warned = false;
  open(name, p);
}

void TcpClientTransport::open(const std::string& name, Peer& p) {
  p.last_attempt = clock_.now();
  std::string why;
  const auto addr = ipv4_address(p.address, false, why);
  if (!addr) {
    if (!p.warned) spdlog::warn("front end {}: {}", name, why);
    p.warned = true;
    return;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++connects_;
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    lose(name, p);
    return;
  }
  p.fd = fd;
  p.connected = rc == 0;
  p.reader = FrameReader(kMaxTabletFrame);
  by_fd_[fd] = name;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
}

void TcpClientTransport::drop(Peer& p) {
  if (p.fd >= 0) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, p.fd, nullptr);
    ::close(p.fd);
    by_fd_.erase(p.fd);
  }
  p.fd = -1;
  p.connected = false;
  if (p.out.size() > p.out_off) ++dropped_;
  p.out.clear();
  p.out_off = 0;
}

void TcpClientTransport::lose(const std::string& name, Peer& p) {
  drop(p);
  if (p.lost_queued) return;
  p.lost_queued = true;
  arrived_.push_back(Incoming{name, "", false, true});
}

void TcpClientTransport::send(const std::string& to, std::string frame) {
  auto it = peers_.find(to);
  if (it == peers_.end()) {
    ++dropped_;
    return;
  }
  Peer& p = it->second;
  if (p.fd < 0 && clock_.now() - p.last_attempt >= kRetryEvery) open(to, p);
  if (p.fd < 0) {
    ++dropped_;
    lose(to, p);  // no connection: nothing sent now will be answered
    return;
  }
  if (p.out.size() - p.out_off + frame.size() > kMaxQueued) {
    ++dropped_;
    return;
  }
  append_frame(p.out, frame);
  if (p.connected) write_out(to, p);
  if (p.fd >= 0) interest(to, p);
}

void TcpClientTransport::write_out(const std::string& name, Peer& p) {
  while (p.out.size() > p.out_off) {
    const ssize_t n = ::send(p.fd, p.out.data() + p.out_off, p.out.size() - p.out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      lose(name, p);
      return;
    }
    p.out_off += static_cast<std::size_t>(n);
  }
  p.out.clear();
  p.out_off = 0;
}

void TcpClientTransport::interest(const std::string&, Peer& p) {
  epoll_event ev{};
  ev.events = EPOLLIN | ((!p.connected || p.out.size() > p.out_off) ? EPOLLOUT : 0u);
  ev.data.fd = p.fd;
  ::epoll_ctl(epoll_, EPOLL_CTL_MOD, p.fd, &ev);
}

bool TcpClientTransport::read_in(const std::string& name, Peer& p) {
  std::array<char, 64 * 1024> buf;
  while (true) {
    const std::size_t room = p.reader.room();
    if (room == 0) break;
    const ssize_t n = ::recv(p.fd, buf.data(), std::min(room, buf.size()), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return false;
    if (n < 0) break;
    p.reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    std::string_view payload;
    FrameReader::Status s;
    while ((s = p.reader.next(payload)) == FrameReader::Status::kFrame) {
      arrived_.push_back(Incoming{name, std::string(payload), is_notice(payload)});
    }
    if (s != FrameReader::Status::kNeedMore) return false;  // the front end broke the framing
  }
  return true;
}

std::optional<Incoming> TcpClientTransport::receive() {
  if (arrived_.empty()) {
    std::array<epoll_event, 64> events;
    const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 0);
    for (int i = 0; i < n; ++i) {
      const auto f = by_fd_.find(events[static_cast<std::size_t>(i)].data.fd);
      if (f == by_fd_.end()) continue;
      const std::string name = f->second;
      Peer& p = peers_.at(name);
      const uint32_t ev = events[static_cast<std::size_t>(i)].events;
      if (!p.connected && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          lose(name, p);
          continue;
        }
        p.connected = true;
      }
      if (ev & EPOLLOUT) write_out(name, p);
      if (p.fd >= 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !read_in(name, p)) {
        lose(name, p);
        continue;
      }
      if (p.fd >= 0) interest(name, p);
    }
  }
  if (arrived_.empty()) return std::nullopt;
  Incoming in = std::move(arrived_.front());
  arrived_.pop_front();
  if (in.lost) peers_.at(in.from).lost_queued = false;
  return in;
}

void TcpClientTransport::wait(Duration timeout) {
  if (!arrived_.empty()) return;
  const auto ms_left = std::max<int64_t>(0, (timeout.count() + 999) / 1000);
  epoll_event ev;
  // Only waits: receive() takes the events (a level-triggered epoll reports them again).
  ::epoll_wait(epoll_, &ev, 1, static_cast<int>(std::min<int64_t>(ms_left, 1000)));
}

}  // namespace oly::tabletnet
