#include "olympics/cluster.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <thread>

#include "verify/events.h"
#include "olympics/query.h"

namespace oly::olympics {

using verify::action_for_signal;
using verify::append_event;

namespace fs = std::filesystem;

namespace {

constexpr Duration kStopGrace = ms(3000);     // SIGTERM to SIGKILL
constexpr Duration kClientSettle = ms(1500);  // a client shows life by writing its stats file

std::string last_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  constexpr size_t kMax = 200;
  return last.size() > kMax ? last.substr(0, kMax) + "..." : last;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

std::string seconds(Duration d) {
  return std::to_string(d.count() / 1'000'000) + " s";
}

}  // namespace

std::string self_bin_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

Cluster::Cluster(Config config, const std::string& config_path, std::string bin_dir,
                 std::ostream& out, const std::atomic<bool>* stop)
    : config_(std::move(config)),
      config_path_(fs::absolute(config_path).lexically_normal().string()),
      bin_dir_(std::move(bin_dir)),
      layout_{fs::absolute(config_.run_dir).lexically_normal()},
      nodes_(cluster_nodes(config_)),
      out_(out),
      stop_(stop) {}

const NodeSpec& Cluster::node(const std::string& name) const {
  std::string names;
  for (const auto& n : nodes_) {
    if (n.name == name) return n;
    names += (names.empty() ? "" : ", ") + n.name;
  }
  throw ClusterError("unknown node '" + name + "'; the nodes of " + config_.source + " are " +
                     names);
}

std::optional<pid_t> Cluster::running_pid(const NodeSpec& node) const {
  const auto pid = read_pid_file(layout_.pid_file(node.name));
  if (!pid || !is_alive(*pid)) return std::nullopt;
  const auto argv = read_argv_file(layout_.cmd_file(node.name));
  const auto program = process_program(*pid);
  if (argv && program && argv->front() != *program) return std::nullopt;  // the pid was reused
  return pid;
}

void Cluster::up(const UpOptions& options) {
  refuse_if_up();
  refuse_if_ports_taken();
  const LaunchOptions launch{
      bin_dir_,     config_path_,   layout_.dir.string(), options.consistency,
      options.rate, options.tablets, config_.replicated()};
  std::vector<const NodeSpec*> to_start;
  for (const auto& n : nodes_) {
    if (!options.clients && !is_server(n.kind)) continue;
    const fs::path binary = fs::path(bin_dir_) / binary_name(n.kind);
    if (::access(binary.c_str(), X_OK) != 0) {
      throw ClusterError("cannot start " + n.name + ": no executable " + binary.string() +
                         " (build the project first)");
    }
    to_start.push_back(&n);
  }
  std::error_code ec;
  fs::create_directories(layout_.pids_dir(), ec);
  if (ec)
    throw ClusterError("cannot create run directory " + layout_.pids_dir().string() + ": " +
                       ec.message());
  try {
    for (const NodeSpec* n : to_start) start(*n, node_argv(*n, launch), options.ready_timeout);
  } catch (const ClusterError&) {
    out_ << "stopping what was started\n";
    down();
    throw;
  }
  out_ << "cluster up (run directory " << layout_.dir.string() << ")\n";
}

void Cluster::refuse_if_up() const {
  for (const auto& n : nodes_) {
    if (const auto pid = running_pid(n)) {
      throw ClusterError("a cluster is already up in " + layout_.dir.string() + ": " + n.name +
                         " is running (pid " + std::to_string(*pid) +
                         "); stop it with 'olympics down'");
    }
  }
}

void Cluster::refuse_if_ports_taken() const {
  if (const auto c = find_port_conflict(nodes_, tcp_port_in_use)) {
    const auto e = parse_tcp_endpoint(c->address);
    throw ClusterError("cannot start " + c->node + ": port " + std::to_string(e->port) + " (" +
                       c->address + ") is already in use by another program");
  }
}

void Cluster::start(const NodeSpec& node, const std::vector<std::string>& argv,
                    Duration ready_timeout) {
  if (!is_server(node.kind)) remove_quietly(layout_.stats_file(node.name));  // no stale numbers
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = -1;
  record(node.name, "start");
  try {
    pid = spawn_detached(argv, layout_.log_file(node.name).string());
    write_argv_file(layout_.cmd_file(node.name).string(), argv);
    write_text_file(layout_.pid_file(node.name).string(), std::to_string(pid) + "\n");
  } catch (const ProcessError& e) {
    if (pid > 0) send_signal(pid, SIGKILL);
    throw ClusterError("cannot start " + node.name + ": " + e.what());
  }
  wait_ready(node, pid, ready_timeout);
  const auto took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char when[32];
  std::snprintf(when, sizeof when, "%.1f s", took);
  out_ << "started " << node.name << " (pid " << pid << ") in " << when << ", log "
       << layout_.log_file(node.name).string() << "\n";
}

void Cluster::wait_ready(const NodeSpec& node, pid_t pid, Duration timeout) {
  const auto deadline =
      std::chrono::steady_clock::now() + (is_server(node.kind) ? timeout : kClientSettle);
  while (true) {
    if (stop_ != nullptr && stop_->load()) throw Interrupted();
    if (!is_alive(pid)) throw ClusterError(failure(node, node.name + " exited while starting"));
    if (is_server(node.kind)) {
      const auto reply = request_all({{node.name, node.address, GetStats{}}}, ms(200)).front();
      if (reply) return;  // any answer, even an error, means it serves
    } else if (fs::exists(layout_.stats_file(node.name))) {
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (!is_server(node.kind)) return;  // alive: slow to write its first stats, not broken
      throw ClusterError(
          failure(node, node.name + " did not answer stats within " + seconds(timeout)));
    }
    sleep_unless_stopped(ms(50));
  }
}

std::string Cluster::failure(const NodeSpec& node, const std::string& what) const {
  const fs::path log = layout_.log_file(node.name);
  const std::string last = last_line(log);
  return what + "; see " + log.string() + (last.empty() ? "" : " (last line: " + last + ")");
}

void Cluster::record(const std::string& node, const std::string& action) const {
  try {
    append_event(layout_.events_file().string(), {SteadyClock().now(), node, action});
  } catch (const std::exception& e) {
    out_ << "warning: " << e.what() << " (the checker will miss this " << action << " of " << node
         << ")\n";
  }
}

void Cluster::sleep_unless_stopped(Duration d) const {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stop_ != nullptr && stop_->load()) throw Interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Cluster::down() {
  struct Victim {
    const NodeSpec* node;
    pid_t pid;
  };
  std::vector<Victim> running;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    if (const auto pid = running_pid(*it)) {
      running.push_back({&*it, *pid});
    } else {
      remove_quietly(layout_.pid_file(it->name));  // stale
    }
  }
  if (running.empty()) {
    out_ << "nothing running in " << layout_.dir.string() << "\n";
    return 0;
  }
  for (const auto& v : running) record(v.node->name, "down");
  for (const auto& v : running) {
    send_signal(v.pid, SIGTERM);
    send_signal(v.pid, SIGCONT);  // a paused process acts on SIGTERM only once resumed
  }
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  for (const auto& v : running) {
    wait_for_exit(
        v.pid, std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now()));
  }
  for (const auto& v : running) {
    std::string how = "stopped ";
    std::string why;
    if (is_alive(v.pid)) {
      send_signal(v.pid, SIGKILL);
      how = "killed ";
      why = ": still running " + seconds(kStopGrace) + " after SIGTERM";
      if (!wait_for_exit(v.pid, kStopGrace)) {
        out_ << v.node->name << " (pid " << v.pid << ") survived SIGKILL; pid file kept\n";
        continue;
      }
    }
    remove_quietly(layout_.pid_file(v.node->name));
    out_ << how << v.node->name << " (pid " << v.pid << ")" << why << "\n";
  }
  return static_cast<int>(running.size());
}

