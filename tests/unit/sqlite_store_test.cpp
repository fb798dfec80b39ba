// SqliteStore on its own: row round trips, absent rows, transactions and error reporting.
#include "database/sqlite_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "tests/support/process.h"

namespace oly::database {
namespace {

TEST(SqliteStore, AbsentRowsReadAsZeroWithVersionZero) {
  SqliteStore store(":memory:");
  EXPECT_EQ(store.score("Curling"), (Score{"Curling", 0, 0, 0, 0}));
  EXPECT_EQ(store.tally("Gauls"), (Tally{"Gauls", 0, 0, 0, 0}));
  EXPECT_EQ(store.master().epoch, 0u);
  EXPECT_EQ(store.master().frontend, "");
  EXPECT_EQ(store.last_seq("caco"), 0u);
  EXPECT_FALSE(store.applied("caco", 1).has_value());
  EXPECT_FALSE(store.home("t1").has_value());
  EXPECT_TRUE(store.scores().empty());
}

TEST(SqliteStore, RowsReadBackAsWritten) {
  SqliteStore store(":memory:");
  store.put_score({"Skiing", 3, 2, 7, 1700000000123});
  store.put_score({"Curling", 1, 0, 1, 5});
  store.put_tally({"Romans", 1, 2, 3, 6});
  store.set_master({"fe2", 4, {}});
  store.set_last_seq("caco", 9);
  const AppliedUpdate u{"caco", 9, "tally/Romans", 6, "increment_medal_tally", 123456,
                        0,      0, "bronze"};
  store.record_applied(u);

  EXPECT_EQ(store.score("Skiing"), (Score{"Skiing", 3, 2, 7, 1700000000123}));
  EXPECT_EQ(store.tally("Romans"), (Tally{"Romans", 1, 2, 3, 6}));
  EXPECT_EQ(store.master().frontend, "fe2");
  EXPECT_EQ(store.master().epoch, 4u);
  EXPECT_EQ(store.last_seq("caco"), 9u);
  EXPECT_EQ(store.applied("caco", 9), u);
  ASSERT_EQ(store.scores().size(), 2u);
  EXPECT_EQ(store.scores()[0].event, "Curling");  // ordered by name
}

TEST(SqliteStore, DumpGivesTheSchemaThenEveryRowAsSql) {
  SqliteStore store(":memory:");
  const std::string empty = store.dump();
  EXPECT_NE(empty.find("CREATE TABLE scores("), std::string::npos) << empty;
  EXPECT_NE(empty.find("CREATE INDEX registry_by_home"), std::string::npos) << empty;
  EXPECT_EQ(empty.find("INSERT"), std::string::npos) << empty;
  store.put_score({"O'Brien Cup", 1, 2, 3, 4});
  store.set_last_seq("caco", 9);
  const std::string dump = store.dump();
  EXPECT_NE(dump.find("INSERT INTO \"scores\" VALUES('O''Brien Cup',1,2,3,4);\n"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("INSERT INTO \"publishers\" VALUES('caco',9);\n"), std::string::npos) << dump;
  // Another store with the same writes dumps the same; one more write makes it differ.
  SqliteStore other(":memory:");
  other.set_last_seq("caco", 9);
  other.put_score({"O'Brien Cup", 1, 2, 3, 4});
  EXPECT_EQ(other.dump(), dump);
  other.set_home("t1", "fe1");
  EXPECT_NE(other.dump(), dump);
}

TEST(SqliteStore, RegistryCountsAndFiltersByHome) {
  SqliteStore store(":memory:");
  store.set_home("t2", "fe1");
  store.set_home("t1", "fe2");
  store.set_home("t3", "fe1");
  store.set_home("t2", "fe2");  // replaces
  EXPECT_EQ(store.home_count("fe1"), 1);
  EXPECT_EQ(store.home_count("fe2"), 2);
  EXPECT_EQ(store.registry("fe2"), (std::vector<RegistryEntry>{{"t1", "fe2"}, {"t2", "fe2"}}));
  EXPECT_EQ(store.registry(std::nullopt).size(), 3u);
  EXPECT_EQ(store.home("t2"), "fe2");
}

TEST(SqliteStore, RollbackDiscardsTheTransactionAndCommitKeepsIt) {
  SqliteStore store(":memory:");
  store.begin();
  store.put_tally({"Gauls", 1, 0, 0, 1});
  store.rollback();
  EXPECT_EQ(store.tally("Gauls").version, 0u);
  store.begin();
  store.put_tally({"Gauls", 1, 0, 0, 1});
  EXPECT_EQ(store.tally("Gauls").version, 1u);  // a transaction sees its own writes
  store.commit();
  store.rollback();  // nothing open: does nothing
  EXPECT_EQ(store.tally("Gauls").version, 1u);
}

TEST(SqliteStore, RecordingAnAppliedSeqTwiceThrowsWithSqlitesReason) {
  SqliteStore store(":memory:");
  const AppliedUpdate u{"caco", 1, "score/Curling", 1, "set_score", 1, 1, 0, ""};
  store.record_applied(u);
  try {
    store.record_applied(u);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("UNIQUE constraint failed"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store.applied("caco", 1), u);  // the failed statement left the store usable
}

TEST(SqliteStore, OpeningAFileThatIsNotADatabaseThrowsNamingTheProblem) {
  oly::testing::TempDir dir;
  std::ofstream(dir.file("junk.db"))
      << "this is not an SQLite database, not even close; it is a text file";
  try {
    SqliteStore store(dir.file("junk.db"));
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a database"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.file("junk.db")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace oly::database

namespace oly::database {
namespace {

// A state with every kind of field: negative and large integers, empty and non-ASCII text.
void fill_state(SqliteStore& store) {
  store.begin_state();
  store.put_score({"Skiing", -3, INT64_MAX, 7, INT64_MIN});
  store.put_score({"", 0, 0, 1, 0});
  store.put_score({"Lancer de menhir \xc3\xa9\xe2\x82\xac", 1, 2, 3, 4});
  store.put_tally({"Romans", 1, 2, 3, 6});
  store.set_master({"fe2", 4, {}});
  store.set_home("t1", "fe1");
  for (uint64_t seq = 1; seq <= 100; ++seq) {
    store.set_last_seq("caco", seq);
    store.record_applied({"caco", seq, "tally/Romans", seq, "increment_medal_tally", static_cast<int64_t>(seq) * 1000, 0, 0, "gold"});
  }
  store.commit_unsynced();
}

TEST(SqliteStoreStateDump, RestoringADumpGivesAnEqualStateAndOnlyTheState) {
  SqliteStore a(":memory:");
  fill_state(a);
  const std::string dump = a.state_dump();
  SqliteStore b(":memory:");
  b.begin_state();
  b.put_score({"Stale", 9, 9, 9, 9});  // replaced, not merged
  b.restore_state(dump);
  b.commit_unsynced();
  EXPECT_EQ(b.state_dump(), dump);
  EXPECT_EQ(b.scores(), a.scores());
  EXPECT_EQ(b.score("Skiing"), (Score{"Skiing", -3, INT64_MAX, 7, INT64_MIN}));
  EXPECT_EQ(b.applied("caco", 42), a.applied("caco", 42));
  EXPECT_EQ(b.home("t1"), "fe1");
  // The history is this store's own, not state: restored replicas lack what came before.
  EXPECT_TRUE(b.applied_log().empty());
  EXPECT_EQ(a.applied_log().size(), 100u);
}

TEST(SqliteStoreStateDump, ASnapshotOfSqlInsertsFromBeforeTheBinaryDumpStillRestores) {
  SqliteStore b(":memory:");
  b.restore_state("INSERT INTO \"scores\" VALUES('Curling',2,1,5,77);\nINSERT INTO \"master\" VALUES(0,'fe1',3);\n");
  b.commit_unsynced();
  EXPECT_EQ(b.score("Curling"), (Score{"Curling", 2, 1, 5, 77}));
  EXPECT_EQ(b.master().epoch, 3u);
}

TEST(SqliteStoreStateDump, AMalformedDumpThrowsNamingTheFaultAndTheRollbackKeepsTheState) {
  SqliteStore a(":memory:");
  fill_state(a);
  const std::string dump = a.state_dump();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {dump.substr(0, dump.size() - 3), "snapshot: "},
      {dump + "x", "bytes after the last table"},
      {"garbage", "neither a state dump nor SQL INSERTs"},
      {std::string("OLYSTATE1\n") + "\x09\x01" + "z", "unknown field tag in table applied"},
      {std::string("OLYSTATE1\n") + std::string("\x05\x00", 2), "table applied has 5 columns in the dump, 9 here"},
  };
  for (const auto& [bytes, want] : bad) {
    SqliteStore b(":memory:");
    b.begin_state();
    b.put_score({"Kept", 1, 1, 1, 1});
    b.commit_unsynced();
    try {
      b.restore_state(bytes);
      ADD_FAILURE() << "restored " << bytes.size() << " malformed bytes";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
    b.rollback();
    EXPECT_EQ(b.score("Kept").version, 1u);
  }
}

TEST(SqliteStoreHistory, KeepsTheLastUpdatesWhenToldAndAllOfThemOtherwise) {
  for (const uint64_t keep : {uint64_t{0}, uint64_t{1000}}) {
    SqliteStore store(":memory:");
    store.set_history_keep(keep);
    store.begin_state();
    for (uint64_t seq = 1; seq <= 5000; ++seq) {
      store.record_applied({"caco", seq, "score/Curling", seq, "set_score", static_cast<int64_t>(seq), 1, 0, ""});
    }
    store.commit_unsynced();
    const auto history = store.applied_log();
    if (keep == 0) {
      EXPECT_EQ(history.size(), 5000u);
      continue;
    }
    // Pruned in steps: between `keep` and `keep` + one step, and always the newest.
    EXPECT_GE(history.size(), keep);
    EXPECT_LT(history.size(), keep + SqliteStore::kHistoryPruneEvery);
    EXPECT_EQ(history.back().seq, 5000u);
    EXPECT_EQ(history.front().seq, 5001 - history.size());
  }
}

}  // namespace
}  // namespace oly::database

namespace oly::database {
namespace {

TEST(SqliteStoreKv, ValuesAndTheStoresSizeSurviveADumpAndAnOldDumpWithoutTheTableRestoresEmpty) {
  SqliteStore a(":memory:");
  fill_state(a);
  const std::string before_kv = a.state_dump();
  a.begin_state();
  EXPECT_EQ(a.kv_get("city"), std::nullopt);
  a.kv_put("city", "Li\xc3\xa8ge");
  a.kv_put("empty", "");
  a.kv_put("city", "Namur");
  EXPECT_EQ(a.kv_bytes(), 4 + 5 + 5);
  a.commit_unsynced();
  EXPECT_EQ(a.kv_get("empty"), "") << "the empty string is a value, not none";

  SqliteStore b(":memory:");
  b.restore_state(a.state_dump());
  b.commit_unsynced();
  EXPECT_EQ(b.kv_get("city"), "Namur");
  EXPECT_EQ(b.kv_bytes(), 14) << "summed from the table after a restore";

  // A dump from before the kv table ends after the tallies: it restores, with no keys.
  const std::string old_dump = before_kv.substr(0, before_kv.size() - 2);
  SqliteStore c(":memory:");
  c.begin_state();
  c.kv_put("stale", "x");
  c.restore_state(old_dump);
  c.commit_unsynced();
  EXPECT_EQ(c.kv_get("stale"), std::nullopt);
  EXPECT_EQ(c.kv_bytes(), 0);
  EXPECT_EQ(c.scores(), a.scores());
}

}  // namespace
}  // namespace oly::database
