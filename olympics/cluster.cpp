#include "olympics/cluster.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <thread>

#include "byzantine/signing_key_files.h"
#include "common/cluster_curve.h"
#include "common/key_files.h"
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
      stop_(stop) {
  // Replicas added by `olympics db add`: after the configured ones.
  for (const auto& [name, address] : verify::read_added_replicas(added_replicas_file())) {
    if (std::any_of(nodes_.begin(), nodes_.end(), [&](const NodeSpec& n) { return n.name == name; })) continue;
    const auto last_db = std::find_if(nodes_.rbegin(), nodes_.rend(), [](const NodeSpec& n) { return n.kind == NodeKind::kDatabase; });
    nodes_.insert(last_db.base(), NodeSpec{name, NodeKind::kDatabase, address, "", {}});
  }
  // The keys of a cluster that is up already; `up` makes them for a new one.
  if (config_.security == Security::kCurve && fs::is_directory(keys_dir(config_))) {
    try {
      use_keys(false);
    } catch (const ClusterError& e) {
      out_ << "warning: " << e.what() << "\n";
    }
  }
}

void Cluster::use_keys(bool make) {
  if (config_.security != Security::kCurve) return;
  try {
    if (make) {
      const auto made = ensure_cluster_keys(config_);
      std::string names;
      for (const auto& m : made) names += (names.empty() ? "" : ", ") + m;
      if (!made.empty()) out_ << "made " << made.size() << " CurveZMQ key pairs in " << keys_dir(config_) << " (" << names << ")\n";
      if (config_.byzantine && byzantine::ensure_signing_keys(keys_dir(config_), config_.cacofonix.id)) {
        out_ << "made the publisher's signing keys " << byzantine::signing_key_file(keys_dir(config_), config_.cacofonix.id)
             << " and .verify (Byzantine mode)\n";
      }
    }
    set_request_curve(node_curve(config_, KeyRole::kOperator, kOperatorName));
  } catch (const std::runtime_error& e) {
    throw ClusterError(e.what());
  }
}

fs::path Cluster::added_replicas_file() const { return layout_.added_replicas_file(); }

std::optional<Members> Cluster::members() const {
  std::vector<Request> asks;
  for (const auto& n : nodes_) {
    if (n.kind == NodeKind::kDatabase && running_pid(n)) asks.push_back({n.name, n.address, GetMembers{}});
  }
  std::optional<Members> best;
  for (auto& reply : request_all(asks, ms(1000))) {
    if (!reply) continue;
    if (auto* m = std::get_if<Members>(&reply->body); m != nullptr && (!best || m->index > best->index ||
                                                                       (m->index == best->index && m->leader && !best->leader))) {
      best = *m;
    }
  }
  return best;
}

void Cluster::add_replica(const std::string& name) {
  if (!config_.replicated()) throw ClusterError("the database tier of " + config_.source + " is a single database, not replicas");
  if (std::any_of(nodes_.begin(), nodes_.end(), [&](const NodeSpec& n) { return n.name == name; })) {
    throw ClusterError("there is already a node called '" + name + "'");
  }
  if (name.empty() || name.size() > 64 ||
      !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; })) {
    throw ClusterError("'" + name + "': a replica name is letters, digits, '-', '_' and '.' (at most 64)");
  }
  const NodeSpec* seed = nullptr;
  for (const auto& n : nodes_) {
    if (n.kind == NodeKind::kDatabase && running_pid(n)) {
      seed = &n;
      break;
    }
  }
  if (seed == nullptr) throw ClusterError("no replica of the tier is running to join through");
  if (config_.security == Security::kCurve) {
    try {
      Config with = config_;
      with.database.replicas.push_back({name, "tcp://127.0.0.1:1"});
      validate_key_names(with);
      if (ensure_key_pair(keys_dir(config_), KeyRole::kDatabase, name)) out_ << "made the key pair database/" << name << "\n";
    } catch (const std::runtime_error& e) {
      throw ClusterError(e.what());
    }
  }
  const std::string address = FreePorts().next();
  const NodeSpec spec{name, NodeKind::kDatabase, address, ""};
  LaunchOptions o;
  o.bin_dir = bin_dir_;
  o.config_path = config_path_;
  o.run_dir = layout_.dir.string();
  o.replicated = true;
  auto argv = node_argv(spec, o);
  argv.insert(argv.end(), {"--address", address, "--join", seed->address});
  {
    std::ofstream added(added_replicas_file(), std::ios::app);
    added << name << " " << address << "\n";
    if (!added) throw ClusterError("cannot write " + added_replicas_file().string());
  }
  const auto last_db = std::find_if(nodes_.rbegin(), nodes_.rend(), [](const NodeSpec& n) { return n.kind == NodeKind::kDatabase; });
  nodes_.insert(last_db.base(), spec);
  out_ << "adding replica " << name << " at " << address << ", joining through " << seed->name << " (" << seed->address << ")\n";
  start(spec, argv, UpOptions{}.ready_timeout);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto m = members()) {
      for (const auto& r : m->members) {
        if (r.id == name && r.role == "voter") {
          out_ << name << " is a voter of the tier (" << m->members.size() << " replicas, leader " << m->leader.value_or("?") << ")\n";
          return;
        }
        if (r.id == name && r.role == "gossip") {
          out_ << name << " is a member of the gossip tier (" << m->members.size() << " replicas)\n";
          return;
        }
      }
    }
    sleep_unless_stopped(ms(200));
  }
  throw ClusterError(name + " started but is not a member after 30 s (see " + layout_.log_file(name).string() + ")");
}

