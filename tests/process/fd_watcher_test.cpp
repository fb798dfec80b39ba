// The loop's one epoll set (common/fd_watcher.h) on real descriptors (pipes): callbacks run for
// what is ready; rewatch changes what is waited for; and an event of a descriptor unwatched
// earlier in the same wait is dropped, even when a new watch took its number.
#include "common/fd_watcher.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>

namespace oly {
namespace {

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe(fds.data()), 0); }
  ~Pipe() {
    for (const int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  void poke() const { EXPECT_EQ(::write(fds[1], "x", 1), 1); }
  int read_end() const { return fds[0]; }
  std::array<int, 2> fds{-1, -1};
};

TEST(FdWatcher, RunsTheCallbacksOfWhatIsReadyAndFollowsRewatch) {
  FdWatcher w;
  Pipe a, b;
  int a_ready = 0, b_ready = 0;
  w.watch(a.read_end(), EPOLLIN, [&](uint32_t ev) { a_ready += (ev & EPOLLIN) != 0; });
  w.watch(b.read_end(), EPOLLIN, [&](uint32_t) { ++b_ready; });
  EXPECT_EQ(w.wait(ms(0)), 0);
  a.poke();
  EXPECT_EQ(w.wait(ms(1000)), 1);
  EXPECT_EQ(a_ready, 1);
  EXPECT_EQ(b_ready, 0);
  w.rewatch(a.read_end(), 0);  // still unread, but no longer waited for
  EXPECT_EQ(w.wait(ms(0)), 0);
  w.rewatch(a.read_end(), EPOLLIN);
  EXPECT_EQ(w.wait(ms(0)), 1);  // level-triggered: still there
  EXPECT_EQ(a_ready, 2);
  w.unwatch(a.read_end());
  EXPECT_EQ(w.wait(ms(0)), 0);
}

// Both pipes are ready in the same wait. Whichever callback runs first closes the other's
// descriptor and watches a new pipe that gets the same number: the other's event, already taken
// from the kernel, must reach neither its old callback nor the new one.
TEST(FdWatcher, AnEventOfADescriptorUnwatchedInTheSameWaitIsDropped) {
  FdWatcher w;
  Pipe a, b;
  Pipe replacement_holder;  // keeps the replacement's write end (its read end reuses a number)
  int ran = 0, stale = 0;
  auto replace = [&](Pipe& other) {
    const int number = other.read_end();
    w.unwatch(number);
    ::close(number);
    other.fds[0] = -1;
    std::array<int, 2> p{};
    ASSERT_EQ(::pipe(p.data()), 0);
    ASSERT_EQ(p[0], number) << "the new pipe did not take the freed number";
    replacement_holder.fds[0] = p[0];
    replacement_holder.fds[1] = p[1];
    w.watch(p[0], EPOLLIN, [&](uint32_t) { ++stale; });
  };
  w.watch(a.read_end(), EPOLLIN, [&](uint32_t) {
    ++ran;
    if (ran == 1) replace(b);
  });
  w.watch(b.read_end(), EPOLLIN, [&](uint32_t) {
    ++ran;
    if (ran == 1) replace(a);
  });
  a.poke();
  b.poke();
  EXPECT_EQ(w.wait(ms(1000)), 2);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(stale, 0);
}

}  // namespace
}  // namespace oly
