// MemoryLogStore: a LogStore in memory whose "disk" keeps only what was synced, for tests of the
// consensus engine: crash() drops every write since the last sync_log(), as a kill -9 would,
// fail_syncs(true) makes every sync throw, as a failing disk would, and before_sync lets a test
// look at the engine just before a sync.
//
// Thread-safety: none.
#pragma once

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
  }

  void crash() { dirty_ = false; }
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
  State synced_;
  State pending_;
  bool dirty_ = false;
  bool fail_ = false;
  uint64_t syncs_ = 0;
};

}  // namespace oly::consensus
