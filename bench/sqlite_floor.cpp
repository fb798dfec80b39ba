// bench_sqlite_floor: the storage floor of the update path, raw SQLite with the database tier's
// durability, no network, no messages.
//
// For each batch size B it opens a fresh file DIR/floor-B.db exactly as SqliteStore does
// (journal_mode=WAL, synchronous=FULL, busy timeout, the same schema) and applies updates the way
// the database's state machine applies one (database/state_machine.cpp, `update`), with the same
// SQL text as database/sqlite_store.cpp: read the master row, read the publisher's last_seq, read
// the key's row, INSERT OR REPLACE the score (or tally) row with version + 1, INSERT the
// `applied` row, INSERT OR REPLACE the publisher's last_seq. B updates go into one BEGIN
// IMMEDIATE ... COMMIT, as DatabaseCore's group commit does. The mix is the random feed's: mostly
// set_score over the config's events, one increment_medal_tally in eight.
//
// It stops after --count updates or --seconds, whichever comes first, and prints one line per
// batch size:
//   batch=B updates=N seconds=S updates_per_s=R commit_p50_us=.. commit_p99_us=..
//   batch_p50_us=.. batch_p99_us=..
// commit_* times the COMMIT alone (the fsync of the WAL), batch_* the whole transaction.
// Exit status 1 on an SQLite error (with its text), 2 on a bad flag.
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/config.h"
#include "common/config_file.h"
#include "common/key.h"

namespace {

// database/sqlite_store.cpp's schema and statements, verbatim.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS scores(
  event TEXT PRIMARY KEY, gauls INTEGER NOT NULL, romans INTEGER NOT NULL,
  version INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tallies(
  team TEXT PRIMARY KEY, gold INTEGER NOT NULL, silver INTEGER NOT NULL, bronze INTEGER NOT NULL,
  version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS master(
  id INTEGER PRIMARY KEY CHECK (id = 0), frontend TEXT NOT NULL, epoch INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS publishers(publisher TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS applied(
  publisher TEXT NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
  op TEXT NOT NULL, committed_at_us INTEGER NOT NULL,
  gauls INTEGER NOT NULL, romans INTEGER NOT NULL, medal TEXT NOT NULL,
  PRIMARY KEY (publisher, seq));
CREATE INDEX IF NOT EXISTS applied_by_key ON applied(key, version);
CREATE TABLE IF NOT EXISTS registry(tablet TEXT PRIMARY KEY, home TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS registry_by_home ON registry(home);
)sql";
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kGetMaster = "SELECT frontend, epoch FROM master WHERE id = 0";
constexpr const char* kSetMaster = "INSERT OR REPLACE INTO master(id, frontend, epoch) VALUES (0, ?, ?)";
constexpr const char* kLastSeq = "SELECT last_seq FROM publishers WHERE publisher = ?";
constexpr const char* kSetLastSeq = "INSERT OR REPLACE INTO publishers(publisher, last_seq) VALUES (?, ?)";
constexpr const char* kGetScore = "SELECT event, gauls, romans, version, updated_at FROM scores WHERE event = ?";
constexpr const char* kPutScore =
    "INSERT OR REPLACE INTO scores(event, gauls, romans, version, updated_at) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kGetTally = "SELECT team, gold, silver, bronze, version FROM tallies WHERE team = ?";
constexpr const char* kPutTally =
    "INSERT OR REPLACE INTO tallies(team, gold, silver, bronze, version) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kRecordApplied =
    "INSERT INTO applied(publisher, seq, key, version, op, committed_at_us, gauls, romans, medal) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

using Clock = std::chrono::steady_clock;

int64_t us_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

// One SQLite connection with cached prepared statements; every error throws with SQLite's text.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      fail("open " + path);
    }
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec(kSchema);
  }
  ~Db() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }

  // Binds `args` (int64_t or std::string) to `sql`, steps it once and calls `row(stmt)` if a
  // row came back; the statement is reset afterwards. run() is query() without a row.
  template <class Row, class... Args>
  void query(const char* sql, Row row, const Args&... args) {
    sqlite3_stmt* s = statement(sql);
    int i = 0;
    (bind(s, ++i, args), ...);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) row(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(sql);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  template <class... Args>
  void run(const char* sql, const Args&... args) {
    query(sql, [](sqlite3_stmt*) {}, args...);
  }

 private:
  sqlite3_stmt* statement(const char* sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) fail(sql);
    return statements_.emplace(sql, s).first->second;
  }
  void bind(sqlite3_stmt* s, int i, int64_t v) {
    if (sqlite3_bind_int64(s, i, v) != SQLITE_OK) fail("bind");
  }
  void bind(sqlite3_stmt* s, int i, const std::string& v) {
    if (sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK) fail("bind");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("sqlite: " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }

  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> statements_;
};

std::string text(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, col))) : "";
}

