// The whole cluster as real processes on loopback: database, two front ends, Cacofonix and 100
// tablets for a few seconds, checked from what they recorded and what the database holds.
#include <gtest/gtest.h>

#include <map>
#include <msgpack.hpp>

#include "common/codec.h"
#include "common/records.h"
#include "tests/support/cluster.h"

namespace oly::testing {
namespace {

class ClusterProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster.start_database());
    ASSERT_TRUE(cluster.start_frontend("fe1"));
    ASSERT_TRUE(cluster.start_frontend("fe2"));
  }
  ProcessCluster cluster{[](Config& c) {
    c.tablets.read_interval_ms = 500;
    tolerate_descheduling(c);  // failover has its own tests
  }};
};

TEST_F(ClusterProcess, AcknowledgedUpdatesAreAppliedExactlyOnceAndTabletsSplitEvenly) {
  cluster.start_cacofonix({"--rate", "100", "--duration", "4"});
  cluster.start_tablets({"--count", "100", "--duration", "6"});
  ASSERT_EQ(cluster.wait("cacofonix", ms(20000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(20000)), 0) << cluster.log_tail("tablets");

  // Tallies in the database equal Cacofonix's own count of acknowledged increments.
  const auto acks = read_ack_log(cluster.run_file("acks.csv"));
  ASSERT_GT(acks.size(), 200u);
  std::map<std::string, int64_t> counted;
  std::map<std::string, uint64_t> last_version;
  for (const auto& a : acks) {
    if (a.op == "increment_medal_tally") ++counted[a.key.substr(6) + "/" + a.detail];
    last_version[a.key] = std::max(last_version[a.key], a.version);
  }
  auto board = cluster.ask("fe2", GetScoreboard{});
  ASSERT_TRUE(board && board->is<Scoreboard>());
  for (const auto& t : board->as<Scoreboard>().tallies) {
    EXPECT_EQ(t.gold, counted[t.team + "/gold"]) << t.team;
    EXPECT_EQ(t.silver, counted[t.team + "/silver"]) << t.team;
    EXPECT_EQ(t.bronze, counted[t.team + "/bronze"]) << t.team;
    // Each acknowledged update is applied once: versions count the updates exactly.
    int64_t updates = 0;
    for (const auto& a : acks) updates += (a.key == "tally/" + t.team);
    EXPECT_EQ(t.version, static_cast<uint64_t>(updates)) << t.team;
  }
  for (const auto& s : board->as<Scoreboard>().scores) {
    EXPECT_EQ(s.version, last_version["score/" + s.event]) << s.event;
  }

  // Every tablet saw versions that never go backwards.
  const auto reads = read_history(cluster.run_file("reads.csv"));
  ASSERT_GT(reads.size(), 1000u);
  std::map<std::pair<std::string, std::string>, uint64_t> seen;
  int64_t ok = 0, backwards = 0;
  std::map<std::string, int> not_ok;  // by outcome, to say why when there are too many
  for (const auto& r : reads) {
    if (r.outcome != "ok") {
      ++not_ok[r.outcome];
      continue;
    }
    ++ok;
    auto& v = seen[{r.tablet, r.key}];
    if (r.version < v) ++backwards;
    v = std::max(v, r.version);
  }
  EXPECT_EQ(backwards, 0);
  std::string why;
  for (const auto& [outcome, n] : not_ok) why += " " + std::to_string(n) + " " + outcome;
  EXPECT_GT(ok, static_cast<int64_t>(reads.size() * 99 / 100)) << "not ok:" << why;

  // The registry splits the 100 tablets within one of even.
  auto reg = cluster.ask("db", ListRegistry{});
  ASSERT_TRUE(reg && reg->is<Registry>());
  std::map<std::string, int> homes;
  for (const auto& e : reg->as<Registry>().entries) ++homes[e.home];
  EXPECT_EQ(reg->as<Registry>().entries.size(), 100u);
  EXPECT_LE(std::abs(homes["fe1"] - homes["fe2"]), 1) << homes["fe1"] << " vs " << homes["fe2"];
}

TEST_F(ClusterProcess, MalformedRequestsGetAnErrorAndTheFrontEndKeepsServing) {
  const std::string fe = cluster.config().frontend("fe2")->address;
  auto garbage = request_raw(fe, std::string("\xc1\xff garbage", 10));
  ASSERT_TRUE(garbage);
  Decoded d = decode(*garbage);
  ASSERT_TRUE(d.ok && d.message.is<Error>());
  EXPECT_EQ(d.message.as<Error>().code, ErrorCode::kMalformed);

  // Wrong type: event as an integer.
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(3);
  pk.pack("op");
  pk.pack("get_score");
  pk.pack("req");
  pk.pack(7);
  pk.pack("event");
  pk.pack(42);
  auto wrong = request_raw(fe, std::string(buf.data(), buf.size()));
  ASSERT_TRUE(wrong);
  d = decode(*wrong);
  ASSERT_TRUE(d.ok && d.message.is<Error>());
  EXPECT_EQ(d.message.as<Error>().code, ErrorCode::kMalformed);
  EXPECT_EQ(d.message.req, 7u);
  EXPECT_NE(d.message.as<Error>().error.find("event"), std::string::npos);

  auto unknown = cluster.ask("fe2", GetScore{"Quidditch", {}, {}, std::nullopt});
  ASSERT_TRUE(unknown && unknown->is<Error>());
  EXPECT_EQ(unknown->as<Error>().code, ErrorCode::kUnknownEvent);
  EXPECT_NE(unknown->as<Error>().error.find("Quidditch"), std::string::npos);

  auto update = cluster.ask("fe1", SetScore{"Curling", 1, 0, "intruder", 1, std::string("wrong"), {}, {}});
  ASSERT_TRUE(update && update->is<Error>());
  EXPECT_EQ(update->as<Error>().code, ErrorCode::kUnauthorised);

  auto good = cluster.ask("fe2", GetScore{"Curling", {}, {}, std::nullopt});
  ASSERT_TRUE(good && good->is<ScoreReply>()) << "the front end stopped serving";
  EXPECT_EQ(good->as<ScoreReply>().score.event, "Curling");
}

}  // namespace
}  // namespace oly::testing
