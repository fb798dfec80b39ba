// TtrPolicy on its own: pull mode's time to refresh, fixed or adaptive (LIMD).
#include "frontend/ttr.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

PullConfig adaptive() {
  PullConfig c;
  c.adaptive = true;
  c.ttr_min_ms = 50;
  c.ttr_max_ms = 1000;
  return c;
}

TEST(TtrPolicy, FixedIsAlwaysTheConfiguredTtr) {
  PullConfig c;
  c.adaptive = false;
  c.ttr_ms = 250;
  TtrPolicy p(c);
  EXPECT_EQ(p.initial(), ms(250));
  EXPECT_EQ(p.after_poll(ms(250), true, 100), ms(250));
  EXPECT_EQ(p.after_poll(ms(250), false, 0), ms(250));
  EXPECT_EQ(p.bound(), ms(250));
}

TEST(TtrPolicy, AdaptiveStartsAtTheMinimumAndIsBoundedByTheMaximum) {
  TtrPolicy p(adaptive());
  EXPECT_EQ(p.initial(), ms(50));
  EXPECT_EQ(p.bound(), ms(1000));
  Duration ttr = p.initial();
  for (int i = 0; i < 1000; ++i) ttr = p.after_poll(ttr, false, 0);
  EXPECT_EQ(ttr, ms(1000));
  for (int i = 0; i < 50; ++i) ttr = p.after_poll(ttr, true, 0);
  EXPECT_EQ(ttr, ms(50));
}

TEST(TtrPolicy, AChangeHalvesAndNoChangeAddsTheMinimum) {
  TtrPolicy p(adaptive());
  EXPECT_EQ(p.after_poll(ms(800), true, 0), ms(400));
  EXPECT_EQ(p.after_poll(ms(400), false, 0), ms(450));
}

TEST(TtrPolicy, APopularKeysTtrGrowsMoreSlowly) {
  TtrPolicy p(adaptive());
  const Duration quiet = p.after_poll(ms(400), false, 0);
  const Duration popular = p.after_poll(ms(400), false, 90);
  EXPECT_LT(popular, quiet);
  EXPECT_GT(popular, ms(400)) << "it still grows, by at least a millisecond";
}

}  // namespace
}  // namespace oly
