// The `olympics` tool against real processes: up, status, kill, restart, down and demo on a
// cluster on free ports in a temporary directory, and the refusals that need no other binary.
// Whatever happens, the fixture brings the cluster down (through olympics_core) at the end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "olympics/cluster.h"
#include "olympics/process.h"
#include "tests/support/process.h"

namespace oly::olympics {
namespace {

using oly::testing::bin;
using oly::testing::read_text_file;
using oly::testing::Child;
using oly::testing::Finished;
using oly::testing::eventually;

bool have(std::initializer_list<const char*> binaries) {
  for (const char* b : binaries) {
    if (!std::filesystem::exists(bin(b))) return false;
  }
  return true;
}

// The "state" of `node` in the output of `olympics status --json` ("" if the node is missing or
// the output is not JSON).
std::string state_of(const std::string& json, const std::string& node) {
  const auto rows = nlohmann::json::parse(json, nullptr, false);
  if (!rows.is_array()) return "";
  for (const auto& row : rows) {
    if (row.value("node", "") == node) return row.value("state", "");
  }
  return "";
}

// A /bin/sleep child, once it runs /bin/sleep (until exec, /proc shows the test's own program).
class Sleeper : public Child {
 public:
  explicit Sleeper(const std::string& log) : Child({"/bin/sleep", "60"}, log) {
    eventually([&] { return process_program(pid()) == "/bin/sleep"; }, ms(5000));
  }
};

// A listening TCP socket on 127.0.0.1:port, closed at the end of the test.
class Listener {
 public:
  explicit Listener(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 1) == 0;
  }
  ~Listener() { ::close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

class OlympicsTool : public ::testing::Test {
 protected:
  OlympicsTool()
      : config_(oly::testing::cluster_config(dir_.path())),
        config_path_(dir_.file("cluster.yaml")) {
    oly::testing::write_config(config_, config_path_);
  }
  ~OlympicsTool() override {
    std::ostringstream sink;
    Cluster(config_, config_path_, "", sink).down();
  }

  // Runs `olympics <args> --config <ours>` to completion.
  Finished olympics(std::vector<std::string> args, Duration timeout = ms(60000)) {
    return oly::testing::run_to_end(tool_argv(std::move(args)), next_output(), timeout);
  }

  std::vector<std::string> tool_argv(std::vector<std::string> args) {
    args.insert(args.begin(), bin("olympics"));
    args.insert(args.end(), {"--config", config_path_});
    return args;
  }
  std::string next_output() {
    last_output_ = dir_.file("olympics-" + std::to_string(++runs_) + ".out");
    return last_output_;
  }

  // Pids in the run directory's pid files, by node.
  std::map<std::string, pid_t> recorded_pids() const {
    std::map<std::string, pid_t> pids;
    const RunLayout layout{dir_.path()};
    for (const auto& n : cluster_nodes(config_)) {
      if (auto pid = read_pid_file(layout.pid_file(n.name))) pids[n.name] = *pid;
    }
    return pids;
  }

  int port_of(const std::string& address) const { return parse_tcp_endpoint(address)->port; }

  oly::testing::TempDir dir_;
  Config config_;
  std::string config_path_;
  std::string last_output_;
  int runs_ = 0;
};

TEST_F(OlympicsTool, StatusShowsEveryNodeOfAClusterThatIsNotRunningAsDown) {
  const Finished r = olympics({"status", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* node : {"db", "fe1", "fe2", "cacofonix", "tablets"})
    EXPECT_EQ(state_of(r.output, node), "down");
  const Finished table = olympics({"status"});
  EXPECT_NE(table.output.find("0 of 5 nodes up"), std::string::npos) << table.output;
}

TEST_F(OlympicsTool, UpRefusesWhenAPortIsTakenNamingTheNodeAndPort) {
  const int port = port_of(config_.frontends[1].pub);
  Listener taken(port);
  ASSERT_TRUE(taken.ok());
  const Finished r = olympics({"up", "--no-clients"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("fe2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::to_string(port)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("already in use"), std::string::npos) << r.output;
  EXPECT_TRUE(recorded_pids().empty());
}

TEST_F(OlympicsTool, UpRefusesWhenAClusterOfThisRunDirectoryIsUp) {
  Sleeper sleeper(dir_.file("sleep.log"));
  const RunLayout layout{dir_.path()};
  std::filesystem::create_directories(layout.pids_dir());
  write_text_file(layout.pid_file("db"), std::to_string(sleeper.pid()) + "\n");
  write_argv_file(layout.cmd_file("db"), {"/bin/sleep", "60"});
  const Finished r = olympics({"up"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("already up"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("db is running (pid " + std::to_string(sleeper.pid()) + ")"),
            std::string::npos)
      << r.output;
}

TEST_F(OlympicsTool, APidFileWhoseProcessRunsAnotherProgramDoesNotCount) {
  Sleeper sleeper(dir_.file("sleep.log"));
  const RunLayout layout{dir_.path()};
  std::filesystem::create_directories(layout.pids_dir());
  write_text_file(layout.pid_file("fe1"), std::to_string(sleeper.pid()) + "\n");
  write_argv_file(layout.cmd_file("fe1"), {bin("frontend"), "--id", "fe1"});
  std::ostringstream sink;
  Cluster cluster(config_, config_path_, "", sink);
  EXPECT_FALSE(cluster.running_pid(cluster.node("fe1")));
  write_argv_file(layout.cmd_file("fe1"), {"/bin/sleep", "60"});
  EXPECT_EQ(cluster.running_pid(cluster.node("fe1")), sleeper.pid());
}

TEST_F(OlympicsTool, KillAndRestartRefuseUnknownOrStoppedNodesClearly) {
  Finished r = olympics({"kill", "fe9"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown node 'fe9'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("db, fe1, fe2, cacofonix, tablets"), std::string::npos) << r.output;
  r = olympics({"kill", "fe1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("fe1 is not running"), std::string::npos) << r.output;
  r = olympics({"restart", "fe1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is stopped (no node runs): 'olympics up' starts it"), std::string::npos) << r.output;
}

TEST_F(OlympicsTool, ABadConfigIsOneLineNamingTheKeyAndExitStatus2) {
  std::ofstream(config_path_) << "consistency: sideways\n";
  const Finished r = olympics({"status"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("consistency"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(OlympicsTool, UpStatusKillRestartAndDownManageTheServers) {
  if (!have({"database", "frontend"})) GTEST_SKIP() << "database or frontend not built";
  Finished r = olympics({"up", "--no-clients", "--log-level", "debug"});
  ASSERT_EQ(r.status, 0) << r.output;
  const auto started = recorded_pids();
  ASSERT_EQ(started.size(), 3u) << r.output;
  const auto argv = read_argv_file(RunLayout{dir_.path()}.cmd_file("fe1").string());
  ASSERT_TRUE(argv);
  EXPECT_NE(std::find(argv->begin(), argv->end(), "--log-level"), argv->end());
  EXPECT_EQ(argv->back(), "debug");

  r = olympics({"status", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* node : {"db", "fe1", "fe2"})
    EXPECT_EQ(state_of(r.output, node), "up") << r.output;
  EXPECT_EQ(state_of(r.output, "tablets"), "down");

  // For scripts: the run directory alone finds the run's config, and health says it serves (once
  // a master is settled), with exit status 0.
  r = oly::testing::run_to_end({bin("olympics"), "status", "--json", "--run-dir", dir_.path()}, next_output(),
                               ms(60000));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(state_of(r.output, "fe1"), "up") << "the run's own ports were asked: " << r.output;
  EXPECT_TRUE(eventually([&] { return (r = olympics({"health"})).status == 0; }, ms(20000))) << r.output;
  EXPECT_EQ(r.output.rfind("healthy: the database and 2 front ends up; master fe1", 0), 0u) << r.output;

  r = olympics({"stats", "fe1"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("fe1 (master), asked now\ncounters:\n", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("\n  cache_hits "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\n  consistency "), std::string::npos) << r.output;
  r = olympics({"stats", "cacofonix"});  // never ran: no stats file
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("cacofonix did not answer and left no stats file"), std::string::npos) << r.output;

  r = olympics({"kill", "fe2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("SIGKILL"), std::string::npos) << r.output;
  EXPECT_FALSE(is_alive(started.at("fe2")));
  EXPECT_EQ(state_of(olympics({"status", "--json"}).output, "fe2"), "down");
  r = olympics({"health"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("unhealthy: fe2 down"), std::string::npos) << r.output;

  r = olympics({"restart", "fe2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(state_of(olympics({"status", "--json"}).output, "fe2"), "up");
  const auto running = recorded_pids();
  EXPECT_NE(running.at("fe2"), started.at("fe2"));

  r = olympics({"down"});
  ASSERT_EQ(r.status, 0) << r.output;
  for (const auto& [node, pid] : running) EXPECT_FALSE(is_alive(pid)) << node;
  EXPECT_TRUE(recorded_pids().empty());
  r = olympics({"restart", "fe1"});  // not a lone front end of a stopped cluster
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("is stopped"), std::string::npos) << r.output;
  EXPECT_TRUE(recorded_pids().empty());
}

TEST_F(OlympicsTool, StopAndContPauseAndResumeANode) {
  if (!have({"database", "frontend"})) GTEST_SKIP() << "database or frontend not built";
  ASSERT_EQ(olympics({"up", "--no-clients"}).status, 0) << last_output_;
  ASSERT_EQ(olympics({"kill", "fe1", "--signal", "STOP"}).status, 0);
  EXPECT_EQ(state_of(olympics({"status", "--json"}).output, "fe1"), "paused");
  ASSERT_EQ(olympics({"kill", "fe1", "--signal", "CONT"}).status, 0);
  EXPECT_TRUE(eventually(
      [&] {
        return state_of(olympics({"status", "--json"}).output, "fe1") == "up";
      },
      ms(10000)));
}

TEST_F(OlympicsTool, TheDemoRunsTheWholeClusterAndStopsIt) {
  if (!have({"database", "frontend", "cacofonix", "tablet"}))
    GTEST_SKIP() << "not every binary is built";
  // (--run-dir: by default each demo gets a directory of its own under run_dir)
  const Finished r = olympics({"demo", "--duration", "4", "--tablets", "10", "--run-dir", dir_.path()});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\ndemo: PASS: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("verdict: PASS"), std::string::npos) << r.output;  // the checker ran
  EXPECT_TRUE(std::filesystem::exists(dir_.file("check.json")));
  EXPECT_NE(r.output.find("scoreboard from fe1"), std::string::npos) << r.output;
  EXPECT_TRUE(recorded_pids().empty()) << r.output;

  // The checker's plot of the run: a PNG, with the data of its four panels beside it.
  std::ofstream(dir_.file("scenario.txt")) << "the-demo\n";
  const Finished plot = olympics({"check", dir_.path(), "--plot"});
  ASSERT_EQ(plot.status, 0) << plot.output;
  std::ifstream png(dir_.file("check.png"), std::ios::binary);
  std::string signature(8, '\0');
  png.read(signature.data(), 8);
  EXPECT_EQ(signature, "\x89PNG\r\n\x1a\n");
  const std::string gp = read_text_file(dir_.file("check-plot/timeline.gp"));
  EXPECT_NE(gp.find("the-demo: push"), std::string::npos) << gp;  // titled with the scenario
  for (const char* panel : {"master (the front end", "requests per second (0.25 s buckets)", "latency:", "staleness"}) {
    EXPECT_NE(gp.find(panel), std::string::npos) << panel;
  }
  const std::string master = read_text_file(dir_.file("check-plot/master.dat"));
  EXPECT_NE(master.find(" 0\n"), std::string::npos) << master;  // fe1 (index 0) acknowledged
  const std::string latency = read_text_file(dir_.file("check-plot/latency.dat"));
  EXPECT_EQ(latency.rfind("second read_p50_ms read_p99_ms ack_p50_ms ack_p99_ms\n", 0), 0u) << latency;
}

TEST_F(OlympicsTool, InterruptingTheDemoStopsEveryProcess) {
  if (!have({"database", "frontend", "cacofonix", "tablet"}))
    GTEST_SKIP() << "not every binary is built";
  Child demo(tool_argv({"demo", "--duration", "120", "--tablets", "10", "--run-dir", dir_.path()}),
             next_output());
  ASSERT_TRUE(eventually(
      [&] { return read_text_file(last_output_).find("demo: running") != std::string::npos; }, ms(30000)))
      << read_text_file(last_output_);
  const auto running = recorded_pids();
  EXPECT_EQ(running.size(), 5u);
  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(ms(20000)), 130) << read_text_file(last_output_);
  for (const auto& [node, pid] : running) EXPECT_FALSE(is_alive(pid)) << node;
  EXPECT_NE(read_text_file(last_output_).find("interrupted"), std::string::npos);
}

}  // namespace
}  // namespace oly::olympics
