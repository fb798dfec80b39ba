// bench_failover's refusals, which need no cluster: an earlier run's run directory, a bad
// heartbeat setting. (Killing the master under load is judged once per mode by the scenario
// tests, tests/scenario/scenarios_test.cpp; bench_failover measures it and asserts nothing.)
// Whatever happens, the fixture brings any cluster down (through olympics_core) at the end.
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
using oly::testing::Finished;
using oly::testing::run_to_end;

class BenchFailover : public ::testing::Test {
 protected:
  BenchFailover()
      : config_(oly::testing::cluster_config(dir_.file("run"))),
        config_path_(dir_.file("cluster.yaml")),
        run_dir_(dir_.file("failover")) {
    oly::testing::write_config(config_, config_path_);
  }
  ~BenchFailover() override {
    std::ostringstream sink;
    Config c = config_;
    c.run_dir = run_dir_;
    Cluster(c, config_path_, "", sink).down();
  }

  Finished failover(std::vector<std::string> args, Duration timeout = ms(120000)) {
    args.insert(args.begin(),
                {bin("bench_failover"), "--config", config_path_, "--run-dir", run_dir_});
    return run_to_end(std::move(args), dir_.file("failover-" + std::to_string(++runs_) + ".out"), timeout);
  }

  oly::testing::TempDir dir_;
  Config config_;
  std::string config_path_;
  std::string run_dir_;
  int runs_ = 0;
};

TEST_F(BenchFailover, RefusesARunDirectoryWithAnEarlierRunUnlessClean) {
  std::filesystem::create_directories(run_dir_);
  std::ofstream(run_dir_ + "/acks.csv") << "old\n";
  const Finished r = failover({"--kills", "1"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("holds an earlier run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--clean"), std::string::npos) << r.output;
  EXPECT_EQ(read_text_file(run_dir_ + "/acks.csv"), "old\n");
}

TEST_F(BenchFailover, ATimeoutBelowTwiceTheIntervalIsABadConfig) {
  const Finished r = failover({"--interval-ms", "50", "--timeout-ms", "60"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("heartbeat.timeout_ms"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace oly::olympics
