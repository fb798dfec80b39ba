// Raft messages in parts (database/raft_parts.h): split, put together again, and refused when a
// part is missing or the message grows past the limit.
#include "database/raft_parts.h"

#include <gtest/gtest.h>

namespace oly::database {
namespace {

std::string bytes_of(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + 7);
  return s;
}

TEST(RaftParts, ASmallMessageGoesWholeAndALargeOneInPartsThatJoinAgain) {
  const auto small = split_raft_message("hello", 3, 10);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_FALSE(small[0].parts.has_value());
  EXPECT_EQ(small[0].id, 3u);

  const std::string big = bytes_of(25);
  auto parts = split_raft_message(big, 3, 10);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].rpc.data.size(), 5u);
  RaftParts in(1000);
  std::string whole;
  EXPECT_EQ(in.add("db1", parts[0], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", parts[1], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", parts[2], whole), RaftParts::Outcome::kWhole);
  EXPECT_EQ(whole, big);
}

TEST(RaftParts, SendersAreKeptApartAndAGapDropsWhatCameBeforeIt) {
  const std::string a = bytes_of(30), b = std::string(30, 'b');
  auto pa = split_raft_message(a, 1, 10), pb = split_raft_message(b, 2, 10);
  RaftParts in(1000);
  std::string whole;
  EXPECT_EQ(in.add("db1", pa[0], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db2", pb[0], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", pa[2], whole), RaftParts::Outcome::kRefused);  // part 1 lost
  EXPECT_EQ(in.add("db1", pa[1], whole), RaftParts::Outcome::kRefused);  // what came was dropped
  EXPECT_EQ(in.add("db2", pb[1], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db2", pb[2], whole), RaftParts::Outcome::kWhole);
  EXPECT_EQ(whole, b);
  // A sender that starts again (part 0) starts a new message.
  auto again = split_raft_message(a, 1, 10);
  EXPECT_EQ(in.add("db1", again[0], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", again[0], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", again[1], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", again[2], whole), RaftParts::Outcome::kWhole);
  EXPECT_EQ(whole, a);
}

TEST(RaftParts, AMessageLargerThanTheLimitOrAPartNumberPastItsCountIsRefused) {
  auto parts = split_raft_message(bytes_of(40), 1, 10);
  RaftParts in(25);
  std::string whole;
  EXPECT_EQ(in.add("db1", parts[0], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", parts[1], whole), RaftParts::Outcome::kPartial);
  EXPECT_EQ(in.add("db1", parts[2], whole), RaftParts::Outcome::kRefused);
  RaftRpc odd;
  odd.part = 0;
  odd.parts = 0;  // not in parts after all: whole
  odd.rpc.data = "x";
  EXPECT_EQ(in.add("db2", odd, whole), RaftParts::Outcome::kWhole);
  RaftRpc past;
  past.part = 0;
  past.parts = 2;
  past.rpc.data = "x";
  EXPECT_EQ(in.add("db3", past, whole), RaftParts::Outcome::kPartial);
  past.part = 1;
  EXPECT_EQ(in.add("db3", past, whole), RaftParts::Outcome::kWhole);
  past.part = 1;
  EXPECT_EQ(in.add("db3", past, whole), RaftParts::Outcome::kRefused);  // part 1 of a new message: 0 missing
}

}  // namespace
}  // namespace oly::database
