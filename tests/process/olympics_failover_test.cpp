// `olympics failover` against real processes: one kill of the master and one of a non-master on a
// cluster on free ports, the report and failover.json; and the refusals that need no cluster.
// Whatever happens, the fixture brings the cluster down (through olympics_core) at the end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "olympics/cluster.h"
#include "tests/support/process.h"

namespace oly::olympics {
namespace {

using oly::testing::bin;
using oly::testing::read_text_file;
using oly::testing::Child;

class OlympicsFailover : public ::testing::Test {
 protected:
  struct Run {
    int status = -1;
    std::string output;  // stdout and stderr
  };

  OlympicsFailover()
      : config_(oly::testing::cluster_config(dir_.file("run"))),
        config_path_(dir_.file("cluster.yaml")),
        run_dir_(dir_.file("failover")) {
    oly::testing::write_config(config_, config_path_);
  }
  ~OlympicsFailover() override {
    std::ostringstream sink;
    Config c = config_;
    c.run_dir = run_dir_;
    Cluster(c, config_path_, "", sink).down();
  }

  Run failover(std::vector<std::string> args, Duration timeout = ms(120000)) {
    args.insert(args.begin(),
                {bin("olympics"), "failover", "--config", config_path_, "--run-dir", run_dir_});
    const std::string out = dir_.file("failover-" + std::to_string(++runs_) + ".out");
    Child c(args, out);
    const auto status = c.wait(timeout);
    return {status.value_or(-1), read_text_file(out)};
  }

  static bool have_binaries() {
    for (const char* b : {"database", "frontend", "cacofonix", "tablet"}) {
      if (!std::filesystem::exists(bin(b))) return false;
    }
    return true;
  }

  oly::testing::TempDir dir_;
  Config config_;
  std::string config_path_;
  std::string run_dir_;
  int runs_ = 0;
};

TEST_F(OlympicsFailover, KillsTheMasterAndANonMasterAndReportsTheWindows) {
  if (!have_binaries()) GTEST_SKIP() << "not every binary is built";
  const Run r = failover({"--kills", "2", "--target", "both", "--tablets", "10", "--rate", "30",
                          "--quiet-ms", "1500", "--down-ms", "500"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("kill 1/2: fe1 (master, epoch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fe2 took over"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kill 2/2: fe2 (non-master)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kills of the master: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kills of a non-master: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("publisher: first ack after the kill"), std::string::npos) << r.output;
  const std::string json = read_text_file(run_dir_ + "/failover.json");
  EXPECT_NE(json.find("\"kill\": 1, \"node\": \"fe1\", \"was_master\": true"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"kill\": 2, \"node\": \"fe2\", \"was_master\": false"), std::string::npos)
      << json;
  EXPECT_EQ(json.find("\"publisher_ms\": null"), std::string::npos) << json;
  EXPECT_NE(read_text_file(run_dir_ + "/failover.yaml").find("interval_ms: 100"), std::string::npos);
  // The cluster is down: nothing of the run directory is running.
  std::ostringstream sink;
  Config c = config_;
  c.run_dir = run_dir_;
  EXPECT_EQ(Cluster(c, config_path_, "", sink).down(), 0);
}

TEST_F(OlympicsFailover, RefusesARunDirectoryWithAnEarlierRunUnlessClean) {
  std::filesystem::create_directories(run_dir_);
  std::ofstream(run_dir_ + "/acks.csv") << "old\n";
  const Run r = failover({"--kills", "1"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("holds an earlier run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--clean"), std::string::npos) << r.output;
  EXPECT_EQ(read_text_file(run_dir_ + "/acks.csv"), "old\n");
}

TEST_F(OlympicsFailover, ATimeoutBelowTwiceTheIntervalIsABadConfig) {
  const Run r = failover({"--interval-ms", "50", "--timeout-ms", "60"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("heartbeat.timeout_ms"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace oly::olympics
