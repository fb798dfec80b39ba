// Cacofonix's feeds: the scripted format and its errors, and the random feed's realism.
#include <gtest/gtest.h>

#include "cacofonix/feed.h"

namespace oly {
namespace {

const std::vector<std::string> kEvents = {"Curling", "Ice Hockey", "Luge"};

TEST(ScriptFeed, ParsesEventsWithSpacesAndSkipsComments) {
  ScriptFeed f("# opening day\nset_score Ice Hockey 3 2\n\nincrement_medal_tally Gauls gold  # first gold\n",
               "feed.txt", kEvents);
  ASSERT_EQ(f.size(), 2u);
  auto a = f.next();
  ASSERT_TRUE(a && std::holds_alternative<SetScore>(*a));
  EXPECT_EQ(std::get<SetScore>(*a).event, "Ice Hockey");
  EXPECT_EQ(std::get<SetScore>(*a).gauls, 3);
  EXPECT_EQ(std::get<SetScore>(*a).romans, 2);
  auto b = f.next();
  ASSERT_TRUE(b && std::holds_alternative<IncrementMedalTally>(*b));
  EXPECT_EQ(std::get<IncrementMedalTally>(*b).team, "Gauls");
  EXPECT_FALSE(f.next());
}

void expect_error(const std::string& text, const std::string& fragment) {
  try {
    ScriptFeed f(text, "feed.txt", kEvents);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const FeedError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ScriptFeed, RejectsBadLinesNamingFileAndLine) {
  expect_error("set_score Curling 1 0\nset_score Quidditch 1 0\n", "feed.txt:2: unknown event 'Quidditch'");
  expect_error("increment_medal_tally Goths gold\n", "feed.txt:1: unknown team 'Goths'");
  expect_error("increment_medal_tally Gauls tin\n", "unknown medal 'tin'");
  expect_error("set_score Curling -1 0\n", "whole numbers");
  expect_error("set_score Curling\n", "expected: set_score");
  expect_error("shout Curling\n", "unknown op 'shout'");
  expect_error("set_score Curling 1 0\nset_score Curl\xffing 1 0\n", "feed.txt:2: not valid UTF-8 (the line is not shown)");
}

TEST(RandomFeed, ScoresMostlyRiseAndEventsEndWithMedals) {
  RandomFeed f(kEvents, 3);
  int rises = 0, falls = 0, medals = 0;
  std::map<std::string, int64_t> total;
  for (int i = 0; i < 5000; ++i) {
    auto b = f.next();
    ASSERT_TRUE(b);
    if (auto* s = std::get_if<SetScore>(&*b)) {
      ASSERT_NE(std::find(kEvents.begin(), kEvents.end(), s->event), kEvents.end());
      const int64_t t = s->gauls + s->romans;
      if (t > total[s->event]) ++rises;
      if (t < total[s->event] && t > 0) ++falls;
      total[s->event] = t;
    } else {
      ++medals;
    }
  }
  EXPECT_GT(rises, 10 * falls);
  EXPECT_GT(medals, 50);
}

TEST(RandomFeed, SameSeedSameFeed) {
  RandomFeed a(kEvents, 9), b(kEvents, 9);
  for (int i = 0; i < 200; ++i) {
    auto x = a.next(), y = b.next();
    EXPECT_EQ(x->index(), y->index());
  }
}

}  // namespace
}  // namespace oly
