// WalCheckpointer: copies a SQLite file's write-ahead log back into the file from a thread of its
// own, so that the replica's loop never does it.
//
// In WAL mode every commit appends pages to <file>-wal; by default the committing connection
// itself copies them into the file (a checkpoint, with its own syncs) once the WAL passes 1,000
// pages, which stalls whatever that commit was part of: on a replica, a write's ack. With a
// WalCheckpointer the store's connection does no checkpoint: it reports the WAL's size after each
// commit (SqliteStore::hand_checkpoints_to(wal_grew)), and once that reaches `pages` this one,
// on its own connection and thread, runs a PASSIVE checkpoint. That never takes the writer's
// lock, so the loop keeps committing meanwhile, and once everything has been copied the next
// commit starts the WAL over (cut back to journal_size_limit).
//
// checkpoint_now() does one round in the caller's thread (tests). Failures of a round are
// logged once and retried when the WAL next grows; they lose nothing (the WAL keeps the pages
// until a checkpoint copies them).
//
// Thread-safety: wal_grew() may be called from any thread. The constructor starts the thread
// (unless `pages` is zero: then rounds run only when checkpoint_now() is called) and the
// destructor stops and joins it; its connection is used by that thread only.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace oly::database {

class WalCheckpointer {
 public:
  // Opens `path` (an existing SQLite file in WAL mode; throws std::runtime_error naming it when
  // it cannot) and, unless `pages` is zero, checkpoints it on a thread whenever wal_grew() has
  // reported at least `pages` pages.
  WalCheckpointer(const std::string& path, int pages);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // The WAL holds `pages` pages after a commit.
  void wal_grew(int pages);

  struct Round {
    bool ok = false;
    int wal_frames = 0;     // frames in the WAL when the round ran
    int copied_frames = 0;  // of those, frames now in the file
  };
  Round checkpoint_now();
  uint64_t rounds() const { return rounds_.load(); }

 private:
  void run();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  const int threshold_;
  int pages_ = 0;  // as last reported
  bool stop_ = false;
  bool warned_ = false;
  std::atomic<uint64_t> rounds_{0};
  std::thread thread_;
};

}  // namespace oly::database
