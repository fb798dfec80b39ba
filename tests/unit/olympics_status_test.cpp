// What `olympics status` makes of samples: states, rates, counters worth showing, table and JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "olympics/status.h"
#include "verify/text.h"

namespace oly::olympics {
using verify::render_table;
namespace {

const NodeSpec kFe{"fe1", NodeKind::kFrontend, "tcp://127.0.0.1:7101", "tcp://127.0.0.1:7111"};
const NodeSpec kDb{"db", NodeKind::kDatabase, "tcp://127.0.0.1:7100", ""};
const NodeSpec kCaco{"cacofonix", NodeKind::kCacofonix, "", ""};
const NodeSpec kTablets{"tablets", NodeKind::kTablets, "", ""};

NodeSample sample(double at_s, std::map<std::string, int64_t> counters,
                  std::map<std::string, std::string> info = {}, std::string role = "peer") {
  return {Stats{"x", std::move(role), std::move(counters), std::move(info)}, at_s};
}

TEST(NodeStatus, ServerThatAnswersIsUpWithItsRoleEpochAndMaster) {
  const NodeSample now =
      sample(10, {{"requests", 50}}, {{"epoch", "3"}, {"master", "fe1"}, {"consistency", "pull"}},
             "master");
  const auto r = node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {});
  EXPECT_EQ(r.state, "up");
  EXPECT_EQ(r.pid, 42);
  EXPECT_EQ(r.role, "master");
  EXPECT_EQ(r.epoch, "3");
  EXPECT_EQ(r.master, "fe1");
  EXPECT_EQ(r.consistency, "pull");
  EXPECT_FALSE(r.rate);  // one sample: no rate
}

TEST(NodeStatus, StatesOfServersThatDoNotAnswer) {
  EXPECT_EQ(node_status(kFe, std::nullopt, ProcState::kGone, nullptr, nullptr, {}).state, "down");
  EXPECT_EQ(node_status(kFe, 42, ProcState::kRunning, nullptr, nullptr, {}).state, "silent");
  EXPECT_EQ(node_status(kFe, 42, ProcState::kPaused, nullptr, nullptr, {}).state, "paused");
}

TEST(NodeStatus, ClientIsUpWhileItsProcessLives) {
  const NodeSample file = sample(5, {{"acked", 7}});
  EXPECT_EQ(node_status(kCaco, 42, ProcState::kRunning, nullptr, &file, {}).state, "up");
  const auto gone = node_status(kCaco, std::nullopt, ProcState::kGone, nullptr, &file, {});
  EXPECT_EQ(gone.state, "down");
  EXPECT_EQ(gone.acked, 7);  // its last word stands
}

TEST(NodeStatus, RateIsTheCounterDifferenceOverTheSampleInterval) {
  const NodeSample before = sample(10.0, {{"requests", 100}});
  const NodeSample now = sample(10.5, {{"requests", 150}});
  const auto r = node_status(kDb, 42, ProcState::kRunning, &before, &now, {});
  ASSERT_TRUE(r.rate);
  EXPECT_DOUBLE_EQ(*r.rate, 100.0);
}

TEST(NodeStatus, NoRateAcrossARestartOrWithoutTimePassing) {
  const NodeSample before = sample(10.0, {{"requests", 100}});
  const NodeSample restarted = sample(11.0, {{"requests", 3}});
  EXPECT_FALSE(node_status(kDb, 42, ProcState::kRunning, &before, &restarted, {}).rate);
  const NodeSample same_time = sample(10.0, {{"requests", 120}});
  EXPECT_FALSE(node_status(kDb, 42, ProcState::kRunning, &before, &same_time, {}).rate);
}

TEST(NodeStatus, ARateGaugeReportedByTheNodeWins) {
  const NodeSample now =
      sample(10, {{"reads_ok", 900}, {"reads_ok_per_s", 45}, {"reads_failed", 2}});
  const auto r = node_status(kTablets, 42, ProcState::kRunning, nullptr, &now, {});
  EXPECT_EQ(r.rate, 45.0);
  EXPECT_EQ(r.reads_ok, 900);
  EXPECT_EQ(r.reads_failed, 2);
}

TEST(NodeStatus, FrontEndTabletsAndHitRate) {
  const NodeSample now =
      sample(10, {{"tablets_home", 25}, {"cache_hits", 75}, {"cache_misses", 25}});
  const auto r = node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {{"fe1", 99}});
  EXPECT_EQ(r.tablets, 25);
  EXPECT_EQ(r.hit_rate, 0.75);
}

