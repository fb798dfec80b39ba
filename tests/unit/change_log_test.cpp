// ChangeLog: the master's recent changes that pull mode's hints list (frontend/change_log.h).
#include "frontend/change_log.h"

#include <gtest/gtest.h>
#include "tests/support/values.h"

namespace oly {
namespace {

using testing::score_value;


TEST(ChangeLog, ListsTheLatestValueOfEachKeyChangedAfterTheCursor) {
  ChangeLog log;
  log.record(score_value("Curling", 1));  // seq 1
  log.record(score_value("Luge", 4));     // seq 2
  log.record(score_value("Curling", 2));  // seq 3
  log.record(score_value("Curling", 3));  // seq 4
  const Changes c = log.since(Cursor{7, 2}, 7);
  EXPECT_EQ(c.epoch, 7u);
  EXPECT_EQ(c.from, 2u);
  EXPECT_EQ(c.to, 4u);
  ASSERT_EQ(c.changed.size(), 1u) << "Luge changed at 2, not after it";
  EXPECT_EQ(c.changed[0].key, "score/Curling");
  EXPECT_EQ(c.changed[0].version, 3u);
  EXPECT_EQ(c.changed[0].score->version, 3u);

  const Changes all = log.since(Cursor{7, 0}, 7);
  EXPECT_EQ(all.from, 0u);
  EXPECT_EQ(all.changed.size(), 2u);
  const Changes none = log.since(Cursor{7, 4}, 7);
  EXPECT_EQ(none.from, 4u);
  EXPECT_TRUE(none.changed.empty()) << "nothing changed after the newest change";
}

TEST(ChangeLog, ACursorItCannotAnswerForCoversNothingAndMovesToNow) {
  ChangeLog log;
  for (uint64_t v = 1; v <= 3; ++v) log.record(score_value("Curling", v));
  for (const auto& cursor : {std::optional<Cursor>{}, std::optional<Cursor>{Cursor{6, 1}},  // none; another epoch
                             std::optional<Cursor>{Cursor{7, 9}}}) {                        // from the future
    const Changes c = log.since(cursor, 7);
    EXPECT_EQ(c.from, 3u);
    EXPECT_EQ(c.to, 3u);
    EXPECT_TRUE(c.changed.empty());
  }
}

TEST(ChangeLog, KeepsTheLastChangesOnly) {
  ChangeLog log;
  for (uint64_t v = 1; v <= ChangeLog::kCapacity + 10; ++v) log.record(score_value("Curling", v));
  const Changes old = log.since(Cursor{1, 5}, 1);
  EXPECT_EQ(old.from, old.to) << "changes after 5 were forgotten: the answer covers nothing";
  EXPECT_TRUE(old.changed.empty());
  const Changes recent = log.since(Cursor{1, ChangeLog::kCapacity}, 1);
  EXPECT_EQ(recent.from, ChangeLog::kCapacity);
  ASSERT_EQ(recent.changed.size(), 1u);
  EXPECT_EQ(recent.changed[0].version, ChangeLog::kCapacity + 10);
}

TEST(ChangeLog, TooManyChangedKeysAreNotListed) {
  ChangeLog log;
  for (size_t i = 0; i <= ChangeLog::kMostListed; ++i) log.record(score_value("Event" + std::to_string(i), 1));
  const Changes c = log.since(Cursor{1, 0}, 1);
  EXPECT_EQ(c.from, c.to);
  EXPECT_TRUE(c.changed.empty());
  const Changes some = log.since(Cursor{1, 1}, 1);  // one key fewer: listed
  EXPECT_EQ(some.from, 1u);
  EXPECT_EQ(some.changed.size(), ChangeLog::kMostListed);
}

TEST(ChangeLog, AfterAResetNoEarlierCursorCoversALaterChange) {
  ChangeLog log;
  log.record(score_value("Curling", 1));
  log.record(score_value("Curling", 2));
  log.reset();  // mastership moved away and back: the changes between were not seen here
  log.record(score_value("Luge", 9));
  const Changes c = log.since(Cursor{1, 1}, 1);
  EXPECT_EQ(c.from, c.to);
  EXPECT_TRUE(c.changed.empty());
  const Changes after = log.since(Cursor{1, 2}, 1);
  EXPECT_EQ(after.from, 2u);
  ASSERT_EQ(after.changed.size(), 1u);
  EXPECT_EQ(after.changed[0].key, "score/Luge");
}

}  // namespace
}  // namespace oly
