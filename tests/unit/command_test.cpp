// Command batches to bytes and back: what a Raft log entry will carry.
#include "database/command.h"

#include <gtest/gtest.h>

#include <limits>
#include <msgpack.hpp>

namespace oly::database {
namespace {

// One command of every kind, with every field set to something unusual.
CommandBatch every_kind() {
  return {
      cmd::SetScore{.event = "Ski Jumping – Large Hill",
                    .gauls = std::numeric_limits<int64_t>::max(),
                    .romans = -1,
                    .publisher = "cacofonix-1234-18c2f",
                    .seq = std::numeric_limits<uint64_t>::max(),
                    .epoch = 3,
                    .committed_at_us = std::numeric_limits<int64_t>::min(),
                    .updated_at = 1'700'000'000'123,
                    .from = "fe1",
                    .written_at_us = std::numeric_limits<int64_t>::max()},
      cmd::SetScore{.event = "", .publisher = "p", .seq = 1, .epoch = std::nullopt, .from = ""},
      cmd::IncrementMedalTally{.team = "Gauls",
                               .medal = "bronze",
                               .publisher = "p",
                               .seq = 2,
                               .epoch = 0,
                               .committed_at_us = 42,
                               .from = "fe2"},
      cmd::ClaimMaster{.frontend = "fe2", .epoch = 7, .lease_left_us = 499'999, .from = "fe2"},
      cmd::AssignHome{.tablet = "t17", .frontends = {"fe2", "fe1"}},
      cmd::AssignHome{.tablet = "t18", .frontends = {}},
  };
}

TEST(CommandBatch, RoundTripKeepsEveryCommandAndFieldInOrder) {
  const CommandBatch batch = every_kind();
  const std::string bytes = encode_batch(batch);
  const DecodedBatch decoded = decode_batch(bytes);
  ASSERT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.batch, batch);
  EXPECT_EQ(encode_batch(decoded.batch), bytes);  // the bytes are a function of the batch
}

TEST(CommandBatch, EmptyBatchRoundTrips) {
  const DecodedBatch decoded = decode_batch(encode_batch({}));
  EXPECT_EQ(decoded.error, "");
  EXPECT_TRUE(decoded.batch.empty());
}

TEST(CommandBatch, EveryTruncationIsAnErrorNotACrash) {
  const std::string bytes = encode_batch(every_kind());
  for (size_t n = 0; n < bytes.size(); ++n) {
    const DecodedBatch decoded = decode_batch(std::string_view(bytes).substr(0, n));
    EXPECT_NE(decoded.error, "") << "prefix of " << n << " bytes";
    EXPECT_TRUE(decoded.batch.empty());
  }
  EXPECT_EQ(decode_batch(bytes + "x").error, "trailing bytes after the batch");
}

// A batch map {version, commands: [[op, fields]]} with one command, its fields packed by `fields`.
template <class Fields>
std::string one_command(uint64_t version, std::string_view op, Fields fields) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(2);
  pk.pack("version");
  pk.pack(version);
  pk.pack("commands");
  pk.pack_array(1);
  pk.pack_array(2);
  pk.pack(op);
  fields(pk);
  return std::string(buf.data(), buf.size());
}

// The fields of a claim_master, with `epoch` packed by `epoch`.
template <class Epoch>
auto claim_fields(Epoch epoch) {
  return [epoch](msgpack::packer<msgpack::sbuffer>& pk) {
    pk.pack_map(4);
    pk.pack("frontend");
    pk.pack("fe1");
    pk.pack("epoch");
    epoch(pk);
    pk.pack("lease_left_us");
    pk.pack(0);
    pk.pack("from");
    pk.pack("fe1");
  };
}

TEST(CommandBatch, BadBytesGiveAnErrorNamingWhatIsWrong) {
  const auto good_epoch = claim_fields([](auto& pk) { pk.pack(1); });
  ASSERT_EQ(decode_batch(one_command(1, "claim_master", good_epoch)).error, "");

  EXPECT_EQ(decode_batch("\xc1").error.rfind("not a MessagePack value", 0), 0u);
  EXPECT_EQ(decode_batch(std::string("\x93\x01\x02\x03")).error, "expected a map");
  EXPECT_EQ(decode_batch(one_command(2, "claim_master", good_epoch)).error, "expected version 1");
  EXPECT_EQ(decode_batch(one_command(1, "fetch", good_epoch)).error,
            "command 0 (fetch): unknown op 'fetch'");
  EXPECT_EQ(decode_batch(one_command(1, "claim_master", claim_fields([](auto& pk) { pk.pack("1"); })))
                .error,
            "command 0 (claim_master): field 'epoch': wrong type or out of range");
  EXPECT_EQ(decode_batch(one_command(1, "claim_master", claim_fields([](auto& pk) { pk.pack(-1); })))
                .error,
            "command 0 (claim_master): field 'epoch': wrong type or out of range");
  EXPECT_EQ(decode_batch(one_command(1, "claim_master",
                                     [](auto& pk) {
                                       pk.pack_map(1);
                                       pk.pack("frontend");
                                       pk.pack("fe1");
                                     }))
                .error,
            "command 0 (claim_master): missing field 'epoch'");
  EXPECT_EQ(decode_batch(one_command(1, "claim_master", [](auto& pk) { pk.pack(1); })).error,
            "command 0 (claim_master): expected a map of fields");
}

// A set_score written before its `written_at_us` existed (a Raft log or a gossip log from the
// version before) still decodes, without it; a field that is not optional is still required.
TEST(CommandBatch, ASetScoreWrittenBeforeItsWriteStampDecodes) {
  const auto old_set_score = [](msgpack::packer<msgpack::sbuffer>& pk) {
    pk.pack_map(9);
    pk.pack("event"); pk.pack("Curling");
    pk.pack("gauls"); pk.pack(3);
    pk.pack("romans"); pk.pack(1);
    pk.pack("publisher"); pk.pack("p");
    pk.pack("seq"); pk.pack(7);
    pk.pack("epoch"); pk.pack(2);
    pk.pack("committed_at_us"); pk.pack(5);
    pk.pack("updated_at"); pk.pack(6);
    pk.pack("from"); pk.pack("fe1");
  };
  const DecodedBatch d = decode_batch(one_command(1, "set_score", old_set_score));
  ASSERT_EQ(d.error, "");
  const auto& c = std::get<cmd::SetScore>(d.batch.at(0));
  EXPECT_EQ(c.seq, 7u);
  EXPECT_EQ(c.gauls, 3);
  EXPECT_FALSE(c.written_at_us.has_value());
}

}  // namespace
}  // namespace oly::database