TEST(NodeStatus, TabletsFallBackToTheRegistryAndMissingCountersStayUnknown) {
  const NodeSample now = sample(10, {});
  const auto r = node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {{"fe1", 24}});
  EXPECT_EQ(r.tablets, 24);
  EXPECT_FALSE(r.hit_rate);
  EXPECT_FALSE(r.rate);
  EXPECT_EQ(r.epoch, "");
}

TEST(NodeStatus, FrontEndSuspectsServingSetAndHandoff) {
  const NodeSample now =
      sample(10, {{"suspicions", 3}},
             {{"suspected", "fe2,fe3"}, {"serving", "fe1"}, {"handoff", "in progress"}}, "master");
  const auto r = node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {});
  EXPECT_EQ(r.suspects, "fe2,fe3");
  EXPECT_EQ(r.serving, "fe1");
  EXPECT_TRUE(r.handoff);
  const NodeSample calm = sample(10, {}, {{"suspected", ""}});
  const auto p = node_status(kFe, 42, ProcState::kRunning, nullptr, &calm, {});
  EXPECT_EQ(p.suspects, "");
  EXPECT_EQ(p.serving, "");
  EXPECT_FALSE(p.handoff);
}

TEST(TabletsReading, IsTheTabletProcessOnCountersByFrontEnd) {
  const Stats s{"tablets",
                "tablets",
                {{"on_fe1", 20}, {"on_fe2", 30}, {"tablets", 50}, {"reads_ok", 9}, {"on_", 1}},
                {{"serving", "fe1,fe2"}}};
  EXPECT_EQ(tablets_reading(s), (std::map<std::string, int64_t>{{"fe1", 20}, {"fe2", 30}}));
  EXPECT_TRUE(tablets_reading(Stats{}).empty());
}

TEST(NodeStatus, TabletsComeFromTheTabletProcessFirstEvenForAFrontEndThatIsDown) {
  const NodeSample now = sample(10, {{"tablets_served", 25}});
  const std::map<std::string, int64_t> reading = {{"fe1", 0}, {"fe2", 50}};
  EXPECT_EQ(
      node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {{"fe1", 24}}, reading).tablets, 0);
  EXPECT_EQ(node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {{"fe1", 24}}, {}).tablets,
            25);
  const auto down =
      node_status(kFe, std::nullopt, ProcState::kGone, nullptr, nullptr, {}, {{"fe1", 7}});
  EXPECT_EQ(down.state, "down");
  EXPECT_EQ(down.tablets, 7);  // tablets that have not failed over yet
  EXPECT_FALSE(node_status(kFe, std::nullopt, ProcState::kGone, nullptr, nullptr, {}).tablets);
}

TEST(NodeStatus, EpochMayComeAsACounter) {
  const NodeSample now = sample(10, {{"epoch", 4}});
  EXPECT_EQ(node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {}).epoch, "4");
}

TEST(FormatStatusTable, OneAlignedRowPerNodeWithDashesForTheUnknown) {
  const NodeSample fe = sample(10, {{"tablets_home", 25}, {"cache_hits", 3}, {"cache_misses", 1}},
                               {{"epoch", "1"},
                                {"master", "fe1"},
                                {"suspected", "fe2"},
                                {"serving", "fe1"},
                                {"consistency", "push"}},
                               "master");
  const NodeSample caco = sample(10, {{"acked", 120}}, {}, "publisher");
  const auto table =
      format_status_table({node_status(kFe, 4242, ProcState::kRunning, nullptr, &fe, {}),
                           node_status(kCaco, std::nullopt, ProcState::kGone, nullptr, &caco, {}),
                           node_status(kDb, std::nullopt, ProcState::kGone, nullptr, nullptr, {})});
  EXPECT_EQ(
      table,
      "NODE       PID   STATE  UP  MEM  ROLE       EPOCH  MASTER  SUSPECTS  REQ/S  TABLETS  HIT%  DETAIL\n"
      "fe1        4242  up     -   -    master     1      fe1     fe2       -      25       75.0  push, serving fe1\n"
      "cacofonix  -     down   -   -    publisher  -      -       -         -      -        -     acked 120\n"
      "db         -     down   -   -    -          -      -       -         -      -        -     -\n");
}

