// Process management shared by the cluster tool and the scenario scripts: starting a program
// detached, asking whether a pid is alive, signalling it and waiting for it to go, and the small
// files (pid, argv) that remember what was started.
//
// A detached process runs in its own session (it is the leader, so its process group id is its
// pid), reads /dev/null and appends stdout and stderr to a log file. It is not a child of the
// caller (an intermediate process forks it and exits), so it outlives the caller and init reaps
// it. A zombie or a pid that no longer exists counts as gone.
//
// Errors: spawn_detached and write_text_file throw ProcessError with a one-line reason naming the
// program or the file. The other functions never throw.
//
// Thread-safety: free functions without shared state. spawn_detached may be called while other
// threads run (only async-signal-safe calls happen between fork and exec).
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "verify/run_dir.h"

namespace oly::olympics {

class ProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Starts argv[0] (a path, not searched in PATH) with `argv`, detached as described above, with
// default signal dispositions. Returns its pid once it has exec'd. Throws ProcessError when the
// log file cannot be opened, fork fails, or the program cannot be executed (missing, not
// executable), with the reason.
pid_t spawn_detached(const std::vector<std::string>& argv, const std::string& log_file);

enum class ProcState {
  kGone,     // no such process, or a zombie
  kRunning,  // alive (running or sleeping)
  kPaused,   // stopped by SIGSTOP (or traced)
};
ProcState process_state(pid_t pid);

// How long process `pid` has run and its resident memory, from /proc; nullopt when /proc cannot say.
struct ProcessFacts {
  double uptime_s = 0;
  int64_t resident_bytes = 0;
};
std::optional<ProcessFacts> process_facts(pid_t pid);
inline bool is_alive(pid_t pid) {
  return process_state(pid) != ProcState::kGone;
}

// argv[0] of a live process as /proc shows it, or nullopt when it cannot be read.
std::optional<std::string> process_program(pid_t pid);

// Sends `sig` to `pid`; false if the process does not exist (or may not be signalled).
bool send_signal(pid_t pid, int sig);

// Polls every 20 ms until `pid` is gone or `timeout` passed; true when it is gone.
bool wait_for_exit(pid_t pid, Duration timeout);

// Signal names as users type them, without the SIG prefix ("KILL", "TERM", ...).
std::optional<int> signal_from_name(const std::string& name);
// "SIGKILL" for SIGKILL; "signal N" for one not in the table.
std::string signal_name(int sig);

// Replaces `path` with `text` atomically (temporary file, then rename). Throws ProcessError.
void write_text_file(const std::string& path, const std::string& text);
// The pid in a pid file (one decimal number), or nullopt when missing or unreadable.
std::optional<pid_t> read_pid_file(const std::string& path);
// An argv file holds one argument per line (verify::read_argv_file reads it back).
// REQUIRES: no argument contains a newline.
void write_argv_file(const std::string& path, const std::vector<std::string>& argv);
using verify::read_argv_file;

}  // namespace oly::olympics
