// Key: the one place that builds and splits "score/<event>" and "tally/<team>".
#include <gtest/gtest.h>

#include <set>

#include "common/key.h"

namespace oly {
namespace {

TEST(Key, WritesAndReadsItsTextForm) {
  EXPECT_EQ(Key::score("100m").str(), "score/100m");
  EXPECT_EQ(Key::tally("Gauls").str(), "tally/Gauls");
  const auto s = Key::parse("score/Javelin throw");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->is_score());
  EXPECT_EQ(s->name(), "Javelin throw");
  const auto t = Key::parse("tally/Romans");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->is_tally());
  EXPECT_EQ(t->name(), "Romans");
  EXPECT_EQ(*s, Key::score("Javelin throw"));
  // A name may itself hold a slash; only the first one splits.
  EXPECT_EQ(Key::parse("score/a/b")->name(), "a/b");
}

TEST(Key, RejectsTextThatIsNotAKey) {
  for (const char* bad : {"", "score/", "tally/", "score", "scores/x", "Score/x", "medal/x", "/x"}) {
    EXPECT_EQ(Key::parse(bad), std::nullopt) << bad;
  }
}

TEST(Key, OrdersAsItsTextDoes) {
  std::set<Key> keys{Key::tally("A"), Key::score("b"), Key::score("a"), Key::tally("0")};
  std::string last;
  for (const auto& k : keys) {
    EXPECT_LT(last, k.str());
    last = k.str();
  }
}

}  // namespace
}  // namespace oly
