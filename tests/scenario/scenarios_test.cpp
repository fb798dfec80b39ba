// The scenario scripts end to end, short versions, on a cluster on free ports, each judged by
// the checker (`olympics check`, verify/): kill -9 the master under load (the one kill-the-master
// process test, per mode), kill -9 the database (per mode) and kill -9 the non-master (push).
// Each must end with PASS on every guarantee: nothing lost, applied twice or out of order, no
// stale or backwards read, the service back after the failure (how fast is printed in the
// verdict, never asserted) and the tablets rebalanced with acks via the home master. Then the same checker, on a copy of a passing run whose database lost one acknowledged
// update, must say FAIL: the verdict comes from the records, not from the script.
// Whatever happens, the fixture brings the scenario's cluster down (through olympics_core).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/config_file.h"
#include "common/records.h"
#include "olympics/cluster.h"
#include "tests/support/process.h"

namespace oly::olympics {
namespace {

namespace fs = std::filesystem;
using oly::testing::bin;
using oly::testing::read_text_file;
using oly::testing::Child;

struct Case {
  const char* name;
  const char* script;
  const char* mode;
};

// For CTest's listing: "kill-master.sh --consistency push", not the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.script << " --consistency " << c.mode;
}

class Scenario : public ::testing::TestWithParam<Case> {
 protected:
  ~Scenario() override {
    // The script stops its cluster itself; this is for a script that was killed or hung.
    const std::string cfg = run_dir() + "/cluster.yaml";
    if (!fs::exists(cfg)) return;
    std::ostringstream sink;
    try {
      Cluster(load_config(cfg), cfg, "", sink).down();
    } catch (const std::exception&) {
    }
  }

  std::string run_dir() const { return dir_.file("run"); }

  struct Result {
    int status = -1;
    std::string output;
  };

  // Runs `bash scenarios/<script> args...` with the test build's binaries.
  Result run_script(const std::string& script, std::vector<std::string> args,
                    Duration timeout = ms(110000)) {
    std::vector<std::string> argv = {"/usr/bin/env", std::string("OLY_BIN=") + OLY_BIN_DIR,
                                     "bash", std::string(OLY_SOURCE_DIR) + "/scenarios/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = dir_.file("script.out");
    Child c(argv, out);
    const auto status = c.wait(timeout);
    return {status.value_or(-1), read_text_file(out)};
  }

  Result check(const std::string& dir) {
    const std::string out = dir_.file("check.out");
    Child c({bin("olympics"), "check", dir}, out);
    const auto status = c.wait(ms(60000));
    return {status.value_or(-1), read_text_file(out)};
  }

  oly::testing::TempDir dir_;
};

TEST_P(Scenario, EndsWithTheCheckersPass) {
  const Case& c = GetParam();
  std::vector<std::string> args = {std::string("--") + c.mode, "--duration", "15", "--tablets", "20",
                                   "--rate", "30", "--run-dir", run_dir()};
  const Result r = run_script(c.script, args);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("verdict: PASS"), std::string::npos) << r.output;
  const std::string text = read_text_file(run_dir() + "/check.json");
  const auto json = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << text;
  EXPECT_EQ(json["pass"], true) << text;
  // The failures were seen and judged: one (db-restart and rolling-restart: one per database
  // node; random-db-kills: at least one); every guarantee judged and held (recovered from,
  // rebalanced after).
  const Config scenario_cfg = load_config(run_dir() + "/cluster.yaml");
  const std::string script = c.script;
  const size_t failures = script == "db-restart.sh" || script == "rolling-restart.sh" ? scenario_cfg.database_ids().size()
                          : script == "one-replica-left.sh"                             ? 2
                                                                                        : 1;
  if (script == "random-db-kills.sh") {
    EXPECT_GE(json["counts"]["failures"], 1) << text;
  } else {
    EXPECT_EQ(json["counts"]["failures"], failures) << text;
  }
  ASSERT_EQ(json["guarantees"].size(), 7u) << text;
  for (const auto& g : json["guarantees"]) EXPECT_EQ(g["status"], "PASS") << g["name"] << ": " << g["figures"];
  // Nothing of the scenario's cluster is left running.
  const Config cfg = load_config(run_dir() + "/cluster.yaml");
  std::ostringstream sink;
  EXPECT_EQ(Cluster(cfg, run_dir() + "/cluster.yaml", "", sink).down(), 0);

