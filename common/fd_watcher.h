// FdWatcher: one epoll set that a loop waits on, shared by everything the loop serves (ZeroMQ's
// sockets, the tablets' TCP port, the HTTP servers), so that a pass of the loop costs one
// epoll_wait however many servers it runs, instead of one per server's own set.
//
// watch(fd, events, on_ready) adds `fd` (level-triggered, for EPOLLIN and/or EPOLLOUT);
// wait(timeout) blocks until one is ready or the timeout passes, then runs each ready one's
// on_ready with what it is ready for (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR). A callback may
// watch, rewatch or unwatch any descriptor, itself included: an event of a descriptor unwatched
// earlier in the same wait is dropped, even when a new watch has taken its number (accept()
// after a close).
//
// Errors: the constructor throws std::runtime_error when the system has no epoll left; watch()
// throws naming the descriptor when the kernel refuses it. wait() returns early on a signal.
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/clock.h"

namespace oly {

class FdWatcher {
 public:
  using OnReady = std::function<void(uint32_t events)>;

  FdWatcher();
  ~FdWatcher();
  FdWatcher(const FdWatcher&) = delete;
  FdWatcher& operator=(const FdWatcher&) = delete;

  // REQUIRES: fd is open and not watched.
  void watch(int fd, uint32_t events, OnReady on_ready);
  // Changes what a watched fd is waited for (0: nothing, it stays watched). Unwatched: no-op.
  void rewatch(int fd, uint32_t events);
  // Before closing a watched fd. Unwatched: no-op.
  void unwatch(int fd);
  // Waits up to `timeout` (0: a look without blocking; rounded up to whole milliseconds) and runs
  // the callbacks. Returns how many descriptors were ready.
  int wait(Duration timeout);

 private:
  struct Entry {
    uint32_t generation = 0;  // 0: not watched
    OnReady on_ready;
  };
  int epoll_ = -1;
  uint32_t next_generation_ = 1;
  std::vector<Entry> entries_;  // by fd
};

}  // namespace oly
