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