  if (std::string(c.script) == "kill-master.sh" && std::string(c.mode) == "push") {
    // A copy whose database lost the last acknowledged update must fail the check. (Not simply
    // the last applied one: the run may stop between a commit and its ack reaching Cacofonix.)
    const std::string copy = dir_.file("tampered");
    fs::copy(run_dir(), copy, fs::copy_options::recursive);
    const auto acks = read_ack_log(copy + "/acks.csv");
    ASSERT_FALSE(acks.empty());
    const AckRecord& last = *std::max_element(acks.begin(), acks.end(), [](const auto& a, const auto& b) {
      return a.seq < b.seq;
    });
    // From every database file (each replica's, when the tier is replicated).
    int deleted = 0;
    std::string statement;
    for (const auto& id : cfg.database_ids()) {
      const std::string file = fs::path(cfg.database_file(id)).filename().string();
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open((copy + "/" + file).c_str(), &db), SQLITE_OK);
      char* err = nullptr;
      char* sql = sqlite3_mprintf("DELETE FROM applied WHERE publisher = %Q AND seq = %lld; "
                                  "DELETE FROM history WHERE publisher = %Q AND seq = %lld",
                                  last.publisher.c_str(), static_cast<long long>(last.seq), last.publisher.c_str(),
                                  static_cast<long long>(last.seq));
      const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
      statement = sql;
      sqlite3_free(sql);
      deleted += sqlite3_changes(db);
      sqlite3_free(err);
      sqlite3_close(db);
      ASSERT_EQ(rc, SQLITE_OK);
    }
    ASSERT_GE(deleted, 1) << statement;
    const Result bad = check(copy);
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("FAIL  no acknowledged update lost"), std::string::npos)
        << bad.output;
    EXPECT_NE(bad.output.find("verdict: FAIL"), std::string::npos) << bad.output;
  }
}

INSTANTIATE_TEST_SUITE_P(Short, Scenario,
                         ::testing::Values(Case{"KillMasterPush", "kill-master.sh", "push"},
                                           Case{"KillMasterPull", "kill-master.sh", "pull"},
                                           Case{"KillNonMasterPush", "kill-nonmaster.sh", "push"},
                                           Case{"DatabaseRestartPush", "db-restart.sh", "push"},
                                           Case{"DatabaseRestartPull", "db-restart.sh", "pull"},
                                           Case{"KillDatabaseLeaderPush", "kill-db-leader.sh", "push"},
                                           Case{"KillDatabaseLeaderPull", "kill-db-leader.sh", "pull"},
                                           Case{"KillDatabaseFollowerPush", "kill-db-follower.sh", "push"},
                                           Case{"PauseDatabaseLeaderPush", "pause-db-leader.sh", "push"},
                                           Case{"AddReplicaPush", "add-replica.sh", "push"},
                                           Case{"RollingRestartPull", "rolling-restart.sh", "pull"},
                                           Case{"RandomDatabaseKillsPush", "random-db-kills.sh", "push"},
                                           Case{"TraitorPush", "traitor.sh", "push"},
                                           Case{"OneReplicaLeftPush", "one-replica-left.sh", "push"},
                                           Case{"GossipPartitionPush", "gossip-partition.sh", "push"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ScenarioFlags, ABadFlagIsRefusedBeforeAnythingStarts) {
  oly::testing::TempDir dir;
  const std::string out = dir.file("out");
  Child c({"/usr/bin/env", std::string("OLY_BIN=") + OLY_BIN_DIR, "bash",
           std::string(OLY_SOURCE_DIR) + "/scenarios/kill-master.sh", "--tablets", "many",
           "--run-dir", dir.file("run")},
          out);
  EXPECT_EQ(c.wait(ms(10000)), 2);
  EXPECT_NE(read_text_file(out).find("--tablets must be a positive whole number, not 'many'"),
            std::string::npos)
      << read_text_file(out);
  EXPECT_FALSE(fs::exists(dir.file("run/cluster.yaml")));
}

}  // namespace
}  // namespace oly::olympics
