#include "tests/sim/sim_cluster.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <sstream>

#include "cacofonix/feed.h"

namespace oly::sim {

SimCluster::SimCluster(Config cfg, SimOptions opt)
    : cfg_(std::move(cfg)), opt_(opt), net_(clock_, opt.seed), store_(std::make_unique<database::SqliteStore>(":memory:")) {
  // Simulations are quiet unless asked (OLY_SIM_LOG=debug, info, ...).
  const char* level = std::getenv("OLY_SIM_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
  net_.set_delay(opt_.min_delay, opt_.max_delay);
  net_.set_drop(opt_.drop);
  start(cfg_.database.id);
  for (const auto& f : cfg_.frontends) start(f.id);
  start("cacofonix");
  start("tablets");
}

SimCluster::~SimCluster() = default;

void SimCluster::start(const std::string& name) {
  SimNode n;
  ++incarnation_;
  if (name == cfg_.database.id) {
    n.core = std::make_unique<database::DatabaseCore>(cfg_, *store_, clock_);
  } else if (name == "cacofonix") {
    const std::string publisher = "cacofonix-" + std::to_string(incarnation_);
    n.core = std::make_unique<PublisherCore>(cfg_, publisher,
                                             std::make_unique<RandomFeed>(cfg_.events, opt_.seed * 7 + incarnation_),
                                             PublisherLimits{opt_.rate, opt_.max_updates});
  } else if (name == "tablets") {
    n.core = std::make_unique<TabletsCore>(cfg_, opt_.tablets);
  } else {
    n.core = std::make_unique<FrontendCore>(cfg_, name, static_cast<uint64_t>(incarnation_) << 40);
  }
  n.transport = net_.endpoint(name);
  if (name == "cacofonix") {
    for (const auto& f : cfg_.frontends) n.transport->subscribe(f.id, "publisher");
  } else if (name == "tablets") {
    for (const auto& f : cfg_.frontends) {
      n.transport->subscribe(f.id, "tablet/");
      n.transport->subscribe(f.id, "serving");
    }
  }
  n.node = std::make_unique<Node>(*n.core, *n.transport, clock_);
  nodes_[name] = std::move(n);
}

void SimCluster::crash(const std::string& name) {
  collect();
  net_.crash(name);
  nodes_.erase(name);
}

void SimCluster::restart(const std::string& name) {
  net_.restart(name);
  start(name);
}

void SimCluster::stop_publishing() { publisher().stop_producing(); }

FrontendCore* SimCluster::frontend(const std::string& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : static_cast<FrontendCore*>(it->second.core.get());
}

PublisherCore& SimCluster::publisher() { return static_cast<PublisherCore&>(*nodes_.at("cacofonix").core); }
TabletsCore& SimCluster::tablets() { return static_cast<TabletsCore&>(*nodes_.at("tablets").core); }

void SimCluster::collect() {
  if (auto it = nodes_.find("cacofonix"); it != nodes_.end()) {
    for (auto& a : static_cast<PublisherCore&>(*it->second.core).take_acks()) acks_.push_back(std::move(a));
  }
  if (auto it = nodes_.find("tablets"); it != nodes_.end()) {
    for (auto& r : static_cast<TabletsCore&>(*it->second.core).take_reads()) reads_.push_back(std::move(r));
  }
}

bool SimCluster::run_until(const std::function<bool()>& pred, Duration limit) {
  const TimePoint end = clock_.now() + limit;
  while (!pred()) {
    // The next moment anything happens: a node's timer or a frame's arrival.
    TimePoint next = TimePoint::max();
    for (auto& [name, n] : nodes_) {
      next = std::min(next, n.core->next_wake());
      if (auto d = net_.next_delivery(name)) next = std::min(next, *d);
    }
    if (next > end) {
      clock_.set(end);
      return pred();
    }
    if (next > clock_.now()) clock_.set(next);
    for (auto& [name, n] : nodes_) {
      const auto d = net_.next_delivery(name);
      if (n.core->next_wake() <= clock_.now() || (d && *d <= clock_.now())) n.node->step();
    }
    collect();
  }
  return true;
}

void SimCluster::run_for(Duration d) {
  run_until([] { return false; }, d);
}

std::string SimCluster::describe() const {
  std::ostringstream os;
  os << "seed=" << opt_.seed << " tablets=" << opt_.tablets << " rate=" << opt_.rate << " drop=" << opt_.drop
     << " delay=" << opt_.min_delay.count() << ".." << opt_.max_delay.count() << "us"
     << " consistency=" << to_string(cfg_.consistency) << " t=" << to_ms(clock_.now().time_since_epoch()) << "ms"
     << " acks=" << acks_.size() << " reads=" << reads_.size();
  return os.str();
}

}  // namespace oly::sim
