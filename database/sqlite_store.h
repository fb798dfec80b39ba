// Store over one SQLite file.
//
// The file is opened (and created with its tables when new) in WAL mode with synchronous=FULL,
// so a committed transaction survives kill -9 of the process and a power cut; a busy timeout
// lets another connection's short lock (a tool reading the file) wait instead of failing.
// The path ":memory:" gives a private in-memory database, for tests.
//
// Tables: scores(event), tallies(team), master (one row), publishers(publisher -> last_seq),
// applied(publisher, seq, key, version, op, committed_at_us, gauls, romans, medal) indexed by
// (publisher, seq) and (key, version), registry(tablet -> home) indexed by home, kv(key -> value)
// (the key-value store, docs/kvstore.md); gossip mode's own: gossip_log, gossip_clock, gossip_feed,
// gossip_members, gossip_writers (below).
//
// Errors: the constructor and every method throw std::runtime_error carrying SQLite's error text
// and what was being done, e.g. "sqlite: COMMIT: disk I/O error"; the constructor's also names
// the file: "cannot open database 'run/olympics.db': sqlite: PRAGMA journal_mode=WAL: file is not a
// database".
//
// Thread-safety: none; one thread per SqliteStore.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "consensus/log_store.h"
#include "database/store.h"
#include "database/wal_syncer.h"

struct sqlite3;
struct sqlite3_stmt;

namespace oly::database {

// Gossip mode: a member of the tier as a replica's file keeps it.
struct GossipMember {
  std::string id;
  std::string address;
  bool removed = false;
  bool operator==(const GossipMember&) const = default;
};

// Gossip mode: the set_score an event's score holds, by its rank among concurrent writes: the
// greatest (written_at_us, publisher, seq) applied wins (docs/gossip.md, "Concurrent writers").
struct ScoreWriter {
  int64_t written_at_us = 0;
  std::string publisher;
  uint64_t seq = 0;
  auto operator<=>(const ScoreWriter&) const = default;
};

class SqliteStore final : public Store, public consensus::LogStore {
 public:
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;  // an open transaction is rolled back
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void begin() override;
  void commit() override;
  void rollback() override;

  Score score(const std::string& event) override;
  void put_score(const Score& s) override;
  Tally tally(const std::string& team) override;
  void put_tally(const Tally& t) override;
  std::vector<Score> scores() override;
  std::vector<Tally> tallies() override;

  MasterInfo master() override;
  void set_master(const MasterInfo& m) override;

  uint64_t last_seq(const std::string& publisher) override;
  void set_last_seq(const std::string& publisher, uint64_t seq) override;
  void record_applied(const AppliedUpdate& u) override;
  std::optional<AppliedUpdate> applied(const std::string& publisher, uint64_t seq) override;
  std::vector<AppliedUpdate> applied_log() override;
  // The same history in the order this replica recorded it: in gossip mode, the order it applied
  // them (which differs between replicas when publishers write at once).
  std::vector<AppliedUpdate> applied_in_record_order();
  std::vector<AppliedUpdate> recent_applied(const std::string& key, int64_t after_us, size_t limit) override;

  std::optional<std::string> home(const std::string& tablet) override;
  void set_home(const std::string& tablet, const std::string& frontend) override;
  int64_t home_count(const std::string& frontend) override;
  std::vector<RegistryEntry> registry(const std::optional<std::string>& home) override;

  std::optional<std::string> kv_get(const std::string& key) override;
  void kv_put(const std::string& key, const std::string& value) override;
  int64_t kv_bytes() override;

  // Keep only the last `rows` updates of the history (0, the default: all of it); older ones are
  // deleted as new ones come, in steps of kHistoryPruneEvery.
  void set_history_keep(uint64_t rows) { history_keep_ = rows; }
  static constexpr uint64_t kHistoryPruneEvery = 1024;

  // From now on this connection no longer copies the WAL back into the file itself when a commit
  // takes it past 1,000 pages (SQLite's default): after each commit it calls `wal_grew` with the
  // WAL's size in pages instead, for a WalCheckpointer to do it elsewhere.
  void hand_checkpoints_to(std::function<void(int pages)> wal_grew);

  bool in_transaction() const;

  // Gossip mode (gossip/replica_core.h), outside the replicated state: the replica's update log,
  // each entry as opaque bytes under (origin, origin_seq), and its clock, written in the open
  // transaction; and every publisher's last applied seq.
  void gossip_put(const std::string& origin, uint64_t origin_seq, std::string_view entry);
  void gossip_drop(const std::string& origin, uint64_t origin_seq);
  std::vector<std::string> gossip_entries();  // by (origin, origin_seq)
  void gossip_set_clock(const std::string& origin, uint64_t n);
  std::map<std::string, uint64_t> gossip_clock();
  std::map<std::string, uint64_t> last_seqs();
  // Gossip mode: the feed (get_feed), each item as opaque bytes under its update's (publisher,
  // seq), ordered by (at, origin, origin_seq); feed_prune keeps the `keep` last in that order.
  void feed_put(const std::string& publisher, uint64_t seq, uint64_t at, const std::string& origin, uint64_t origin_seq,
                std::string_view item);
  void feed_prune(uint64_t keep);
  std::vector<std::string> feed_items();  // in feed order
  // Gossip mode: the replicas that joined the tier at run time, and those removed from it (a
  // config's replica too), by id; INSERT OR REPLACE.
  void gossip_put_member(const GossipMember& m);
  std::vector<GossipMember> gossip_members();
  // Gossip mode: the writer of each event's score (none before its first set_score here).
  std::optional<ScoreWriter> score_writer(const std::string& event);
  void put_score_writer(const std::string& event, const ScoreWriter& w);
  // Gossip mode: a copy of everything a replica holds (the replicated state's tables and the
  // gossip tables above), in state_dump's form, for a replica joining the tier; restore_gossip
  // replaces this replica's with one, in the open transaction (throws std::runtime_error
  // "gossip state: ..." or "snapshot: ..." on a malformed copy, the transaction then to be rolled back).
  std::string gossip_dump();
  void restore_gossip(const std::string& dump);
  // A replica's transactions are of two kinds, never mixed: the log's (synchronous=FULL: its
  // commit, sync_log(), waits for the disk) and the applied state's (synchronous=NORMAL: its
  // commit, commit_unsynced(), does not; the log rebuilds the state after a crash). begin_state()
  // opens a state transaction unless one is open, committing an open log transaction first; the
  // LogStore methods below do the converse for the log.
  void begin_state();