void Cluster::kill(const std::string& name, int sig) {
  const NodeSpec& n = node(name);
  const auto pid = running_pid(n);
  if (!pid)
    throw ClusterError(name + " is not running (no live process in " +
                       layout_.pid_file(name).string() + ")");
  record(name, action_for_signal(sig));
  if (!send_signal(*pid, sig)) {
    throw ClusterError("cannot send " + signal_name(sig) + " to " + name + " (pid " +
                       std::to_string(*pid) + "): " + std::strerror(errno));
  }
  out_ << "sent " << signal_name(sig) << " to " << name << " (pid " << *pid << ")";
  if (sig == SIGKILL || sig == SIGTERM) {
    if (sig == SIGTERM) send_signal(*pid, SIGCONT);
    if (wait_for_exit(*pid, kStopGrace)) {
      remove_quietly(layout_.pid_file(name));
      out_ << "; it has exited\n";
    } else {
      out_ << "; still running after " << seconds(kStopGrace) << "\n";
    }
  } else if (sig == SIGSTOP) {
    out_ << "; it is paused until 'olympics kill " << name << " --signal CONT'\n";
  } else {
    out_ << "\n";
  }
}

void Cluster::restart(const std::string& name) {
  const NodeSpec& n = node(name);
  if (const auto pid = running_pid(n)) {
    throw ClusterError(name + " is already running (pid " + std::to_string(*pid) +
                       "); kill it first");
  }
  const auto argv = read_argv_file(layout_.cmd_file(name).string());
  if (!argv) {
    throw ClusterError("no saved command for " + name + " in " + layout_.cmd_file(name).string() +
                       "; start the cluster with 'olympics up'");
  }
  start(n, *argv, UpOptions{}.ready_timeout);
}

std::string dated_run_dir(const Config& cfg, bool given, const std::string& what) {
  if (given) return cfg.run_dir;
  const std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
  return (std::filesystem::path(cfg.run_dir) / (what + "-" + std::string(stamp))).string();
}

int exit_status_of(const std::function<int()>& body, const std::string& stopped_note) {
  try {
    return body();
  } catch (const Interrupted&) {
    std::cerr << "interrupted; " << stopped_note << "\n";
    return 130;
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::runtime_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace oly::olympics
