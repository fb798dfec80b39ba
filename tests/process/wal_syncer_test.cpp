// SqliteStore's background syncs (database/wal_syncer.h), on a real file and thread: a sync
// started in the background ends with the log's writes readable by any connection and wakes the
// loop through its descriptor; a sync started during a stall (the test hook of the process tests)
// ends with the stall; a synchronous sync covers the background syncs still running.
#include "database/wal_syncer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>

#include "database/sqlite_store.h"
#include "tests/support/process.h"

namespace oly::database {
namespace {

using Steady = std::chrono::steady_clock;

// Waits until the store's descriptor is readable (a background sync ended), at most `limit`.
bool woken(SqliteStore& store, std::chrono::milliseconds limit) {
  pollfd p{store.sync_fd(), POLLIN, 0};
  const bool ready = ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
  store.drain_sync_fd();
  return ready;
}

void append(SqliteStore& store, uint64_t from, int n) {
  for (int i = 0; i < n; ++i) {
    store.append_entry(from + static_cast<uint64_t>(i), consensus::LogEntry{1, 1, "entry " + std::to_string(from + i)});
  }
}

TEST(WalSyncer, ABackgroundSyncEndsWithTheLogReadableByAnyConnectionAndWakesTheLoop) {
  testing::TempDir dir;
  const std::string path = dir.file("r.db");
  SqliteStore store(path);
  EXPECT_EQ(store.sync_fd(), -1);
  store.sync_in_background();
  ASSERT_GE(store.sync_fd(), 0);
  append(store, 1, 20);
  const uint64_t ticket = store.start_sync(TimePoint{});
  ASSERT_TRUE(woken(store, std::chrono::milliseconds(5000)));
  EXPECT_GE(store.synced(TimePoint{}), ticket);
  SqliteStore other(path);
  const auto log = other.load_log();
  ASSERT_EQ(log.entries.size(), 20u);
  EXPECT_EQ(log.entries.back().data, "entry 20");
  // Tickets grow, and each is reported once its sync is done.
  append(store, 21, 1);
  const uint64_t next = store.start_sync(TimePoint{});
  EXPECT_GT(next, ticket);
  ASSERT_TRUE(woken(store, std::chrono::milliseconds(5000)));
  EXPECT_GE(store.synced(TimePoint{}), next);
}

TEST(WalSyncer, ASyncStartedDuringAStallEndsWithItAndASynchronousSyncCoversIt) {
  testing::TempDir dir;
  SqliteStore store(dir.file("r.db"));
  store.sync_in_background();
  const auto from = Steady::now();
  store.stall_syncs(from, from + std::chrono::milliseconds(400));
  append(store, 1, 1);
  const uint64_t stalled = store.start_sync(TimePoint{});
  EXPECT_FALSE(woken(store, std::chrono::milliseconds(150))) << "a sync ended during the stall";
  EXPECT_LT(store.synced(TimePoint{}), stalled);
  ASSERT_TRUE(woken(store, std::chrono::milliseconds(5000)));
  EXPECT_GE(Steady::now() - from, std::chrono::milliseconds(400));
  EXPECT_GE(store.synced(TimePoint{}), stalled);

  // A synchronous sync (a vote, a term) makes every write durable, those of a stalled background
  // sync included: their ticket is reported at once.
  const auto again = Steady::now();
  store.stall_syncs(again, again + std::chrono::milliseconds(5000));
  append(store, 2, 1);
  const uint64_t running = store.start_sync(TimePoint{});
  EXPECT_LT(store.synced(TimePoint{}), running);
  store.set_term_vote(2, 1);
  store.sync_log();
  EXPECT_GE(store.synced(TimePoint{}), running);
}

// In memory (the simulation), a sync is durable a set time after it starts, in the caller's time.
TEST(WalSyncer, InMemoryASyncEndsASetTimeLaterInTheCallersTime) {
  SqliteStore store(":memory:");
  store.set_sync_delay(ms(50));
  append(store, 1, 1);
  const TimePoint t0{};
  const uint64_t ticket = store.start_sync(t0);
  EXPECT_EQ(store.next_synced(), t0 + ms(50));
  EXPECT_LT(store.synced(t0 + ms(49)), ticket);
  EXPECT_GE(store.synced(t0 + ms(50)), ticket);
  EXPECT_EQ(store.next_synced(), TimePoint::max());
}

}  // namespace
}  // namespace oly::database
