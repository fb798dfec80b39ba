// Helpers for process tests: free loopback ports, temporary directories, child processes that
// are always cleaned up, one-shot ZeroMQ requests, and cluster configs on free ports.
//
// Cleanup: a Child is SIGKILLed (its whole process group) when the Child object is destroyed,
// and every child also gets PR_SET_PDEATHSIG=SIGKILL, so it dies with the test process even when
// the test crashes. TempDir removes its directory unless OLY_KEEP_TEST_DIRS is set.
//
// Where: TempDir makes its directory under $OLY_TEST_TMPDIR when set, else under /dev/shm when
// that is a writable directory, else under the system's temporary directory. Process tests judge
// the protocol, not the disk: on a shared CI host another job's writes can hold one SQLite fsync
// for hundreds of milliseconds, long enough to time tablets' reads out (see README, "A slow
// disk"). Durability across kill -9 holds on tmpfs too, since the page cache outlives the process.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/message.h"

namespace oly::testing {

// `n` distinct TCP ports on 127.0.0.1 that were free when checked (each bound and released),
// drawn at random from 20000-32767 (below Linux's ephemeral range, so no outgoing connection
// takes one before it is bound) so that parallel test runs seldom collide. Never a port an earlier
// call of this process handed out. With `partner` > 0, each port p also has p + partner free
// (and below 32768), reserved alike: for a server that derives a second port from its first
// (scripts/kvstore: Raft at HTTP + 1000).
std::vector<int> free_ports(int n, int partner = 0);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class Child {
 public:
  // Starts argv[0] (a path) with argv, stdout and stderr appended to `log_file`.
  Child(std::vector<std::string> argv, const std::string& log_file);
  ~Child();  // SIGKILL to the process group, then reaps
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool alive();
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit status (or 128+signal), nullopt if still running.
  std::optional<int> wait(Duration timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The whole content of a text file ("" when it cannot be read): a child's output, a JSON report.
std::string read_text_file(const std::string& path);

// A program run to its end: its exit status (-1 when it outlived the timeout and was killed) and
// everything it wrote to stdout and stderr.
struct Finished {
  int status = -1;
  std::string output;
};

// Runs argv (argv[0] a path) to its end or `timeout`, its output in `log_file`.
Finished run_to_end(std::vector<std::string> argv, const std::string& log_file, Duration timeout);

// Path of a project binary (build/bin/<name>).
std::string bin(const std::string& name);

// Sends `msg` to the ROUTER at `address` from a fresh DEALER and waits up to `timeout` for one
// reply; nullopt on timeout or an undecodable reply.
std::optional<Message> request(const std::string& address, const Message& msg, Duration timeout = ms(2000));

// Sends raw bytes and returns the raw reply frame, for malformed-input tests.
std::optional<std::string> request_raw(const std::string& address, const std::string& bytes, Duration timeout = ms(2000));

// Polls `pred` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& pred, Duration timeout);

// The default cluster config (Config{}) moved onto free ports, with run_dir = `run_dir`, and
// `security: plain` (see process.cpp).
Config cluster_config(const std::string& run_dir);
// Makes `c`'s database tier `n` replicas db1..dbn on free ports.
void replicate(Config& c, int n);
// Adds front ends on free ports until `c` has `n` (fe3, fe4, ...).
void add_frontends(Config& c, size_t n);
// Writes `c` as YAML to `path` (so binaries can load it with --config).
void write_config(const Config& c, const std::string& path);

}  // namespace oly::testing
