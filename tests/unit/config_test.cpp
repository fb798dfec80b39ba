// The configuration: the default cluster file loads, a bad file is rejected with a message that
// names the file, the key and what was expected, and to_yaml writes what parse_config reads back.
#include "common/config.h"
#include "common/config_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <string>
#include <tuple>

#include "tests/support/process.h"

namespace oly {
namespace {

const std::string kClusterFile = std::string(OLY_SOURCE_DIR) + "/config/cluster.yaml";

// Writes `yaml` to a file and loads it: the message of the ConfigError, or "" when it loaded.
class ConfigFile : public ::testing::Test {
 protected:
  std::string error_of(const std::string& yaml) {
    {
      std::ofstream out(path_);
      out << yaml;
    }
    try {
      load_config(path_);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  // Expects loading `yaml` to fail with `path_: <what>`.
  void expect_error(const std::string& yaml, const std::string& what) {
    const std::string err = error_of(yaml);
    EXPECT_EQ(err.rfind(path_ + ": ", 0), 0u)
        << "the message does not start with the file: " << err;
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, what, err) << "for YAML:\n" << yaml;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("cluster.yaml");
};

// Field lists, so that whole structs compare (and print) at once.
auto fields(const DatabaseConfig& d) {
  return std::tie(d.id, d.address, d.path, d.metrics, d.request_timeout_ms, d.replicas, d.election_timeout_ms,
                  d.raft_heartbeat_ms, d.snapshot_every, d.snapshot_trailing, d.history_keep);
}
auto fields(const FrontendConfig& f) {
  return std::tie(f.id, f.address, f.pub, f.http, f.tcp);
}
auto fields(const PullConfig& p) {
  return std::tie(p.ttr, p.ttr_ms, p.ttr_min_ms, p.ttr_max_ms, p.fidelity, p.hints);
}
auto fields(const CacofonixConfig& k) {
  return std::tie(k.id, k.token, k.rate, k.seed, k.feed, k.window, k.request_timeout_ms, k.ack_log, k.metrics);
}
auto fields(const TabletsConfig& t) {
  return std::tie(t.count, t.id_prefix, t.read_interval_ms, t.jitter_ms, t.events_per_tablet,
                  t.zipf_s, t.seed, t.request_timeout_ms, t.history);
}

void expect_same(const Config& a, const Config& b) {
  EXPECT_EQ(a.run_dir, b.run_dir);
  EXPECT_EQ(a.log_level, b.log_level);
  EXPECT_EQ(a.consistency, b.consistency);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(fields(a.database), fields(b.database));
  ASSERT_EQ(a.frontends.size(), b.frontends.size());
  for (size_t i = 0; i < a.frontends.size(); ++i)
    EXPECT_EQ(fields(a.frontends[i]), fields(b.frontends[i]));
  EXPECT_EQ(a.heartbeat.interval_ms, b.heartbeat.interval_ms);
  EXPECT_EQ(a.heartbeat.timeout_ms, b.heartbeat.timeout_ms);
  EXPECT_EQ(a.lease.duration_ms, b.lease.duration_ms);
  EXPECT_EQ(fields(a.pull), fields(b.pull));
  EXPECT_EQ(a.cache.capacity, b.cache.capacity);
  EXPECT_EQ(fields(a.cacofonix), fields(b.cacofonix));
  EXPECT_EQ(fields(a.tablets), fields(b.tablets));
}

// ------------------------------------------------------------------------------------------------
// loading

TEST(Config, TheDefaultClusterFileLoadsAndValidates) {
  const Config c = load_config(kClusterFile);
  EXPECT_EQ(c.source, kClusterFile);
  EXPECT_EQ(c.consistency, Consistency::kPush);
  ASSERT_GE(c.frontends.size(), 2u);
  EXPECT_EQ(c.frontends[0].id, "fe1");
  EXPECT_EQ(c.frontends[1].id, "fe2");
  EXPECT_NE(c.frontend("fe2"), nullptr);
  EXPECT_EQ(c.frontend("fe9"), nullptr);
  EXPECT_GE(c.heartbeat.timeout_ms, 2 * c.heartbeat.interval_ms);
  EXPECT_FALSE(c.events.empty());
  EXPECT_NO_THROW(validate(c));
}

TEST(Config, TheShippedConfigsLoadAndValidate) {
  for (const char* name : {"byzantine.yaml", "gossip.yaml"}) {
    const std::string path = std::string(OLY_SOURCE_DIR) + "/config/" + name;
    EXPECT_NO_THROW(validate(load_config(path))) << path;
  }
  EXPECT_EQ(load_config(std::string(OLY_SOURCE_DIR) + "/config/gossip.yaml").replication, Replication::kGossip);
}

TEST(Config, TheBuiltInDefaultsAreValid) {
  EXPECT_NO_THROW(validate(Config{}));
}

TEST(Config, KeysLeftOutKeepTheirDefaults) {
  const Config c = parse_config("consistency: pull\nheartbeat: {interval_ms: 50}\n", "test.yaml");
  EXPECT_EQ(c.consistency, Consistency::kPull);
  EXPECT_EQ(c.heartbeat.interval_ms, 50);
  EXPECT_EQ(c.heartbeat.timeout_ms, HeartbeatConfig{}.timeout_ms);
  EXPECT_EQ(c.frontends.size(), Config{}.frontends.size());
  EXPECT_EQ(c.source, "test.yaml");
}

TEST(Config, RunDirPathsAreJoinedUnlessAbsolute) {
  Config c;
  c.run_dir = "/tmp/run";
  EXPECT_EQ(c.in_run_dir("olympics.db"), "/tmp/run/olympics.db");
  EXPECT_EQ(c.in_run_dir("/var/x.db"), "/var/x.db");
  EXPECT_EQ(c.in_run_dir(""), "");
}

// ------------------------------------------------------------------------------------------------
// errors

TEST_F(ConfigFile, ABadConsistencyNamesTheKeyAndWhatWasExpected) {
  expect_error("consistency: sideways\n", "consistency: expected push or pull, got 'sideways'");
  EXPECT_EQ(error_of("consistency: sideways\n"),
            path_ + ": consistency: expected push or pull, got 'sideways'");
}

TEST(Config, WithCurveNoNodesNameBeginsWithAnothersAndADash) {
  Config c;
  c.security = Security::kCurve;
  c.frontends[1].id = "cacofonix-2";  // the publisher's key could use its routing ids
  try {
    validate(c);
    FAIL() << "validated";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("frontends[1].id: 'cacofonix-2' begins with 'cacofonix-' (cacofonix.id)"), std::string::npos)
        << e.what();
  }
  c.frontends[1].id = "fe/2";  // a key file's name
  EXPECT_THROW(validate(c), ConfigError);
  c.frontends[1].id = "fe2";
  EXPECT_NO_THROW(validate(c));
  // Plain links have no such rule.
  c.security = Security::kPlain;
  c.frontends[1].id = "cacofonix-2";
  EXPECT_NO_THROW(validate(c));
}

TEST_F(ConfigFile, ABadSecurityNamesWhatWasExpected) {
  expect_error("security: tight\n", "security: expected plain or curve, got 'tight'");
}

TEST_F(ConfigFile, AnUnknownTopLevelKey) {
  expect_error("consistancy: push\n", "consistancy: unknown key");
}

TEST_F(ConfigFile, AnUnknownNestedKey) {
  expect_error("heartbeat:\n  intervall_ms: 100\n", "heartbeat.intervall_ms: unknown key");
  expect_error(
      "frontends:\n  - {id: a, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2'}\n"
      "  - {id: b, address: 'tcp://127.0.0.1:3', pub: 'tcp://127.0.0.1:4', colour: red}\n",
      "frontends[1].colour: unknown key");
}

TEST_F(ConfigFile, AKeyThatIsNotAName) {
  expect_error("? [a, b]\n: 1\n", "unknown key");
}

TEST_F(ConfigFile, AValueOfTheWrongType) {
  expect_error("heartbeat:\n  interval_ms: fast\n",
               "heartbeat.interval_ms: expected an integer, got 'fast'");
  expect_error("tablets: {count: 1.5}\n", "tablets.count: expected an integer, got '1.5'");
  expect_error("events: Curling\n", "events: expected a list of names");
  expect_error("heartbeat: 5\n", "heartbeat: expected a map");
  expect_error("frontends: {id: fe1}\n", "frontends: expected a list");
  expect_error("pull: {ttr: sometimes}\n", "pull.ttr: expected fixed, limd or fidelity, got 'sometimes'");
  expect_error("pull: {hints: sometimes}\n", "pull.hints: expected true or false");
  EXPECT_FALSE(parse_config("pull: {hints: false}\n", "test.yaml").pull.hints);
  EXPECT_TRUE(parse_config("pull: {ttr: fixed}\n", "test.yaml").pull.hints) << "on unless turned off";
}

TEST_F(ConfigFile, ATimeoutBelowTwiceTheHeartbeatInterval) {
  expect_error(
      "heartbeat: {interval_ms: 100, timeout_ms: 150}\n",
      "heartbeat.timeout_ms: expected at least twice heartbeat.interval_ms (200), got 150");
}

TEST_F(ConfigFile, DuplicateFrontEndIds) {
  expect_error(
      "frontends:\n  - {id: fe1, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2', tcp: '127.0.0.1:5'}\n"
      "  - {id: fe1, address: 'tcp://127.0.0.1:3', pub: 'tcp://127.0.0.1:4', tcp: '127.0.0.1:6'}\n",
      "frontends[1].id: duplicate id 'fe1'");
}

TEST_F(ConfigFile, FewerThanTwoFrontEnds) {
  expect_error(
      "frontends:\n  - {id: fe1, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2'}\n",
      "frontends: expected at least 2 front ends, got 1");
  expect_error("frontends: []\n", "frontends: expected at least 2 front ends, got 0");
}

TEST_F(ConfigFile, ABadAddress) {
  expect_error(
      "frontends:\n  - {id: fe1, address: '127.0.0.1:7101', pub: 'tcp://127.0.0.1:2'}\n"
      "  - {id: fe2, address: 'tcp://127.0.0.1:3', pub: 'tcp://127.0.0.1:4'}\n",
      "frontends[0].address: expected tcp://host:port, got '127.0.0.1:7101'");
  expect_error("database: {address: localhost}\n",
               "database.address: expected tcp://host:port, got 'localhost'");
}

TEST_F(ConfigFile, AYamlSyntaxErrorWithItsLineNumber) {
  expect_error("run_dir: run\n  log_level: info: debug\n", "line 2: ");
}

TEST_F(ConfigFile, AnEmptyFile) {
  expect_error("", "empty configuration");
}

TEST(Config, AMissingFileNamesTheFile) {
  try {
    load_config("/nonexistent/cluster.yaml");
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/cluster.yaml: cannot read the file");
  }
}

// ------------------------------------------------------------------------------------------------
// to_yaml

// A config in which every field differs from its default.
Config every_field_changed() {
  Config c;
  c.run_dir = "/tmp/some \"run\" dir\\x";
  c.log_level = "debug";
  c.consistency = Consistency::kPull;
  c.events = {"Ice Hockey", "Curling", "Ski: Jumping", "#1 Luge"};
  c.database = {"database", "tcp://127.0.0.1:9100", "data/oly.db", "127.0.0.1:9190", 1234, {}, 321, 45, 777, 333, 50000};
  c.frontends = {{"a", "tcp://127.0.0.1:9101", "tcp://127.0.0.1:9111", "127.0.0.1:9181", "127.0.0.1:9201"},
                 {"b", "tcp://127.0.0.1:9102", "tcp://127.0.0.1:9112", "[::1]:9182", "[::1]:9202"},
                 {"c", "tcp://127.0.0.1:9103", "tcp://127.0.0.1:9113", "", "127.0.0.1:9203"}};
  c.heartbeat = {25, 333};
  c.lease = {777};
  c.pull = {TtrKind::kLimd, 321, 11, 2222, 0.123456789};
  c.cache = {17};
  c.cacofonix = {"caco",     "t0k'en", 1.0 / 3, std::numeric_limits<uint64_t>::max(),
                 "feed.txt", 9,        99,      "a.csv", "localhost:9191"};
  c.tablets = {1000, "tab-", 250, 0, 2, 0.123456789, 12345678901234ULL, 150, ""};
  return c;
}

TEST(ConfigYaml, ReadsBackEveryFieldAsWritten) {
  const Config c = every_field_changed();
  ASSERT_NO_THROW(validate(c));
  const Config back = parse_config(to_yaml(c), "round-trip");
  expect_same(c, back);
}

TEST(ConfigYaml, AReplicatedTierSurvivesARoundTrip) {
  Config c = every_field_changed();
  c.database.replicas = {{"r1", "tcp://127.0.0.1:9120", "", "127.0.0.1:9170"}, {"r2", "tcp://127.0.0.1:9121"}, {"r3", "tcp://127.0.0.1:9122"}};
  ASSERT_NO_THROW(validate(c));
  Config back = parse_config(to_yaml(c), "round-trip");
  // id, address and path are not written with replicas: they keep their defaults.
  c.database.id = back.database.id;
  c.database.address = back.database.address;
  c.database.path = back.database.path;
  c.database.metrics = back.database.metrics;  // each replica has its own
  expect_same(c, back);
  EXPECT_TRUE(back.replicated());
  EXPECT_EQ(back.database_ids(), (std::vector<std::string>{"r1", "r2", "r3"}));
  EXPECT_EQ(back.database_file("r2"), back.run_dir + "/r2.db");
}

TEST_F(ConfigFile, ReplicasTwoOrFourAreRefused) {
  expect_error("database:\n  replicas: [{id: a, address: 'tcp://127.0.0.1:1'}, {id: b, address: 'tcp://127.0.0.1:2'}]\n",
               "database.replicas: expected 1 or 3 to 5 replicas");
}

TEST_F(ConfigFile, ReplicasWithTheSingleDatabasesKeysAreRefused) {
  expect_error("database:\n  id: db\n  replicas: [{id: a, address: 'tcp://127.0.0.1:1'}]\n",
               "database.id: not with database.replicas");
  expect_error("database:\n  metrics: '127.0.0.1:5'\n  replicas: [{id: a, address: 'tcp://127.0.0.1:1'}]\n",
               "database.metrics: not with database.replicas");
}

TEST_F(ConfigFile, ReplicasWithDuplicateIdsOrAddresses) {
  expect_error("database:\n  replicas: [{id: a, address: 'tcp://127.0.0.1:1'}, {id: a, address: 'tcp://127.0.0.1:2'},"
               " {id: c, address: 'tcp://127.0.0.1:3'}]\n",
               "database.replicas[1].id: duplicate id 'a'");
  expect_error("database:\n  replicas: [{id: a, address: 'tcp://127.0.0.1:1'}, {id: b, address: 'tcp://127.0.0.1:1'},"
               " {id: c, address: 'tcp://127.0.0.1:3'}]\n",
               "database.replicas[1].address: address used twice");
}

// What validate() says of `bad` ("" when it takes it).
std::string error(const Config& bad) {
  try {
    validate(bad);
  } catch (const ConfigError& e) {
    return std::string(e.what());
  }
  return std::string();
}

TEST(ConfigYaml, ByzantineModeAndItsRules) {
  Config c;
  c.database.replicas = {{"db1", "tcp://127.0.0.1:9120"}, {"db2", "tcp://127.0.0.1:9121"}, {"db3", "tcp://127.0.0.1:9122"}};
  c.frontends.push_back({"fe3", "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113", "", "127.0.0.1:7203"});
  c.frontends.push_back({"fe4", "tcp://127.0.0.1:7104", "tcp://127.0.0.1:7114", "", "127.0.0.1:7204"});
  c.byzantine = true;
  c.byzantine_round_ms = 80;
  ASSERT_NO_THROW(validate(c));
  const Config back = parse_config(to_yaml(c), "round-trip");
  EXPECT_TRUE(back.byzantine);
  EXPECT_EQ(back.byzantine_round_ms, 80);
  Config three = c;
  three.frontends.pop_back();
  EXPECT_NE(error(three).find("byzantine: expected exactly 4 front ends"), std::string::npos) << error(three);
  Config plain = c;
  plain.security = Security::kPlain;
  EXPECT_NE(error(plain).find("byzantine: needs security: curve"), std::string::npos) << error(plain);
  Config single = c;
  single.database.replicas.clear();
  EXPECT_NE(error(single).find("byzantine: needs a replicated database tier"), std::string::npos) << error(single);
  Config no_rounds = c;
  no_rounds.byzantine_round_ms = 0;
  EXPECT_NE(error(no_rounds).find("byzantine_round_ms"), std::string::npos) << error(no_rounds);
  EXPECT_FALSE(parse_config("security: plain\n", "test.yaml").byzantine) << "off unless asked";
}

TEST(ConfigYaml, GossipReplicationAndItsRules) {
  Config c;
  c.database.replicas = {{"db1", "tcp://127.0.0.1:9120"}, {"db2", "tcp://127.0.0.1:9121"}};
  c.replication = Replication::kGossip;
  c.gossip_interval_ms = 30;
  ASSERT_NO_THROW(validate(c)) << "two replicas are enough for gossip (no majority to keep)";
  const Config back = parse_config(to_yaml(c), "round-trip");
  EXPECT_EQ(back.replication, Replication::kGossip);
  EXPECT_EQ(back.gossip_interval_ms, 30);
  Config single = c;
  single.database.replicas.clear();
  EXPECT_NE(error(single).find("replication: gossip needs 2 to 5 replicas"), std::string::npos) << error(single);
  Config byz = c;
  byz.byzantine = true;
  EXPECT_NE(error(byz).find("replication: gossip cannot be combined with byzantine"), std::string::npos) << error(byz);
  Config never = c;
  never.gossip_interval_ms = 0;
  EXPECT_NE(error(never).find("gossip_interval_ms"), std::string::npos) << error(never);
  Config raft = c;
  raft.replication = Replication::kRaft;
  EXPECT_NE(error(raft).find("expected 1 or 3 to 5 replicas"), std::string::npos) << "raft keeps its rule; " << error(raft);
  EXPECT_EQ(parse_config("security: plain\n", "test.yaml").replication, Replication::kRaft) << "raft unless asked";
  try {
    parse_config("replication: sideways\n", "test.yaml");
    ADD_FAILURE() << "an unknown mode was taken";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("replication: expected raft or gossip, got 'sideways'"), std::string::npos) << e.what();
  }
}

TEST_F(ConfigFile, EveryFrontEndNeedsTheTcpPortWhereTabletsRead) {
  expect_error("frontends:\n  - {id: a, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2', tcp: '127.0.0.1:3'}\n"
               "  - {id: b, address: 'tcp://127.0.0.1:4', pub: 'tcp://127.0.0.1:5'}\n",
               "frontends[1].tcp: missing: the host:port where tablets read from b");
  // The option that chose ZeroMQ or TCP for tablets is gone; a config that still has it is told so.
  expect_error("tablets: {transport: tcp}\n", "tablets.transport: no longer an option");
}

TEST_F(ConfigFile, HttpAndMetricsAddressesMustBeHostPortAndUsedOnce) {
  expect_error("frontends:\n  - {id: a, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2', tcp: '7201'}\n"
               "  - {id: b, address: 'tcp://127.0.0.1:4', pub: 'tcp://127.0.0.1:5'}\n",
               "frontends[0].tcp: expected host:port, got '7201'");
  expect_error("frontends:\n  - {id: a, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2', tcp: '127.0.0.1:9'}\n"
               "  - {id: b, address: 'tcp://127.0.0.1:4', pub: 'tcp://127.0.0.1:5', http: '127.0.0.1:9', tcp: '127.0.0.1:6'}\n",
               "frontends[1].http: address used twice: 127.0.0.1:9");
  expect_error("frontends:\n  - {id: a, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2', http: 'tcp://127.0.0.1:3'}\n"
               "  - {id: b, address: 'tcp://127.0.0.1:4', pub: 'tcp://127.0.0.1:5'}\n",
               "frontends[0].http: expected host:port, got 'tcp://127.0.0.1:3'");
  expect_error("frontends:\n  - {id: a, address: 'tcp://127.0.0.1:1', pub: 'tcp://127.0.0.1:2', http: '127.0.0.1:9', tcp: '127.0.0.1:3'}\n"
               "  - {id: b, address: 'tcp://127.0.0.1:4', pub: 'tcp://127.0.0.1:5', tcp: '127.0.0.1:6'}\n"
               "cacofonix: {metrics: '127.0.0.1:9'}\n",
               "cacofonix.metrics: address used twice: 127.0.0.1:9");
  expect_error("database:\n  replicas: [{id: a, address: 'tcp://127.0.0.1:1', metrics: '127.0.0.1:1'}, "
               "{id: b, address: 'tcp://127.0.0.1:2'}, {id: c, address: 'tcp://127.0.0.1:3'}]\n",
               "database.replicas[0].metrics: address used twice: 127.0.0.1:1");
}

TEST_F(ConfigFile, AnElectionTimeoutBelowThreeHeartbeats) {
  expect_error("database:\n  election_timeout_ms: 100\n  raft_heartbeat_ms: 50\n",
               "database.election_timeout_ms: expected at least three times database.raft_heartbeat_ms (150), got 100");
}

TEST_F(ConfigFile, AHistoryKeptShorterThanAThousandUpdatesOrNegative) {
  expect_error("database:\n  history_keep: 999\n",
               "database.history_keep: expected 0 (keep all) or at least 1000 updates, got 999");
  expect_error("database:\n  history_keep: -5\n", "database.history_keep: expected an integer, got '-5'");
}

TEST(ConfigYaml, TheDefaultClusterSurvivesARoundTrip) {
  const Config c = load_config(kClusterFile);
  expect_same(c, parse_config(to_yaml(c), "round-trip"));
}

TEST_F(ConfigFile, TheTestSupportWritesConfigsThatLoad) {
  const Config c = testing::cluster_config(dir_.path());
  testing::write_config(c, path_);
  expect_same(c, load_config(path_));
}

}  // namespace
}  // namespace oly
