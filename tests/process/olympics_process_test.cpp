// olympics_core's process management: detached start, liveness, signals, pid and argv files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "olympics/process.h"
#include "tests/support/process.h"

namespace oly::olympics {
namespace {

using oly::testing::eventually;
using oly::testing::read_text_file;
using oly::testing::TempDir;

// SIGKILLs a detached process when the test ends, however it ends.
struct Reaper {
  pid_t pid = -1;
  ~Reaper() {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
};

TEST(SpawnDetached, RunsTheProgramInItsOwnSessionWithItsOutputInTheLog) {
  TempDir dir;
  const std::string log = dir.file("x.log");
  Reaper r{spawn_detached({"/bin/sh", "-c", "echo out; echo err >&2; exec sleep 30"}, log)};
  EXPECT_TRUE(is_alive(r.pid));
  EXPECT_EQ(::getsid(r.pid), r.pid);
  EXPECT_EQ(::getpgid(r.pid), r.pid);
  EXPECT_TRUE(eventually([&] { return read_text_file(log) == "out\nerr\n"; }, ms(5000))) << read_text_file(log);
  EXPECT_EQ(::waitpid(r.pid, nullptr, WNOHANG), -1);  // not our child: init reaps it
  EXPECT_TRUE(send_signal(r.pid, SIGKILL));
  EXPECT_TRUE(wait_for_exit(r.pid, ms(5000)));
}

TEST(SpawnDetached, AMissingProgramIsAnErrorNamingIt) {
  TempDir dir;
  try {
    spawn_detached({dir.file("no-such-binary")}, dir.file("x.log"));
    FAIL() << "expected ProcessError";
  } catch (const ProcessError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-binary"), std::string::npos) << e.what();
  }
}

TEST(SpawnDetached, AnUnwritableLogIsAnErrorNamingIt) {
  EXPECT_THROW(spawn_detached({"/bin/true"}, "/nonexistent-dir/x.log"), ProcessError);
}

TEST(ProcessState, APausedProcessIsAliveButPaused) {
  TempDir dir;
  Reaper r{spawn_detached({"/bin/sleep", "30"}, dir.file("x.log"))};
  ASSERT_TRUE(send_signal(r.pid, SIGSTOP));
  EXPECT_TRUE(eventually([&] { return process_state(r.pid) == ProcState::kPaused; }, ms(5000)));
  EXPECT_TRUE(is_alive(r.pid));
  ASSERT_TRUE(send_signal(r.pid, SIGCONT));
  EXPECT_TRUE(eventually([&] { return process_state(r.pid) == ProcState::kRunning; }, ms(5000)));
  EXPECT_EQ(process_program(r.pid), "/bin/sleep");
}

TEST(ProcessState, AZombieCountsAsGone) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(eventually([&] { return process_state(child) == ProcState::kGone; }, ms(5000)));
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(process_state(child), ProcState::kGone);
  EXPECT_EQ(process_state(-1), ProcState::kGone);
}

TEST(WaitForExit, GivesUpAfterTheTimeout) {
  TempDir dir;
  Reaper r{spawn_detached({"/bin/sleep", "30"}, dir.file("x.log"))};
  EXPECT_FALSE(wait_for_exit(r.pid, ms(50)));
}

TEST(PidAndArgvFiles, RoundTrip) {
  TempDir dir;
  write_text_file(dir.file("a.pid"), "1234\n");
  EXPECT_EQ(read_pid_file(dir.file("a.pid")), 1234);
  EXPECT_FALSE(read_pid_file(dir.file("missing.pid")));
  write_text_file(dir.file("bad.pid"), "x\n");
  EXPECT_FALSE(read_pid_file(dir.file("bad.pid")));
  const std::vector<std::string> argv = {"/bin/frontend", "--id", "fe1", "--config", "/a b/c.yaml"};
  write_argv_file(dir.file("a.cmd"), argv);
  EXPECT_EQ(read_argv_file(dir.file("a.cmd")), argv);
  EXPECT_FALSE(read_argv_file(dir.file("missing.cmd")));
}

TEST(SignalNames, AreReadWithOrWithoutSigAndPrintedWithIt) {
  EXPECT_EQ(signal_from_name("KILL"), SIGKILL);
  EXPECT_EQ(signal_from_name("SIGTERM"), SIGTERM);
  EXPECT_EQ(signal_from_name("STOP"), SIGSTOP);
  EXPECT_FALSE(signal_from_name("BOGUS"));
  EXPECT_EQ(signal_name(SIGCONT), "SIGCONT");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
}

}  // namespace
}  // namespace oly::olympics