// What the database's StateMachine does for one applied update of `publisher` with sequence number `seq`.
void apply_one(Db& db, const std::vector<std::string>& events, const std::string& publisher, int64_t seq) {
  int64_t epoch = 0;
  db.query(kGetMaster, [&](sqlite3_stmt* s) { epoch = sqlite3_column_int64(s, 1); });
  if (epoch != 1) throw std::runtime_error("master row lost");
  int64_t last = 0;
  db.query(kLastSeq, [&](sqlite3_stmt* s) { last = sqlite3_column_int64(s, 0); }, publisher);
  if (last != seq - 1) throw std::runtime_error("seq out of order");
  const int64_t now_us = us_since(Clock::time_point{});
  int64_t version = 0;
  std::string key, op, medal;
  int64_t gauls = 0, romans = 0;
  if (seq % 8 == 0) {  // increment_medal_tally
    const std::string& team = oly::teams()[static_cast<size_t>(seq / 8) % oly::teams().size()];
    const std::string& kind = oly::medals()[static_cast<size_t>(seq / 16) % oly::medals().size()];
    int64_t counts[3] = {0, 0, 0};
    db.query(kGetTally, [&](sqlite3_stmt* s) {
      for (int i = 0; i < 3; ++i) counts[i] = sqlite3_column_int64(s, i + 1);
      version = sqlite3_column_int64(s, 4);
    }, team);
    ++counts[kind == "gold" ? 0 : kind == "silver" ? 1 : 2];
    ++version;
    db.run(kPutTally, team, counts[0], counts[1], counts[2], version);
    key = oly::Key::tally(team).str();
    op = "increment_medal_tally";
    medal = kind;
  } else {  // set_score
    const std::string& event = events[static_cast<size_t>(seq * 7) % events.size()];
    std::string name;
    db.query(kGetScore, [&](sqlite3_stmt* s) {
      name = text(s, 0);
      gauls = sqlite3_column_int64(s, 1);
      romans = sqlite3_column_int64(s, 2);
      version = sqlite3_column_int64(s, 3);
    }, event);
    (seq % 2 ? gauls : romans) += 1;
    ++version;
    db.run(kPutScore, event, gauls, romans, version, now_us / 1000);
    key = oly::Key::score(event).str();
    op = "set_score";
  }
  db.run(kRecordApplied, publisher, seq, key, version, op, now_us, gauls, romans, medal);
  db.run(kSetLastSeq, publisher, seq);
}

int64_t percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Runs one batch size on a fresh file and prints its line.
void run_batch(const std::string& dir, const std::vector<std::string>& events, int64_t batch, int64_t count,
               double seconds) {
  const std::string path = dir + "/floor-" + std::to_string(batch) + ".db";
  remove_db(path);
  int64_t done = 0;
  std::vector<int64_t> commit_us, batch_us;
  double elapsed = 0;
  {
    Db db(path);
    db.run(kSetMaster, std::string("fe1"), int64_t{1});
    const std::string publisher = "cacofonix-floor";
    const auto start = Clock::now();
    const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (done < count && Clock::now() - start < limit) {
      const auto t0 = Clock::now();
      db.run(kBegin);
      const int64_t n = std::min(batch, count - done);
      for (int64_t i = 0; i < n; ++i) apply_one(db, events, publisher, done + i + 1);
      const auto t1 = Clock::now();
      db.run(kCommit);
      commit_us.push_back(us_since(t1));
      batch_us.push_back(us_since(t0));
      done += n;
    }
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  remove_db(path);
  std::printf(
      "batch=%lld updates=%lld seconds=%.3f updates_per_s=%.0f commit_p50_us=%lld commit_p99_us=%lld "
      "batch_p50_us=%lld batch_p99_us=%lld\n",
      static_cast<long long>(batch), static_cast<long long>(done), elapsed, static_cast<double>(done) / elapsed,
      static_cast<long long>(percentile(commit_us, 0.50)), static_cast<long long>(percentile(commit_us, 0.99)),
      static_cast<long long>(percentile(batch_us, 0.50)), static_cast<long long>(percentile(batch_us, 0.99)));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_sqlite_floor: raw SQLite doing the database tier's per-update statements in batches"};
  std::string dir = ".";
  std::string config_path = "config/cluster.yaml";
  std::vector<int64_t> batches{1, 64, 256, 1024};
  int64_t count = 200000;
  double seconds = 5;
  app.add_option("--dir", dir, "directory for the SQLite files (same file system as the run dir)")
      ->capture_default_str();
  app.add_option("--config", config_path, "config whose events are updated")->capture_default_str();
  app.add_option("--batch", batches, "updates per transaction; repeat or comma-separate for several runs")
      ->delimiter(',')
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  app.add_option("--count", count, "updates per batch size at most")->check(oly::cli::kPositive)->capture_default_str();
  app.add_option("--seconds", seconds, "seconds per batch size at most")->check(oly::cli::kPositive)->capture_default_str();
  if (const auto rc = oly::cli::parse(app, argc, argv, "bench_sqlite_floor")) return *rc;

  try {
    const oly::Config cfg = oly::load_config(config_path);
    std::filesystem::create_directories(dir);
    for (const int64_t b : batches) run_batch(dir, cfg.events, b, count, seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
