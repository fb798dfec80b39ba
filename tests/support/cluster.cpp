#include "tests/support/cluster.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "byzantine/signing_key_files.h"
#include "common/cluster_curve.h"
#include "common/key_files.h"
#include "common/request.h"

namespace oly::testing {

void tolerate_descheduling(Config& c) {
  c.heartbeat.timeout_ms = 1500;
  c.tablets.request_timeout_ms = 1500;
}

ProcessCluster::ProcessCluster(const std::function<void(Config&)>& tweak) {
  cfg_ = cluster_config(dir_.file("run"));
  if (tweak) tweak(cfg_);
  config_path_ = dir_.file("cluster.yaml");
  write_config(cfg_, config_path_);
  // security: curve: every node's key pair, and the operator's key for ask().
  if (cfg_.security == Security::kCurve) ensure_cluster_keys(cfg_);
  if (cfg_.byzantine) byzantine::ensure_signing_keys(keys_dir(cfg_), cfg_.cacofonix.id);
  set_request_curve(node_curve(cfg_, KeyRole::kOperator, kOperatorName));
}

std::string ProcessCluster::address_of(const std::string& node) const {
  if (const auto* r = cfg_.replica(node)) return r->address;
  if (auto j = joined_.find(node); j != joined_.end()) return j->second;
  if (node == cfg_.database.id) return cfg_.database.address;
  const auto* f = cfg_.frontend(node);
  return f ? f->address : "";
}

std::string ProcessCluster::log_tail(const std::string& name, int lines) const {
  std::ifstream in(dir_.file(name + ".log"));
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

bool ProcessCluster::start_server(const std::string& name, std::vector<std::string> argv) {
  children_[name] = std::make_unique<Child>(std::move(argv), dir_.file(name + ".log"));
  const bool up = eventually([&] { return ask(name, GetStats{}, ms(200)).has_value(); }, ms(5000));
  if (!up) ADD_FAILURE() << name << " did not start; its log:\n" << log_tail(name);
  return up;
}

bool ProcessCluster::start_database() {
  if (!cfg_.replicated()) return start_server(cfg_.database.id, {bin("database"), "--config", config_path_});
  if (cfg_.replication == Replication::kGossip) {
    // No leader to wait for: each replica answers on its own.
    for (const auto& r : cfg_.database.replicas) {
      if (!start_replica(r.id)) return false;
    }
    return true;
  }
  for (const auto& r : cfg_.database.replicas) {
    children_[r.id] = std::make_unique<Child>(std::vector<std::string>{bin("database"), "--id", r.id, "--config", config_path_},
                                              dir_.file(r.id + ".log"));
  }
  const bool led = eventually([&] { return !db_leader().empty(); }, ms(10000));
  if (!led) ADD_FAILURE() << "no database replica leads after 10 s; " << cfg_.database.replicas.front().id << "'s log:\n"
                          << log_tail(cfg_.database.replicas.front().id);
  return led;
}

bool ProcessCluster::start_replica(const std::string& id) {
  return start_server(id, {bin("database"), "--id", id, "--config", config_path_});
}

bool ProcessCluster::join_replica(const std::string& id, const std::string& via) {
  const std::string address = "tcp://127.0.0.1:" + std::to_string(free_ports(1).at(0));
  joined_[id] = address;
  if (cfg_.security == Security::kCurve) ensure_key_pair(keys_dir(cfg_), KeyRole::kDatabase, id);  // as `olympics keys --name` does
  return start_server(id, {bin("database"), "--id", id, "--config", config_path_, "--address", address, "--join",
                           address_of(via)});
}

bool ProcessCluster::start_frontend_knowing(const std::string& id, const std::string& replica) {
  Config c = cfg_;
  c.database.replicas = {*cfg_.replica(replica)};
  const std::string path = dir_.file(id + "-cluster.yaml");
  write_config(c, path);
  return start_server(id, {bin("frontend"), "--id", id, "--config", path});
}

std::string ProcessCluster::db_leader() {
  std::vector<std::string> ids;
  for (const auto& r : cfg_.database.replicas) ids.push_back(r.id);
  for (const auto& [id, address] : joined_) ids.push_back(id);
  for (const auto& id : ids) {
    const auto reply = ask(id, GetStats{}, ms(300));
    const auto* s = reply ? std::get_if<Stats>(&reply->body) : nullptr;
    if (s == nullptr) continue;
    auto it = s->info.find("raft_ready");
    if (it != s->info.end() && it->second == "yes") return id;
  }
  return "";
}

bool ProcessCluster::start_frontend(const std::string& id, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {bin("frontend"), "--id", id, "--config", config_path_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return start_server(id, std::move(argv));
}

void ProcessCluster::start_cacofonix(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> argv = {bin("cacofonix"), "--config", config_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  children_[name] = std::make_unique<Child>(argv, dir_.file(name + ".log"));
}

void ProcessCluster::start_tablets(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("tablet"), "--config", config_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  children_["tablets"] = std::make_unique<Child>(argv, dir_.file("tablets.log"));
}

Child* ProcessCluster::child(const std::string& name) {
  auto it = children_.find(name);
  return it == children_.end() ? nullptr : it->second.get();
}

void ProcessCluster::signal(const std::string& name, int sig) {
  Child* c = child(name);
  if (c == nullptr) return;
  c->signal(sig);
  if (sig == SIGKILL) {
    c->wait(ms(5000));
    children_.erase(name);
  }
}

std::optional<int> ProcessCluster::wait(const std::string& name, Duration timeout) {
  Child* c = child(name);
  return c ? c->wait(timeout) : std::nullopt;
}

std::optional<Message> ProcessCluster::ask(const std::string& node, Body body, Duration timeout) {
  const std::string address = address_of(node);
  if (address.empty()) return std::nullopt;
  if (cfg_.security == Security::kCurve) return request_all({{node, address, std::move(body)}}, timeout).front();
  return request(address, Message{1, std::move(body)}, timeout);
}

}  // namespace oly::testing