void Cluster::remove_replica(const std::string& name) {
  const NodeSpec& target = node(name);
  if (target.kind != NodeKind::kDatabase || !config_.replicated()) throw ClusterError("'" + name + "' is not a database replica");
  bool removed_by_gossip = false;
  if (config_.replication == Replication::kGossip) {
    // Any other running member takes it; gossip spreads it to the rest.
    std::string last_error = "no other replica of the tier is running";
    for (const auto& n : nodes_) {
      if (n.kind != NodeKind::kDatabase || n.name == name || !running_pid(n)) continue;
      auto reply = request_all({{n.name, n.address, RemoveReplica{name}}}, ms(3000))[0];
      if (reply && reply->is<Members>()) {
        out_ << n.name << " took the removal; gossip spreads it to the others\n";
        removed_by_gossip = true;
        break;
      }
      last_error = reply && reply->is<Error>() ? reply->as<Error>().error : n.name + " did not answer";
    }
    if (!removed_by_gossip) throw ClusterError("remove " + name + ": " + last_error);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string last_error = "no replica answered";
  bool removed = removed_by_gossip;
  while (!removed && std::chrono::steady_clock::now() < deadline) {
    const auto m = members();
    if (m && std::none_of(m->members.begin(), m->members.end(), [&](const ReplicaInfo& r) { return r.id == name; })) {
      removed = true;
      break;
    }
    if (m && m->leader) {
      const auto leader = std::find_if(m->members.begin(), m->members.end(), [&](const ReplicaInfo& r) { return r.id == *m->leader; });
      if (leader != m->members.end()) {
        auto reply = request_all({{leader->id, leader->address, RemoveReplica{name}}}, ms(3000))[0];
        if (reply && reply->is<Members>()) {
          const auto& after = reply->as<Members>();
          removed = std::none_of(after.members.begin(), after.members.end(), [&](const ReplicaInfo& r) { return r.id == name; });
        } else if (reply && reply->is<Error>()) {
          last_error = reply->as<Error>().error;
          if (reply->as<Error>().code != ErrorCode::kNotLeader) throw ClusterError("remove " + name + ": " + last_error);
        }
      }
    }
    if (!removed) sleep_unless_stopped(ms(200));
  }
  if (!removed) throw ClusterError("remove " + name + ": not removed after 20 s (" + last_error + ")");
  out_ << name << " is no longer a member of the tier\n";
  if (running_pid(target)) kill(name, SIGTERM);
  // Forget an added replica; a configured one stays in the config (it is down and not a member).
  std::ifstream in(added_replicas_file());
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) != 0) kept += line + "\n";
  }
  in.close();
  if (fs::exists(added_replicas_file())) write_text_file(added_replicas_file().string(), kept);
}

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
  if (!options.traitor.empty()) {
    if (!config_.byzantine) throw ClusterError("--traitor: " + config_.source + " is not in Byzantine mode (byzantine: true)");
    if (config_.frontend(options.traitor) == nullptr) {
      throw ClusterError("--traitor: no front end '" + options.traitor + "' in " + config_.source);
    }
  }
  const LaunchOptions launch{
      bin_dir_,     config_path_,   layout_.dir.string(), options.consistency,
      options.rate, options.tablets, config_.replicated(), options.log_level, options.traitor, options.strategy};
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
  use_keys(true);
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
  const bool any_running = std::any_of(nodes_.begin(), nodes_.end(), [&](const NodeSpec& s) { return running_pid(s).has_value(); });
  if (!any_running) {
    throw ClusterError("the cluster in " + layout_.dir.string() + " is stopped (no node runs): 'olympics up' starts it; "
                       "restart starts one node of a running cluster");
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
