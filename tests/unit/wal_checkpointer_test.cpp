// WalCheckpointer: a store whose own connection no longer checkpoints lets its WAL grow until a
// checkpointer copies it into the file, after which the next commit starts the WAL over; nothing
// is lost. The rounds run synchronously here (threshold zero); the database binary runs them on
// a thread (the process tests, and the last test here).
#include "database/wal_checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "database/sqlite_store.h"
#include "tests/support/process.h"

namespace oly::database {
namespace {

uintmax_t wal_bytes(const std::string& db) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(db + "-wal", ec);
  return ec ? 0 : n;
}

// `n` log entries of 4 KiB each (a page or more each), synced ten at a time.
void append(SqliteStore& store, uint64_t from, int n) {
  for (int i = 0; i < n; ++i) {
    store.append_entry(from + static_cast<uint64_t>(i), consensus::LogEntry{1, 1, std::string(4096, 'x')});
    if (i % 10 == 9) store.sync_log();
  }
  store.sync_log();
}

TEST(WalCheckpointer, CopiesTheWalTheStoreNoLongerCopiesAndTheNextCommitStartsItOver) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("db1.db");
  SqliteStore store(path);
  WalCheckpointer checkpointer(path, 0);
  int reported = 0;
  store.hand_checkpoints_to([&](int pages) { reported = pages; });
  append(store, 1, 1500);
  const uintmax_t grown = wal_bytes(path);
  EXPECT_GT(grown, 1000u * 4096) << "past SQLite's 1,000 pages: the store did not checkpoint";
  EXPECT_GT(reported, 1000) << "and said how large the WAL had grown";

  const auto round = checkpointer.checkpoint_now();
  EXPECT_TRUE(round.ok);
  EXPECT_GT(round.wal_frames, 1000);
  EXPECT_EQ(round.copied_frames, round.wal_frames) << "no reader held it back: all copied";
  EXPECT_EQ(checkpointer.rounds(), 1u);

  append(store, 1501, 10);
  EXPECT_LT(reported, 100) << "the WAL started over";
  EXPECT_LE(wal_bytes(path), 4u << 20) << "started over and cut back to journal_size_limit, was " << grown;
  SqliteStore reopened(path);
  const auto log = reopened.load_log();
  EXPECT_EQ(log.first_index, 1u);
  ASSERT_EQ(log.entries.size(), 1510u);
  EXPECT_EQ(log.entries.back().data, std::string(4096, 'x'));
}

TEST(WalCheckpointer, AStoreLeftToItselfCheckpointsAsBefore) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("db1.db");
  SqliteStore store(path);
  append(store, 1, 1500);
  EXPECT_LE(wal_bytes(path), 4u << 20);
}

// The thread: the store's commits wake it past the threshold, and it keeps the WAL bounded.
// (Joins the thread at the end; waits for it only through the store's own writes.)
TEST(WalCheckpointer, ItsThreadCopiesTheWalOnceTheStoreReportsItPastTheThreshold) {
  oly::testing::TempDir dir;
  const std::string path = dir.file("db1.db");
  SqliteStore store(path);
  uint64_t rounds_seen = 0;
  {
    WalCheckpointer checkpointer(path, 100);
    store.hand_checkpoints_to([&](int pages) { checkpointer.wal_grew(pages); });
    for (uint64_t i = 0; i < 200 && checkpointer.rounds() == 0; ++i) append(store, 1 + 150 * i, 150);
    rounds_seen = checkpointer.rounds();
    store.hand_checkpoints_to([](int) {});
  }
  EXPECT_GE(rounds_seen, 1u) << "woken past 100 pages (each append adds about 150)";
}

TEST(WalCheckpointer, AFileThatCannotBeOpenedIsNamed) {
  oly::testing::TempDir dir;
  try {
    WalCheckpointer c(dir.file("missing/db1.db"), 0);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/db1.db"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace oly::database
