// LogStore: the durable half of a Raft replica (its term, vote, log entries and latest snapshot),
// as the consensus engine (consensus.h) needs it.
//
// Writes are buffered by the store until sync_log(), which makes all of them durable at once (one
// transaction, one fsync); the engine fires no completion before the sync that covers it, so
// what a crash loses is exactly what was never acknowledged. A store may share its transaction
// with other writes (the database's replicated state, whose rows are rebuilt from the snapshot
// and the log at every start and so need not be durable themselves).
//
// A store may also sync in the background (start_sync / synced): the engine then goes on while
// the disk works, and fires the completions a sync covers only once synced() says it is done.
// The default is a store that syncs at once, in start_sync itself.
//
// Indexes are Raft log indexes (the first entry is 1). The entries kept are contiguous: from
// first_index() up to the last appended.
//
// Errors: every method may throw std::runtime_error naming what failed (disk full, I/O error).
// The engine treats any throw as a crash of the replica (it stops; see Consensus::failed()).
//
// Thread-safety: none; one thread (a store that syncs in the background does so on a thread of
// its own, behind these methods).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace oly::consensus {

struct LogEntry {
  uint64_t term = 0;
  int type = 0;      // RAFT_COMMAND, RAFT_BARRIER or RAFT_CHANGE (raft.h)
  std::string data;  // the entry's payload, as libraft gave it
  bool operator==(const LogEntry&) const = default;
};

// A member of the replica group, as a snapshot records it.
struct StoredMember {
  uint64_t id = 0;
  std::string address;  // the member's endpoint name
  int role = 0;         // RAFT_VOTER, RAFT_STANDBY or RAFT_SPARE
  bool operator==(const StoredMember&) const = default;
};

struct StoredSnapshot {
  uint64_t index = 0;  // the last entry the snapshot includes
  uint64_t term = 0;   // its term
  std::vector<StoredMember> configuration;  // the configuration as of `index`
  uint64_t configuration_index = 0;         // the index at which it was committed
  std::string data;                         // the state machine's snapshot
  bool operator==(const StoredSnapshot&) const = default;
};

// Everything a replica has on disk, read once at start.
struct StoredLog {
  uint64_t term = 0;
  uint64_t vote = 0;  // 0: no vote in `term`
  std::optional<StoredSnapshot> snapshot;
  uint64_t first_index = 1;        // index of entries[0]
  std::vector<LogEntry> entries;   // contiguous, in index order
};

class LogStore {
 public:
  virtual ~LogStore() = default;

  virtual StoredLog load_log() = 0;
  // Term and vote (vote 0: none).
  virtual void set_term_vote(uint64_t term, uint64_t vote) = 0;
  // Stores `entry` at `index`, replacing an entry of that index if one is there.
  virtual void append_entry(uint64_t index, const LogEntry& entry) = 0;
  // Deletes every entry of index >= `index`.
  virtual void truncate_log(uint64_t index) = 0;
  // Replaces the snapshot by `snapshot` and deletes every entry of index < `keep_from`.
  virtual void put_snapshot(const StoredSnapshot& snapshot, uint64_t keep_from) = 0;
  // The latest snapshot, if any (reads what was written, synced or not).
  virtual std::optional<StoredSnapshot> snapshot() = 0;
  // Makes every write since the last sync durable, those of background syncs still running
  // included (their tickets may be reported by synced() only later).
  virtual void sync_log() = 0;

  // Starts making every write so far durable without waiting for it; returns the sync's ticket,
  // greater than every earlier one. `now` is the caller's time (a simulated disk uses it).
  virtual uint64_t start_sync(TimePoint now) {
    (void)now;
    sync_log();
    return ++tickets_;
  }
  // The latest ticket whose writes are durable (every earlier ticket's are too).
  virtual uint64_t synced(TimePoint now) {
    (void)now;
    return tickets_;
  }
  // When synced() next advances if the store knows it (a simulated disk); TimePoint::max() when
  // it does not: a store syncing on a thread of its own wakes its caller's loop itself.
  virtual TimePoint next_synced() const { return TimePoint::max(); }

 private:
  uint64_t tickets_ = 0;
};

}  // namespace oly::consensus