TEST(FormatStatusTable, APeerShowsItsConsistencyAndAHandoffButNoServingSet) {
  const NodeSample peer = sample(10, {}, {{"consistency", "pull"}, {"serving", "fe1"}}, "peer");
  const NodeSample handing =
      sample(10, {}, {{"consistency", "push"}, {"serving", "fe1,fe2"}, {"handoff", "in progress"}},
             "master");
  const auto table =
      format_status_table({node_status(kFe, 1, ProcState::kRunning, nullptr, &peer, {}),
                           node_status(kFe, 2, ProcState::kRunning, nullptr, &handing, {})});
  EXPECT_NE(table.find("  pull\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  push, serving fe1,fe2, handoff\n"), std::string::npos) << table;
}

TEST(FormatStatusTable, AFrontEndShowsItsReadAndAckLatencyAndVersion) {
  const NodeSample fe = sample(10, {{"read_p99_us", 250}, {"ack_p99_us", 5000}}, {{"consistency", "push"}, {"version", "9.9"}}, "peer");
  const NodeSample slow = sample(10, {{"ack_p99_us", -1}}, {{"consistency", "push"}}, "master");
  const auto row = node_status(kFe, 1, ProcState::kRunning, nullptr, &fe, {});
  EXPECT_EQ(row.version, "9.9");
  const auto table = format_status_table({row, node_status(kFe, 2, ProcState::kRunning, nullptr, &slow, {})});
  EXPECT_NE(table.find("  push, read p99 <= 0.25 ms, ack p99 <= 5.0 ms\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  push, ack p99 > 2500 ms\n"), std::string::npos) << table;
}

TEST(FormatStatusTable, AReplicaShowsItsStandingTermAndProgress) {
  const NodeSpec db1{"db1", NodeKind::kDatabase, "tcp://127.0.0.1:7100", ""};
  const NodeSpec db4{"db4", NodeKind::kDatabase, "tcp://127.0.0.1:7104", ""};
  const std::map<std::string, std::string> members = {{"member.db1", "voter tcp://127.0.0.1:7100"},
                                                       {"member.db4", "standby tcp://127.0.0.1:7104"}};
  auto info = members;
  info.insert({{"raft_term", "3"}, {"raft_commit", "10"}, {"raft_applied", "9"}, {"raft_leader", "db1"},
               {"raft_last_contact_ms", "12"}});
  const NodeSample leader = sample(10, {}, info, "leader");
  const NodeSample standby = sample(10, {}, info, "follower");
  const auto table = format_status_table({node_status(db1, 1, ProcState::kRunning, nullptr, &leader, {}),
                                          node_status(db4, 2, ProcState::kRunning, nullptr, &standby, {})});
  EXPECT_NE(table.find("  voter, term 3, commit 10, applied 9\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  standby, term 3, commit 10, applied 9, leader db1 heard 12 ms ago\n"),
            std::string::npos)
      << table;
}

TEST(FormatStatusTable, AGossipReplicaShowsItsClockWhatItHasNotAppliedAndSilentPeers) {
  const NodeSpec db2{"db2", NodeKind::kDatabase, "tcp://127.0.0.1:7101", ""};
  const NodeSample caught_up = sample(10, {}, {{"replication", "gossip"}, {"clock", "db1:12 db2:3"},
                                               {"applied_clock", "db1:12 db2:3"}, {"silent_peers", ""}}, "gossip replica");
  const NodeSample behind = sample(10, {}, {{"replication", "gossip"}, {"clock", "db1:12"}, {"applied_clock", "db1:10"},
                                            {"silent_peers", "db3"}}, "gossip replica");
  const auto table = format_status_table({node_status(db2, 1, ProcState::kRunning, nullptr, &caught_up, {}),
                                          node_status(db2, 2, ProcState::kRunning, nullptr, &behind, {})});
  EXPECT_NE(table.find("  clock db1:12 db2:3\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  clock db1:12, applied db1:10, silent db3\n"), std::string::npos) << table;
}

TEST(FormatStatusTable, ClientsShowTheirProgressAndRateInDetail) {
  const NodeSample before = sample(1, {{"reads_ok", 100}, {"reads_failed", 0}});
  const NodeSample now = sample(2, {{"reads_ok", 150}, {"reads_failed", 1}});
  const auto table =
      format_status_table({node_status(kTablets, 7, ProcState::kRunning, &before, &now, {})});
  EXPECT_NE(table.find("reads 150 ok (50.0/s), 1 failed"), std::string::npos) << table;
}

