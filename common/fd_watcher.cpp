#include "common/fd_watcher.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace oly {

namespace {
// An event names its descriptor and the generation of that watch, so that a later watch of the
// same number does not get an earlier one's events.
uint64_t tag(int fd, uint32_t generation) { return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd); }
}  // namespace

FdWatcher::FdWatcher() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

FdWatcher::~FdWatcher() { ::close(epoll_); }

void FdWatcher::watch(int fd, uint32_t events, OnReady on_ready) {
  if (fd < 0) throw std::runtime_error("cannot watch descriptor " + std::to_string(fd));
  if (static_cast<size_t>(fd) >= entries_.size()) entries_.resize(static_cast<size_t>(fd) + 1);
  Entry& e = entries_[static_cast<size_t>(fd)];
  e.generation = next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;
  e.on_ready = std::move(on_ready);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(fd, e.generation);
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    e = Entry{};
    throw std::runtime_error("cannot watch descriptor " + std::to_string(fd) + ": " + std::strerror(errno));
  }
}

void FdWatcher::rewatch(int fd, uint32_t events) {
  if (fd < 0 || static_cast<size_t>(fd) >= entries_.size() || entries_[static_cast<size_t>(fd)].generation == 0) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(fd, entries_[static_cast<size_t>(fd)].generation);
  ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
}

void FdWatcher::unwatch(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= entries_.size() || entries_[static_cast<size_t>(fd)].generation == 0) return;
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  entries_[static_cast<size_t>(fd)] = Entry{};
}

int FdWatcher::wait(Duration timeout) {
  auto t = std::chrono::duration_cast<std::chrono::milliseconds>(timeout + Duration(999));
  if (t.count() < 0) t = std::chrono::milliseconds(0);
  std::array<epoll_event, 256> events;
  const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), static_cast<int>(t.count()));
  for (int i = 0; i < n; ++i) {
    const uint64_t data = events[static_cast<size_t>(i)].data.u64;
    const auto fd = static_cast<size_t>(data & 0xffffffffu);
    const auto generation = static_cast<uint32_t>(data >> 32);
    if (fd >= entries_.size() || entries_[fd].generation != generation) continue;  // unwatched meanwhile
    // A copy: the callback may unwatch (and so destroy) its own entry.
    const OnReady on_ready = entries_[fd].on_ready;
    on_ready(events[static_cast<size_t>(i)].events);
  }
  return n < 0 ? 0 : n;
}

}  // namespace oly
