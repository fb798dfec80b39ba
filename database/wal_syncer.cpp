#include "database/wal_syncer.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace oly::database {

WalSyncer::WalSyncer(const std::string& wal_path) : path_(wal_path) {
  wal_fd_ = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (wal_fd_ < 0) throw std::runtime_error("cannot open '" + wal_path + "' to sync it: " + std::strerror(errno));
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    ::close(wal_fd_);
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  ::close(event_fd_);
  ::close(wal_fd_);
}

void WalSyncer::request(uint64_t ticket) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = std::max(requested_, ticket);
  }
  wake_.notify_one();
}

void WalSyncer::check_locked() {
  if (!error_.empty()) throw std::runtime_error("fdatasync of '" + path_ + "': " + error_);
}

uint64_t WalSyncer::synced() {
  std::lock_guard<std::mutex> lock(mu_);
  check_locked();
  return done_;
}

void WalSyncer::sync_now() {
  uint64_t covered = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_locked();
    covered = requested_;
  }
  if (::fdatasync(wal_fd_) != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::strerror(errno);
    check_locked();
  }
  std::lock_guard<std::mutex> lock(mu_);
  done_ = std::max(done_, covered);
}

void WalSyncer::drain() {
  uint64_t n = 0;
  while (::read(event_fd_, &n, sizeof n) == static_cast<ssize_t>(sizeof n)) {
  }
}

void WalSyncer::stall(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point until) {
  std::lock_guard<std::mutex> lock(mu_);
  stall_from_ = from;
  stall_until_ = until;
}

void WalSyncer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || requested_ > done_; });
    if (stop_) return;
    const uint64_t target = requested_;
    const auto now = std::chrono::steady_clock::now();
    if (now >= stall_from_ && now < stall_until_) {
      // The test hook's stall: this sync ends with it (or when the syncer stops).
      if (wake_.wait_until(lock, stall_until_, [this] { return stop_; })) return;
    }
    lock.unlock();
    const int rc = ::fdatasync(wal_fd_);
    const int err = errno;
    lock.lock();
    if (rc != 0 && error_.empty()) error_ = std::strerror(err);
    if (rc == 0) done_ = std::max(done_, target);
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(event_fd_, &one, sizeof one);
    if (rc != 0) wake_.wait(lock, [this] { return stop_; });  // failed for good: nothing more to do
    if (stop_) return;
  }
}

}  // namespace oly::database
