// Cache on its own: versions decide, least recently used goes first.
#include "frontend/cache.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

const TimePoint t0 = TimePoint(ms(10'000));

KeyValue score(const std::string& event, uint64_t version) {
  Score s;
  s.event = event;
  s.gauls = static_cast<int64_t>(version);
  s.version = version;
  return KeyValue{"score/" + event, version, s, std::nullopt};
}

TEST(Cache, AStaleFillNeverReplacesANewerVersion) {
  Cache c(8);
  c.put(score("Curling", 5), t0, ms(100));
  CacheEntry& e = c.put(score("Curling", 3), t0 + ms(1), ms(100));
  EXPECT_EQ(e.value.version, 5u) << "put returns the newer entry that stays cached";
  EXPECT_EQ(c.peek("score/Curling")->value.version, 5u);
  EXPECT_EQ(c.peek("score/Curling")->confirmed_at, t0) << "an older fill does not confirm anything";
}

TEST(Cache, ANewerVersionReplacesAndIsConfirmedWhenFetched) {
  Cache c(8);
  c.put(score("Curling", 5), t0, ms(100));
  c.put(score("Curling", 6), t0 + ms(7), ms(200));
  const auto* e = c.peek("score/Curling");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->value.version, 6u);
  EXPECT_EQ(e->confirmed_at, t0 + ms(7));
  EXPECT_EQ(e->ttr, ms(200));
}

TEST(Cache, EvictsTheLeastRecentlyUsedWhenFull) {
  Cache c(2);
  c.put(score("Curling", 1), t0, ms(100));
  c.put(score("Skiing", 1), t0, ms(100));
  ASSERT_NE(c.read("score/Curling", t0), nullptr);  // Skiing is now the least recently used
  c.put(score("Skating", 1), t0, ms(100));
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.evictions(), 1u);
  EXPECT_EQ(c.peek("score/Skiing"), nullptr);
  EXPECT_NE(c.peek("score/Curling"), nullptr);
}

TEST(Cache, PeekIsNotAUse) {
  Cache c(2);
  c.put(score("Curling", 1), t0, ms(100));
  c.put(score("Skiing", 1), t0, ms(100));
  ASSERT_NE(c.peek("score/Curling"), nullptr);  // Curling stays the least recently used
  c.put(score("Skating", 1), t0, ms(100));
  EXPECT_EQ(c.peek("score/Curling"), nullptr);
}

TEST(Cache, TheReadRateFollowsReads) {
  Cache c(8);
  c.put(score("Curling", 1), t0, ms(100));
  double rate = 0;
  for (int i = 0; i < 50; ++i) rate = c.read("score/Curling", t0 + ms(100) * i)->read_rate();
  EXPECT_GT(rate, 5.0) << "ten reads a second";
  const double later = c.read("score/Curling", t0 + ms(60'000))->read_rate();
  EXPECT_LT(later, 1.0) << "a minute of silence";
}

TEST(Cache, EraseAndClear) {
  Cache c(8);
  c.put(score("Curling", 1), t0, ms(100));
  c.put(score("Skiing", 1), t0, ms(100));
  EXPECT_TRUE(c.erase("score/Curling"));
  EXPECT_FALSE(c.erase("score/Curling"));
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.read("score/Skiing", t0), nullptr);
}

}  // namespace
}  // namespace oly
