// WalSyncer: makes a SQLite file's write-ahead log durable from a thread of its own, so that a
// replica's loop never waits for its disk (consensus.h: the leader's background syncs).
//
// How it is durable: the store commits the log's transactions without a sync
// (synchronous=NORMAL, which only appends to <file>-wal), then asks for one here. The thread runs
// fdatasync on its own descriptor of <file>-wal; once that returns, every frame appended before
// the request is on the disk, and SQLite's recovery finds those transactions after a crash. A
// checkpoint that copies frames into the file first (WalCheckpointer) syncs the file before the
// WAL is started over, so frames it moved stay durable too.
//
// request(t) asks for a sync covering every write so far, reported as ticket t; synced() is the
// latest ticket done. sync_now() syncs in the caller's thread (a synchronous sync of the store):
// every ticket asked for before it is then done. fd() is an eventfd that becomes readable each
// time a background sync ends, for the loop to wait on (it reads it empty: drain()).
//
// Errors: the constructor throws std::runtime_error when the WAL cannot be opened; a failed
// fdatasync is kept, and synced() and sync_now() then throw, naming it (the replica stops).
//
// Thread-safety: request(), synced(), sync_now() and drain() from the loop's thread; the sync
// thread is started by the constructor and joined by the destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"

namespace oly::database {

class WalSyncer {
 public:
  explicit WalSyncer(const std::string& wal_path);
  ~WalSyncer();
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  void request(uint64_t ticket);
  uint64_t synced();
  void sync_now();
  int fd() const { return event_fd_; }
  void drain();
  // Test hook (a disk that stalls): a background sync that starts in [from, until) of the steady
  // clock waits until `until` before its fdatasync.
  void stall(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point until);

 private:
  void run();
  void check_locked();

  std::string path_;
  int wal_fd_ = -1;
  int event_fd_ = -1;
  std::mutex mu_;
  std::condition_variable wake_;
  uint64_t requested_ = 0;
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point stall_from_{}, stall_until_{};
  std::string error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace oly::database
