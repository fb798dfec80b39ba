// Failover windows from hand-made ack and read records (verify/windows.h).
#include <gtest/gtest.h>

#include "verify/windows.h"

namespace oly::verify {
namespace {

TimePoint at_ms(int64_t v) {
  return TimePoint(ms(v));
}

AckRecord ack(int64_t acked_ms, std::string via, int64_t first_sent_ms = -1) {
  AckRecord a;
  a.via = std::move(via);
  a.acked = at_ms(acked_ms);
  a.first_sent = at_ms(first_sent_ms >= 0 ? first_sent_ms : acked_ms - 5);
  return a;
}

ReadRecord read(std::string tablet, int64_t start_ms, int64_t end_ms, std::string fe,
                std::string outcome = "ok") {
  ReadRecord r;
  r.tablet = std::move(tablet);
  r.key = "score/Curling";
  r.version = outcome == "ok" ? 1 : 0;
  r.start = at_ms(start_ms);
  r.end = at_ms(end_ms);
  r.frontend = std::move(fe);
  r.outcome = std::move(outcome);
  return r;
}

KillEvent kill_of(std::string node, int64_t killed_ms, std::optional<int64_t> restarted_ms = {},
                  std::optional<int64_t> settled_ms = {}) {
  KillEvent k;
  k.node = std::move(node);
  k.was_master = true;
  k.killed = at_ms(killed_ms);
  if (restarted_ms) k.restarted = at_ms(*restarted_ms);
  if (settled_ms) k.settled = at_ms(*settled_ms);
  return k;
}

TEST(FailoverWindows, PublisherWindowIsTheFirstAckAfterTheKill) {
  const auto w =
      failover_windows({kill_of("fe1", 1000)},
                       {ack(900, "fe1"), ack(980, "fe1"), ack(1650, "fe2"), ack(1700, "fe2")}, {});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].publisher, ms(650));
}

TEST(FailoverWindows, PublisherWaitIsTheLongestAckWaitOfUpdatesSentBeforeTheRestart) {
  const auto w = failover_windows({kill_of("fe2", 1000, 3000, 4000)},
                                  {ack(990, "fe1", 100),     // acked before the kill: not counted
                                   ack(1020, "fe1", 950),    // in flight at the kill: 70 ms
                                   ack(2100, "fe1", 1500),   // held 600 ms while fe2 was dead
                                   ack(3900, "fe1", 3050)},  // sent after the restart: not counted
                                  {});
  EXPECT_EQ(w[0].publisher, ms(20));
  EXPECT_EQ(w[0].publisher_wait, ms(600));
  EXPECT_FALSE(failover_windows({kill_of("fe2", 5000)}, {ack(990, "fe1")}, {})[0].publisher_wait);
}

TEST(FailoverWindows, AnAckTheKilledMasterSentBeforeDyingDoesNotEndThePublisherWindow) {
  // Acked 0.2 ms after the kill, via fe1, first sent before the kill: already on its way.
  AckRecord straggler = ack(0, "fe1", 990);
  straggler.acked = at_ms(1000) + Duration(200);
  const auto w = failover_windows({kill_of("fe1", 1000)}, {straggler, ack(1600, "fe2")}, {});
  EXPECT_EQ(w[0].publisher, ms(600));
}

TEST(FailoverWindows, AcksNeedNotBeSortedAndNoAckAfterTheKillLeavesNoWindow) {
  const auto w = failover_windows({kill_of("fe1", 1000), kill_of("fe1", 5000)},
                                  {ack(1800, "fe2"), ack(1300, "fe2"), ack(700, "fe1")}, {});
  EXPECT_EQ(w[0].publisher, ms(300));
  EXPECT_FALSE(w[1].publisher);
}

TEST(FailoverWindows, TabletsOfTheKilledFrontEndAreTheOnesWhoseLastOkReadWasThere) {
  const std::vector<ReadRecord> reads = {
      // t1: on fe1 until the kill, then a timeout there and an ok read at fe2.
      read("t1", 0, 2, "fe1"),
      read("t1", 900, 902, "fe1"),
      read("t1", 990, 1290, "fe1", "timeout"),
      read("t1", 1290, 1300, "fe2"),
      // t2: last ok read at fe2 (an earlier one at fe1 does not matter): not affected.
      read("t2", 100, 102, "fe1"),
      read("t2", 500, 503, "fe2"),
      read("t2", 1500, 1502, "fe2"),
      // t3: on fe1, next read starts after the kill and goes straight to fe2.
      read("t3", 950, 951, "fe1"),
      read("t3", 1900, 1905, "fe2"),
      // t4: on fe1, a failed read at fe1 ends before the kill (does not make it someone else's).
      read("t4", 800, 801, "fe1"),
      read("t4", 850, 999, "fe1", "unavailable"),
      read("t4", 2000, 2010, "fe2"),
  };
  const auto w = failover_windows({kill_of("fe1", 1000)}, {}, reads);
  EXPECT_EQ(w[0].tablets_affected, 3u);
  EXPECT_EQ(w[0].tablets_without_read, 0u);
  EXPECT_EQ(w[0].tablets_first, (std::vector<Duration>{ms(300), ms(905), ms(1010)}));
  // Read wait: from the start of the first read not complete at the kill.
  EXPECT_EQ(w[0].tablets_wait, (std::vector<Duration>{ms(310), ms(5), ms(10)}));
}

