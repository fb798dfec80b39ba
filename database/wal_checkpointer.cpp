#include "database/wal_checkpointer.h"

#include <sqlite3.h>

#include <stdexcept>

#include "common/log.h"

namespace oly::database {

WalCheckpointer::WalCheckpointer(const std::string& path, int pages) : path_(path), threshold_(pages) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close_v2(db_);
    throw std::runtime_error("cannot open database '" + path + "' to checkpoint it: " + why);
  }
  sqlite3_busy_timeout(db_, 100);
  // A new connection reads the file (and learns it is in WAL mode) only at its first statement.
  char* err = nullptr;
  if (sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    sqlite3_close_v2(db_);
    throw std::runtime_error("cannot checkpoint database '" + path + "': " + why);
  }
  if (threshold_ > 0) thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  sqlite3_close_v2(db_);
}

WalCheckpointer::Round WalCheckpointer::checkpoint_now() {
  Round r;
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &r.wal_frames, &r.copied_frames);
  ++rounds_;
  // Busy: another checkpoint (a tool's) runs; the next round tries again. -1 frames: not in WAL mode.
  r.ok = (rc == SQLITE_OK || rc == SQLITE_BUSY) && r.wal_frames >= 0;
  if (!r.ok && !warned_) {
    warned_ = true;
    spdlog::warn("checkpoint of {} failed: {} (retried every round; further failures are not logged)", path_,
                 sqlite3_errmsg(db_));
  }
  return r;
}

void WalCheckpointer::wal_grew(int pages) {
  bool due = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = threshold_ > 0 && pages >= threshold_ && pages_ < threshold_;
    pages_ = pages;
  }
  if (due) wake_.notify_one();
}

void WalCheckpointer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || pages_ >= threshold_; });
    if (stop_) return;
    pages_ = 0;  // until the store reports again: a round that copied nothing waits for more
    lock.unlock();
    checkpoint_now();
    lock.lock();
  }
}

}  // namespace oly::database
