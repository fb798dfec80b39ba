#include "olympics/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/metrics_page.h"

namespace oly::olympics {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Reads exactly `n` bytes unless EOF comes first; returns how many were read.
size_t read_full(int fd, void* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

// The grandchild, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_detached(char* const* args, int log_fd, int null_fd, int report_fd) {
  ::setsid();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD})
    ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::dup2(null_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  const pid_t self = ::getpid();
  (void)!::write(report_fd, &self, sizeof self);
  ::execv(args[0], args);
  const int err = errno;
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

pid_t spawn_detached(const std::vector<std::string>& argv, const std::string& log_file) {
  if (argv.empty()) throw ProcessError("nothing to start: empty command");
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);

  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw ProcessError("cannot open log file " + log_file + ": " + errno_text(errno));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    throw ProcessError("cannot start " + argv[0] + ": " + errno_text(err));
  }
  // The pipe reports the grandchild's pid, then either EOF (exec succeeded: the write end is
  // close-on-exec) or the errno of the failed exec.
  const pid_t mid = ::fork();
  if (mid == 0) {
    ::close(report[0]);
    const pid_t pid = ::fork();
    if (pid == 0) exec_detached(args.data(), log_fd, null_fd, report[1]);
    ::_exit(pid < 0 ? 1 : 0);
  }
  const int fork_err = errno;
  ::close(report[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (mid < 0) {
    ::close(report[0]);
    throw ProcessError("cannot start " + argv[0] + ": fork: " + errno_text(fork_err));
  }
  int status = 0;
  while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  pid_t pid = -1;
  const bool got_pid = read_full(report[0], &pid, sizeof pid) == sizeof pid;
  int exec_err = 0;
  const bool exec_failed =
      got_pid && read_full(report[0], &exec_err, sizeof exec_err) == sizeof exec_err;
  ::close(report[0]);
  if (!got_pid) throw ProcessError("cannot start " + argv[0] + ": fork failed");
  if (exec_failed) throw ProcessError("cannot run " + argv[0] + ": " + errno_text(exec_err));
  return pid;
}

std::optional<ProcessFacts> process_facts(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat_file(dir + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return std::nullopt;
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // After the name: field 3 (the state) onwards; field 22 is the start time in clock ticks since boot.
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  double since_boot = 0;
  std::ifstream uptime("/proc/uptime");
  const int64_t resident = resident_memory_bytes(dir);
  if (!(uptime >> since_boot) || resident == 0 || field.empty()) return std::nullopt;
  const double started = std::stod(field) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return ProcessFacts{std::max(0.0, since_boot - started), resident};
}

ProcState process_state(pid_t pid) {
  if (pid <= 0) return ProcState::kGone;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return ProcState::kGone;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return ProcState::kRunning;  // no /proc: trust kill()
  // The state follows the command name, which is in parentheses and may contain anything.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return ProcState::kRunning;
  switch (stat[close + 2]) {
    case 'Z':
    case 'X':
      return ProcState::kGone;
    case 'T':
    case 't':
      return ProcState::kPaused;
    default:
      return ProcState::kRunning;
  }
}

std::optional<std::string> process_program(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string arg0;
  if (!std::getline(in, arg0, '\0') || arg0.empty()) return std::nullopt;
  return arg0;
}

bool send_signal(pid_t pid, int sig) {
  return pid > 0 && ::kill(pid, sig) == 0;
}

bool wait_for_exit(pid_t pid, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (is_alive(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

namespace {
constexpr std::pair<const char*, int> kSignals[] = {
    {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"INT", SIGINT},
    {"HUP", SIGHUP},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
}  // namespace

std::optional<int> signal_from_name(const std::string& name) {
  const std::string bare = name.rfind("SIG", 0) == 0 ? name.substr(3) : name;
  for (const auto& [n, s] : kSignals) {
    if (bare == n) return s;
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  for (const auto& [n, s] : kSignals) {
    if (sig == s) return std::string("SIG") + n;
  }
  return "signal " + std::to_string(sig);
}

void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw ProcessError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw ProcessError("cannot write " + path + ": " + ec.message());
}

std::optional<pid_t> read_pid_file(const std::string& path) {
  std::ifstream in(path);
  long long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

void write_argv_file(const std::string& path, const std::vector<std::string>& argv) {
  std::ostringstream text;
  for (const auto& a : argv) text << a << '\n';
  write_text_file(path, text.str());
}

}  // namespace oly::olympics
