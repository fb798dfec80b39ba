// HoldQueue on its own: what is ready leaves in arrival order; the rest stays.
#include "frontend/hold_queue.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

Held ack(uint64_t req, uint64_t hold) { return {Held::Kind::kAck, "cacofonix", req, Ack{}, hold, {}}; }
Held update(uint64_t req) { return {Held::Kind::kUpdate, "cacofonix", req, SetScore{}, 0, {}}; }

TEST(HoldQueue, TakesOutOnlyWhatIsReadyInArrivalOrder) {
  HoldQueue q;
  q.hold(ack(1, 10));
  q.hold(update(2));
  q.hold(ack(3, 0));
  q.hold(ack(4, 11));
  EXPECT_EQ(q.acks(), 3u);
  EXPECT_EQ(q.updates(), 1u);
  const auto out = q.take([](const Held& h) { return h.kind == Held::Kind::kAck && h.hold != 11; });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].req, 1u);
  EXPECT_EQ(out[1].req, 3u);
  EXPECT_EQ(q.acks(), 1u);
  const auto rest = q.take_all();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].req, 2u);
  EXPECT_EQ(rest[1].req, 4u);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace oly
