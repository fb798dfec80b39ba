// MemoryLogStore: a LogStore in memory whose "disk" keeps only what was synced, for tests of the
// consensus engine: crash() drops every write since the last sync_log(), as a kill -9 would,
// fail_syncs(true) makes every sync throw, as a failing disk would, and before_sync lets a test
// look at the engine just before a sync. With set_sync_delay(d), start_sync() is a background sync
// that becomes durable d after it started (in the caller's time); crash() loses it until then.
//
// Thread-safety: none.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <stdexcept>

#include "consensus/log_store.h"

namespace oly::consensus {

class MemoryLogStore final : public LogStore {
 public:
  StoredLog load_log() override {
    StoredLog out;
    out.term = synced_.term;
    out.vote = synced_.vote;
    out.snapshot = synced_.snapshot;
    if (!synced_.entries.empty()) out.first_index = synced_.entries.begin()->first;
    for (const auto& [index, e] : synced_.entries) out.entries.push_back(e);
    return out;
  }
  void set_term_vote(uint64_t term, uint64_t vote) override {
    open().term = term;
    open().vote = vote;
  }
  void append_entry(uint64_t index, const LogEntry& entry) override { open().entries[index] = entry; }
  void truncate_log(uint64_t index) override {
    auto& e = open().entries;
    e.erase(e.lower_bound(index), e.end());
  }
  void put_snapshot(const StoredSnapshot& snapshot, uint64_t keep_from) override {
    open().snapshot = snapshot;
    auto& e = open().entries;
    e.erase(e.begin(), e.lower_bound(keep_from));
  }
  std::optional<StoredSnapshot> snapshot() override { return (dirty_ ? pending_ : synced_).snapshot; }
  void sync_log() override {
    if (before_sync) before_sync();
    if (fail_) throw std::runtime_error("sync failed: injected disk error");
    if (dirty_) synced_ = pending_;
    dirty_ = false;
    ++syncs_;
    if (!in_flight_.empty()) synced_ticket_ = in_flight_.back().ticket;
    in_flight_.clear();
  }
  uint64_t start_sync(TimePoint now) override {
    if (delay_ == Duration::zero()) {
      sync_log();
      synced_ticket_ = ++tickets_;
      return tickets_;
    }
    if (before_sync) before_sync();
    if (fail_) throw std::runtime_error("sync failed: injected disk error");
    in_flight_.push_back({++tickets_, now + delay_, dirty_ ? pending_ : synced_});
    return tickets_;
  }
  uint64_t synced(TimePoint now) override {
    while (!in_flight_.empty() && in_flight_.front().ready <= now) {
      synced_ = std::move(in_flight_.front().state);
      synced_ticket_ = in_flight_.front().ticket;
      in_flight_.pop_front();
      ++syncs_;
    }
    return synced_ticket_;
  }
  TimePoint next_synced() const override { return in_flight_.empty() ? TimePoint::max() : in_flight_.front().ready; }
  void set_sync_delay(Duration d) { delay_ = d; }

  void crash() {
    dirty_ = false;
    in_flight_.clear();
  }
  void fail_syncs(bool fail) { fail_ = fail; }
  uint64_t syncs() const { return syncs_; }
  size_t entries_on_disk() const { return synced_.entries.size(); }
  // The index of the last entry on disk (synced), 0 when none.
  uint64_t last_on_disk() const { return synced_.entries.empty() ? 0 : synced_.entries.rbegin()->first; }
  // Called at the start of every sync_log(), before the writes become durable (tests look at what
  // the engine did while they were not).
  std::function<void()> before_sync;

 private:
  struct State {
    uint64_t term = 0;
    uint64_t vote = 0;
    std::optional<StoredSnapshot> snapshot;
    std::map<uint64_t, LogEntry> entries;
  };
  State& open() {
    if (!dirty_) pending_ = synced_;
    dirty_ = true;
    return pending_;
  }
  struct InFlight {
    uint64_t ticket;
    TimePoint ready;
    State state;
  };
  std::deque<InFlight> in_flight_;
  Duration delay_{};
  uint64_t tickets_ = 0;
  uint64_t synced_ticket_ = 0;
  State synced_;
  State pending_;
  bool dirty_ = false;
  bool fail_ = false;
  uint64_t syncs_ = 0;
};

}  // namespace oly::consensus