TEST(FailoverWindows, AReadTheKilledFrontEndFinishedJustAfterTheKillDoesNotCount) {
  const std::vector<ReadRecord> reads = {
      read("t1", 900, 901, "fe1"),
      read("t1", 999, 1001, "fe1"),  // in flight at the kill, answered before it died
      read("t1", 1400, 1402, "fe2"),
  };
  const auto w = failover_windows({kill_of("fe1", 1000)}, {}, reads);
  EXPECT_EQ(w[0].tablets_first, (std::vector<Duration>{ms(402)}));
}

TEST(FailoverWindows, AReadFromTheRestartedFrontEndCountsAndATabletThatNeverReadsIsCounted) {
  const std::vector<ReadRecord> reads = {
      read("t1", 900, 901, "fe1"),
      read("t1", 3000, 3002, "fe1"),  // fe1 back by then
      read("t2", 950, 952, "fe1"),
      read("t2", 1100, 1400, "fe1", "timeout"),
  };
  const auto w = failover_windows({kill_of("fe1", 1000)}, {}, reads);
  EXPECT_EQ(w[0].tablets_affected, 2u);
  EXPECT_EQ(w[0].tablets_first, (std::vector<Duration>{ms(2002)}));
  EXPECT_EQ(w[0].tablets_without_read, 1u);
}

TEST(FailoverWindows, HandoffGapIsTheLongestAckGapFromTheRestartToAfterSettling) {
  // Kill at 1000 (its gap 900..1600 is not the handoff's), restart at 2000, handoff gap
  // 2100..3000, settled at 3500; the gap 4600..6000 starts after settled + 1 s: not counted.
  const std::vector<AckRecord> acks = {ack(900, "fe1"),  ack(1600, "fe2"), ack(1900, "fe2"),
                                       ack(2100, "fe2"), ack(3000, "fe2"), ack(3400, "fe1"),
                                       ack(3450, "fe1"), ack(4000, "fe1"), ack(4500, "fe1"),
                                       ack(4600, "fe1"), ack(6000, "fe1")};
  auto w = failover_windows({kill_of("fe1", 1000, 2000, 3500)}, acks, {});
  EXPECT_EQ(w[0].handoff_gap, ms(900));  // 2100..3000
  w = failover_windows({kill_of("fe1", 1000, 2000, 3000)}, acks, {});
  EXPECT_EQ(w[0].handoff_gap, ms(900));  // still: 3000 < 3000 + 1 s
  // Only the gaps overlapping [restart, settled + slack]: here 1900..2100 and 2100..3000.
  w = failover_windows({kill_of("fe1", 1000, 2000, 2050)}, acks, {}, ms(100));
  EXPECT_EQ(w[0].handoff_gap, ms(900));
  w = failover_windows({kill_of("fe1", 1000, 1950, 1960)}, acks, {}, ms(10));
  EXPECT_EQ(w[0].handoff_gap, ms(200));  // 1900..2100 overlaps [1950, 1970]; 900..1600 does not
}

TEST(FailoverWindows, NoHandoffGapWithoutARestartOrSettling) {
  const std::vector<AckRecord> acks = {ack(900, "fe1"), ack(1600, "fe2")};
  EXPECT_FALSE(failover_windows({kill_of("fe1", 1000)}, acks, {})[0].handoff_gap);
  EXPECT_FALSE(failover_windows({kill_of("fe1", 1000, 2000)}, acks, {})[0].handoff_gap);
  EXPECT_FALSE(failover_windows({kill_of("fe1", 1000, 2000, 3000)}, {}, {})[0].handoff_gap);
}

TEST(SpreadOf, NearestRankPercentiles) {
  std::vector<Duration> v;
  for (int i = 100; i >= 1; --i) v.push_back(ms(i));
  const Spread s = spread_of(v);
  EXPECT_EQ(s.n, 100u);
  EXPECT_EQ(s.p50, ms(50));
  EXPECT_EQ(s.p99, ms(99));
  EXPECT_EQ(s.max, ms(100));
  const Spread one = spread_of({ms(7)});
  EXPECT_EQ(one.p50, ms(7));
  EXPECT_EQ(one.p99, ms(7));
  EXPECT_EQ(spread_of({}).n, 0u);
  EXPECT_EQ(spread_of({}).max, Duration(0));
}

}  // namespace
}  // namespace oly::verify