  // A replica's state (the tables other than the Raft log's and the history), table by table in
  // name order and rows in rowid order, in a compact typed binary form (sqlite_store.cpp): a
  // replica's snapshot, and equal on two replicas that applied the same entries. It runs in the
  // replica's loop, so it is kept cheap: about 10 ms and 1.1 MB for a publisher's 16,384 applied
  // updates. restore_state replaces the state with such a dump (or with the SQL
  // INSERTs that snapshots held before; throws std::runtime_error "snapshot: ..." on a malformed
  // one, the state transaction then to be rolled back); clear_state empties it (a replica
  // rebuilds it from its snapshot and log at every start).
  std::string state_dump();
  void restore_state(const std::string& dump);
  void clear_state();

  // consensus::LogStore: the Raft log in tables raft_meta, raft_log and raft_snapshot of the same
  // file, written in the open transaction (opened if needed); sync_log() commits it.
  consensus::StoredLog load_log() override;
  void set_term_vote(uint64_t term, uint64_t vote) override;
  void append_entry(uint64_t index, const consensus::LogEntry& entry) override;
  void truncate_log(uint64_t index) override;
  void put_snapshot(const consensus::StoredSnapshot& snapshot, uint64_t keep_from) override;
  std::optional<consensus::StoredSnapshot> snapshot() override;
  void sync_log() override;
  // Background syncs (consensus/log_store.h). By default start_sync() syncs at once. After
  // sync_in_background() the log's commits no longer wait for the disk and a WalSyncer thread
  // makes them durable (wal_syncer.h); sync_fd() is then readable whenever a sync ends (-1
  // before). Tests: stall_syncs() makes the background syncs that start in a window of the
  // steady clock wait for its end (a disk that stalls); for a file in memory (the simulation)
  // set_sync_delay() makes each sync durable that long after it started, in the caller's time.
  uint64_t start_sync(TimePoint now) override;
  uint64_t synced(TimePoint now) override;
  TimePoint next_synced() const override;
  void sync_in_background();
  int sync_fd() const;
  void drain_sync_fd();
  void set_sync_delay(Duration d);
  void stall_syncs(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point until);
  // This replica's Raft id, chosen once and kept with its log (0 before one is set). set_raft_id
  // writes it durably at once.
  uint64_t raft_id();
  void set_raft_id(uint64_t id);
  // Commits the open transaction (if any): for a replica's state transaction, without waiting
  // for the disk (see begin_state).
  void commit_unsynced();
  // Test hook: the next sync_log() rolls the open transaction back and throws, as a process
  // killed before its fsync (or a failing disk) loses what it had not synced.
  void fail_next_sync() { fail_next_sync_ = true; }

  // Everything the file holds, as SQL text in the manner of the sqlite3 shell's .dump: the
  // schema (tables, then indexes, by name), then every table's rows by name and in rowid order,
  // one INSERT a row. Two stores with the same dump hold the same rows in the same order, so
  // replicas can be compared with it.
  std::string dump();

 private:
  class Query;
  // The prepared statement for `sql`, prepared once and cached, ready to bind.
  Query query(std::string_view sql);
  // The history table, ORDER BY `order`.
  std::vector<AppliedUpdate> history_by(const char* order);
  // Runs `sql` (one or more statements); errors name `what`, or the SQL when it is empty.
  void exec(const char* sql, std::string_view what = {});
  [[noreturn]] void fail(std::string_view what) const;
  // The dump's body for `tables` (state_dump's form, no magic), and its converse: a table from
  // index `required` on may be missing at the end of `body` (a dump from before it existed).
  std::string dump_tables(const char* const* tables, size_t n);
  void restore_tables(std::string_view body, const char* const* tables, size_t count, size_t required);

  sqlite3* db_ = nullptr;
  std::string path_;
  std::unique_ptr<WalSyncer> syncer_;  // background syncs (sync_in_background)
  Duration sync_delay_{};
  std::deque<std::pair<uint64_t, TimePoint>> delayed_;  // in memory: syncs running, and when done
  uint64_t tickets_ = 0;
  uint64_t synced_ticket_ = 0;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
  bool fail_next_sync_ = false;
  std::function<void(int)> wal_grew_;
  uint64_t history_keep_ = 0;     // 0: keep the whole history
  // kv_bytes(), summed from the table when unknown (at first, and after a rollback, a restore or
  // a clear) and kept up to date by kv_put.
  std::optional<int64_t> kv_bytes_;
  uint64_t since_pruned_ = 0;     // history rows written since the last prune
  enum class Txn { kNone, kLog, kState };
  Txn open_ = Txn::kNone;  // the kind of the open transaction (kNone: none, or one begun by begin())
  void begin_kind(Txn kind);
  // Commits the open transaction (the log's writes) without a sync, or throws the test hook's
  // injected failure (fail_next_sync).
  void commit_log();
};

}  // namespace oly::database
