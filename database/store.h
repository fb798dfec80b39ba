// The database tier's storage: rows of scores, medal tallies, the master (epoch) row, the
// publishers' dedup state, the log of applied updates and the tablet registry.
//
// Store is a plain storage API: it reads and writes rows and knows nothing of fencing, dedup or
// versions (DatabaseCore decides those). A read of a row that was never written gives that row
// at zero (all counts 0, version 0), never an error: which events and teams exist is the core's
// business, from the config.
//
// Transactions: begin() opens one, commit() makes everything written since durable, rollback()
// discards it. Reads inside a transaction see its own uncommitted writes. Writes outside a
// transaction are each committed on their own.
//
// Errors: every method may throw std::runtime_error whose what() carries the storage engine's
// error text (disk full, I/O error, database locked...). After a throw inside a transaction the
// caller must rollback() and treat everything written in it as lost.
//
// Thread-safety: none; one thread per Store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"

namespace oly::database {

// How many of a publisher's latest seqs the exactly-once record keeps: a resend of one of them is
// answered with its stored result; an older one gets stale_seq. A publisher keeps far fewer
// unacknowledged (Cacofonix: cacofonix.window, at most 8192), and the bound keeps the replicated
// state, and so each snapshot, from growing with the run.
inline constexpr uint64_t kExactlyOnceWindow = 16384;
// The record is pruned when a seq that is a multiple of this is applied (a function of the seq
// alone, so every replica prunes alike): it holds the last kExactlyOnceWindow seqs and at most
// this many - 1 more. One DELETE per 64 updates instead of one per update.
inline constexpr uint64_t kExactlyOncePruneEvery = 64;

// One applied update, as recorded in the `applied` log: enough to answer a resent duplicate with
// the stored result, and for the checker to replay what the database accepted.
struct AppliedUpdate {
  std::string publisher;
  uint64_t seq = 0;
  std::string key;              // Key::str(): "score/<event>" or "tally/<team>"
  uint64_t version = 0;         // the key's version after this update
  std::string op;               // "set_score" or "increment_medal_tally"
  int64_t committed_at_us = 0;  // monotonic time (clock.h to_us) at which it was applied
  int64_t gauls = 0;            // set_score: the new score; 0 otherwise
  int64_t romans = 0;
  std::string medal;  // increment_medal_tally: the medal kind; "" otherwise
  bool operator==(const AppliedUpdate&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // REQUIRES: no transaction is open.
  virtual void begin() = 0;
  // REQUIRES: a transaction is open. On a throw the transaction is still open (or was
  // aborted by the engine): call rollback().
  virtual void commit() = 0;
  // Discards the open transaction; does nothing when none is open. Never leaves one open.
  virtual void rollback() = 0;

  // The score row of `event`, or {event, 0, 0, version 0, updated_at 0} when absent.
  virtual Score score(const std::string& event) = 0;
  // Inserts or replaces the row of s.event.
  virtual void put_score(const Score& s) = 0;
  // The tally row of `team`, or {team, 0, 0, 0, version 0} when absent.
  virtual Tally tally(const std::string& team) = 0;
  // Inserts or replaces the row of t.team.
  virtual void put_tally(const Tally& t) = 0;
  // Every stored row, ordered by event / team name.
  virtual std::vector<Score> scores() = 0;
  virtual std::vector<Tally> tallies() = 0;

  // The master row, or {"", 0} before anyone claimed.
  virtual MasterInfo master() = 0;
  virtual void set_master(const MasterInfo& m) = 0;

  // The last seq applied for `publisher`, 0 when it never had one applied.
  virtual uint64_t last_seq(const std::string& publisher) = 0;
  virtual void set_last_seq(const std::string& publisher, uint64_t seq) = 0;
  // Records `u`: in the exactly-once record (state, replicated), where the updates of a
  // publisher older than its last kExactlyOnceWindow seqs are dropped, and in the history (not
  // state: kept by this store, never replicated nor cleared). Throws when (publisher, seq) is
  // already in the record.
  virtual void record_applied(const AppliedUpdate& u) = 0;
  // The applied update (publisher, seq), if it is in the exactly-once record.
  virtual std::optional<AppliedUpdate> applied(const std::string& publisher, uint64_t seq) = 0;
  // The history: every update this store ever applied, ordered by commit time (for the checker
  // and the simulations). A replica that installed a snapshot lacks the updates before it.
  virtual std::vector<AppliedUpdate> applied_log() = 0;
  // The play-by-play of raft mode and the single database (get_feed): the latest `limit` updates
  // of the replicated record (a publisher's last kExactlyOnceWindow), in the order applied, only
  // `key`'s when it is not empty, only those committed after `after_us`; oldest first.
  virtual std::vector<AppliedUpdate> recent_applied(const std::string& key, int64_t after_us, size_t limit) = 0;

  // The home front end of `tablet`, if it has one.
  virtual std::optional<std::string> home(const std::string& tablet) = 0;
  // Inserts or replaces the home of `tablet`.
  virtual void set_home(const std::string& tablet, const std::string& frontend) = 0;
  // How many tablets have `frontend` as their home.
  virtual int64_t home_count(const std::string& frontend) = 0;
  // The registry ordered by tablet, all of it or only the tablets whose home is `*home`.
  virtual std::vector<RegistryEntry> registry(const std::optional<std::string>& home) = 0;

  // The key-value store (docs/kvstore.md): the value of `key`, if it has one.
  virtual std::optional<std::string> kv_get(const std::string& key) = 0;
  // Inserts or replaces the value of `key`.
  virtual void kv_put(const std::string& key, const std::string& value) = 0;
  // The bytes of every stored key and value together.
  virtual int64_t kv_bytes() = 0;
};

}  // namespace oly::database