TEST(FormatStatusJson, OneObjectPerLineWithNullsForTheUnknown) {
  const NodeSample now = sample(10, {{"requests", 5}}, {{"master", "fe\"1"}});
  const auto json =
      format_status_json({node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {}),
                          node_status(kDb, std::nullopt, ProcState::kGone, nullptr, nullptr, {})});
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 4) << json;  // [, two rows, ]
  const auto rows = nlohmann::json::parse(json);
  ASSERT_EQ(rows.size(), 2u);
  const auto& fe = rows[0];
  EXPECT_EQ(fe["node"], "fe1");
  EXPECT_EQ(fe["kind"], "frontend");
  EXPECT_EQ(fe["pid"], 42);
  EXPECT_EQ(fe["state"], "up");
  EXPECT_EQ(fe["master"], "fe\"1");
  EXPECT_EQ(fe["counters"], nlohmann::json({{"requests", 5}}));
  EXPECT_TRUE(fe["suspects"].is_null());
  EXPECT_TRUE(fe["serving"].is_null());
  EXPECT_EQ(fe["handoff"], false);
  const auto& db = rows[1];
  EXPECT_EQ(db["node"], "db");
  EXPECT_EQ(db["kind"], "database");
  EXPECT_TRUE(db["pid"].is_null());
  EXPECT_EQ(db["state"], "down");
  EXPECT_TRUE(db["role"].is_null());
}

TEST(FormatStatusJson, InvalidUtf8FromANodeIsReplacedNotEchoed) {
  const NodeSample now = sample(10, {}, {{"master", "fe\xff"}});
  const auto json = format_status_json({node_status(kFe, 42, ProcState::kRunning, nullptr, &now, {})});
  EXPECT_EQ(json.find('\xff'), std::string::npos);
  EXPECT_NO_THROW(nlohmann::json::parse(json));
}

TEST(RenderTable, PadsColumnsToTheWidestCellAndTrimsLineEnds) {
  EXPECT_EQ(render_table({{"a", "bb", ""}, {"ccc", "d", "e"}}), "a    bb\nccc  d   e\n");
}

NodeStatus server(const std::string& node, const std::string& kind, const std::string& state, const std::string& role = "",
                  const std::string& master = "") {
  NodeStatus r;
  r.node = node;
  r.kind = kind;
  r.state = state;
  r.role = role;
  r.master = master;
  r.epoch = "4";
  return r;
}

TEST(Health, EveryServerUpOneMasterFollowedAndALeaderIsHealthy) {
  std::vector<NodeStatus> rows = {server("db1", "database", "up", "database"),
                                  server("db2", "database", "up", "database"),
                                  server("fe1", "frontend", "up", "master", "fe1"),
                                  server("fe2", "frontend", "up", "peer", "fe1"),
                                  server("cacofonix", "publisher", "down")};  // clients are not judged
  const Health h = judge_health(rows, "db2", true);
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.line, "healthy: 2 database replicas (leader db2) and 2 front ends up; master fe1 (epoch 4)");
  EXPECT_EQ(judge_health({server("db", "database", "up", "database"), server("fe1", "frontend", "up", "master", "fe1")},
                         "", false)
                .line,
            "healthy: the database and 1 front end up; master fe1 (epoch 4)");
}

TEST(Health, AGossipTierHasNoLeaderToAskFor) {
  std::vector<NodeStatus> rows = {server("db1", "database", "up", "database"), server("db2", "database", "up", "database"),
                                  server("fe1", "frontend", "up", "master", "fe1")};
  const Health h = judge_health(rows, "", true, true);
  EXPECT_TRUE(h.healthy) << h.line;
  EXPECT_EQ(h.line, "healthy: 2 gossip replicas and 1 front end up; master fe1 (epoch 4)");
  EXPECT_FALSE(judge_health(rows, "", true).healthy) << "a Raft tier without a leader is not";
}

TEST(Health, NamesEachThingWrong) {
  std::vector<NodeStatus> rows = {server("db1", "database", "paused"), server("db2", "database", "up", "database"),
                                  server("fe1", "frontend", "down"), server("fe2", "frontend", "up", "peer", "fe1"),
                                  server("fe3", "frontend", "up", "peer", "")};
  const Health h = judge_health(rows, "", true);
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.line, "unhealthy: db1 paused; fe1 down; no database leader; no master front end");
  rows[2] = server("fe1", "frontend", "up", "master", "fe1");
  EXPECT_EQ(judge_health(rows, "db2", true).line, "unhealthy: db1 paused; fe3 follows no master, not fe1");
  rows[4] = server("fe3", "frontend", "up", "master", "fe3");
  EXPECT_EQ(judge_health(rows, "db2", true).line,
            "unhealthy: db1 paused; more than one front end says it is master (fe1, fe3)");
}

}  // namespace
}  // namespace oly::olympics
