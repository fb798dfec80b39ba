#include "tests/sim/sim_cluster.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <sstream>

#include "cacofonix/feed.h"
#include "common/codec.h"

namespace oly::sim {

namespace {
constexpr const char* kPublisherNodes[] = {"cacofonix", "bard"};
bool is_publisher(const std::string& name) { return name == "cacofonix" || name == "bard"; }
}  // namespace

namespace {
// Log lines of a simulation name the virtual time and the node that logged them (OLY_SIM_LOG).
const VirtualClock* g_log_clock = nullptr;
std::string g_log_node = "sim";

class SimLogFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string s = g_log_clock ? "t=" + std::to_string(to_us(g_log_clock->now()) / 1000) + "." +
                                      std::to_string(to_us(g_log_clock->now()) % 1000 / 100) + "ms"
                                : "t=?";
    s += " " + g_log_node;
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SimLogFlag>(); }
};
}  // namespace

// Wraps the database's core and records what it granted and applied, read back from the store
// right after each message (inside the batch's transaction, which in memory never fails).
class SimCluster::DatabaseTap final : public Core {
 public:
  DatabaseTap(SimCluster& c, std::unique_ptr<database::DatabaseCore> inner) : c_(c), inner_(std::move(inner)) {}

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override {
    const auto* s = std::get_if<SetScore>(&msg.body);
    const auto* m = std::get_if<IncrementMedalTally>(&msg.body);
    if (!notice && (s || m)) {
      const std::string publisher = s ? s->publisher : m->publisher;
      const uint64_t seq = s ? s->seq : m->seq;
      const uint64_t epoch = (s ? s->epoch : m->epoch).value_or(0);
      const std::string key = s ? "score/" + s->event : "tally/" + m->team;
      const uint64_t before = c_.store().last_seq(publisher);
      inner_->on_message(from, std::move(msg), notice, now, out);
      if (before < seq && c_.store().last_seq(publisher) == seq) {
        c_.writes_.push_back(DbWrite{publisher, seq, key, epoch, from, now});
      }
      return;
    }
    if (!notice && msg.is<ClaimMaster>()) {
      const MasterInfo before = c_.store().master();
      inner_->on_message(from, std::move(msg), notice, now, out);
      const MasterInfo after = c_.store().master();
      if (after.epoch != before.epoch || after.frontend != before.frontend) {
        c_.claims_.push_back(DbClaim{after.epoch, after.frontend, from, now});
      }
      return;
    }
    inner_->on_message(from, std::move(msg), notice, now, out);
  }
  void on_tick(TimePoint now, Effects& out) override { inner_->on_tick(now, out); }
  TimePoint next_wake() const override { return inner_->next_wake(); }
  void on_batch_end(TimePoint now, Effects& out) override { inner_->on_batch_end(now, out); }
  Counters& counters() override { return inner_->counters(); }

 private:
  SimCluster& c_;
  std::unique_ptr<database::DatabaseCore> inner_;
};

// A node's transport, with the cluster's drop filter applied to the frames it sends.
class SimCluster::FilteredTransport final : public Transport {
 public:
  FilteredTransport(SimCluster& c, std::unique_ptr<Transport> inner) : c_(c), inner_(std::move(inner)) {}
  const std::string& name() const override { return inner_->name(); }
  void send(const std::string& to, std::string frame) override {
    if (c_.cfg_.byzantine && inner_->name() == "cacofonix") c_.record_sent(frame);
    if (c_.drop_filter_) {
      const Decoded d = decode(frame);
      if (d.ok && c_.drop_filter_(inner_->name(), to, d.message)) {
        ++c_.filtered_;
        return;
      }
    }
    inner_->send(to, std::move(frame));
  }
  void publish(const std::string& topic, std::string frame) override { inner_->publish(topic, std::move(frame)); }
  void subscribe(const std::string& publisher, const std::string& prefix) override { inner_->subscribe(publisher, prefix); }
  std::optional<Incoming> receive() override { return inner_->receive(); }

 private:
  SimCluster& c_;
  std::unique_ptr<Transport> inner_;
};

SimCluster::SimCluster(Config cfg, SimOptions opt)
    : cfg_(std::move(cfg)), opt_(opt), net_(clock_, opt.seed) {
  for (const auto& id : cfg_.database_ids()) stores_[id] = std::make_unique<database::SqliteStore>(":memory:");
  // Simulations are quiet unless asked (OLY_SIM_LOG=debug, info, ...).
  const char* level = std::getenv("OLY_SIM_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
  if (level != nullptr) {
    g_log_clock = &clock_;
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SimLogFlag>('*').set_pattern("[%*] [%l] %v");
    spdlog::set_formatter(std::move(formatter));
  }
  if (cfg_.byzantine) {
    std::string seed(32, '\0');
    for (size_t i = 0; i < 8; ++i) seed[i] = static_cast<char>((opt_.seed >> (8 * i)) & 0xff);
    signing_ = byzantine::signing_keypair(seed);
  }
  net_.set_delay(opt_.min_delay, opt_.max_delay);
  net_.set_drop(opt_.drop);
  for (const auto& id : cfg_.database_ids()) start(id);
  for (const auto& f : cfg_.frontends) start(f.id);
  start("cacofonix");
  if (opt_.second_publisher) start("bard");
  start("tablets");
}

SimCluster::~SimCluster() {
  if (g_log_clock == &clock_) g_log_clock = nullptr;
}

void SimCluster::start(const std::string& name) {
  SimNode n;
  ++incarnation_;
  if (is_replica(name) && cfg_.replication == Replication::kGossip) {
    std::optional<gossip::GossipReplicaCore::Join> join;
    if (auto j = joined_.find(name); j != joined_.end()) join = gossip::GossipReplicaCore::Join{"", j->second, ""};
    auto core = std::make_unique<gossip::GossipReplicaCore>(cfg_, name, *stores_.at(name), clock_, clock_.now(), join);
    core->on_apply([this](const database::Command& c, const database::Result& r) { record_apply(c, r); });
    n.core = std::move(core);
  } else if (is_replica(name)) {
    database::ReplicaStart how{name, "", {}};
    if (auto j = joined_.find(name); j != joined_.end()) how.join = {j->second};
    auto core = std::make_unique<database::ReplicaCore>(cfg_, how, *stores_.at(name), clock_, clock_.now(),
                                                        opt_.seed * 1000003 + static_cast<uint64_t>(incarnation_));
    core->on_apply([this](const database::Command& c, const database::Result& r) { record_apply(c, r); });
    if (cfg_.byzantine) core->set_publisher_key(signing_.public_key);
    if (opt_.raft_part_bytes > 0) core->set_raft_part_bytes(opt_.raft_part_bytes);
    n.core = std::move(core);
  } else if (name == cfg_.database.id) {
    n.core = std::make_unique<DatabaseTap>(*this, std::make_unique<database::DatabaseCore>(cfg_, *stores_.at(name), clock_));
  } else if (is_publisher(name)) {
    const std::string publisher = name + "-" + std::to_string(incarnation_);
    auto core = std::make_unique<PublisherCore>(cfg_, publisher,
                                                std::make_unique<RandomFeed>(cfg_.events, opt_.seed * 7 + incarnation_),
                                                PublisherLimits{opt_.rate, opt_.max_updates}, clock_);
    if (cfg_.byzantine) core->set_signing_key(signing_.secret_key);
    n.core = std::move(core);
  } else if (name == "tablets") {
    auto core = std::make_unique<TabletsCore>(cfg_, opt_.tablets);
    core->observe_reads([this](const std::string& key, uint64_t version, const std::string& text) {
      taken_reads_.push_back({key, version, text});
    });
    n.core = std::move(core);
  } else {
    auto core = std::make_unique<FrontendCore>(cfg_, name, static_cast<uint64_t>(incarnation_) << 40);
    if (cfg_.byzantine) {
      core->set_publisher_key(signing_.public_key);
      core->observe_agreement([this, name](const std::string& commander, const std::string& publisher, uint64_t seq,
                                           const byzantine::Value& v) {
        decisions_[name].try_emplace({commander, publisher, seq}, v);
      });
    }
    n.core = std::move(core);
  }
  n.transport = std::make_unique<FilteredTransport>(*this, net_.endpoint(name));
  if (name == opt_.traitor) {
    n.wrapped = std::move(n.transport);
    n.transport = std::make_unique<byzantine::TraitorTransport>(*n.wrapped, opt_.strategy, opt_.seed * 31 + incarnation_);
  }
  if (is_publisher(name)) {
    for (const auto& f : cfg_.frontends) n.transport->subscribe(f.id, "publisher");
  } else if (name == "tablets") {
    for (const auto& f : cfg_.frontends) n.transport->subscribe(f.id, std::string(Serving::kOp));
  }
  n.node = std::make_unique<Node>(*n.core, *n.transport, clock_);
  nodes_[name] = std::move(n);
}

void SimCluster::crash(const std::string& name) {
  collect();
  if (is_publisher(name) && nodes_.count(name)) {
    for (const auto& [k, n] : static_cast<PublisherCore&>(*nodes_.at(name).core).medal_counts()) dead_medal_counts_[k] += n;
  }
  net_.crash(name);
  nodes_.erase(name);
  paused_.erase(name);
  // What the node had written but not committed (synced) is lost with it.
  if (auto it = stores_.find(name); it != stores_.end()) it->second->rollback();
}

void SimCluster::crash_at_next_sync(const std::string& name) { stores_.at(name)->fail_next_sync(); }

void SimCluster::record_apply(const database::Command& command, const database::Result& result) {
  const TimePoint now = clock_.now();
  if (result.outcome == database::Outcome::applied) {
    std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, database::cmd::SetScore> ||
                        std::is_same_v<T, database::cmd::IncrementMedalTally>) {
            if (!recorded_writes_.insert({c.publisher, c.seq}).second) return;
            const std::string key = [&] {
              if constexpr (std::is_same_v<T, database::cmd::SetScore>) return "score/" + c.event;
              else return "tally/" + c.team;
            }();
            writes_.push_back(DbWrite{c.publisher, c.seq, key, c.epoch.value_or(0), c.from, now});
            if constexpr (std::is_same_v<T, database::cmd::SetScore>) {
              applied_updates_[{c.publisher, c.seq}] =
                  byzantine::canonical_bytes(SetScore{c.event, c.gauls, c.romans, c.publisher, c.seq, {}, {}, {}});
            } else {
              applied_updates_[{c.publisher, c.seq}] =
                  byzantine::canonical_bytes(IncrementMedalTally{c.team, c.medal, c.publisher, c.seq, {}, {}, {}});
            }
            const auto& ack = std::get<Ack>(result.reply);
            applied_versions_[key] = std::max(applied_versions_[key], ack.version);
            if (ack.score) applied_values_[key][ack.version] = TabletsCore::text_of(*ack.score);
            if (ack.tally) applied_values_[key][ack.version] = TabletsCore::text_of(*ack.tally);
          }
        },
        command);
  } else if (result.outcome == database::Outcome::claimed) {
    const auto& c = std::get<database::cmd::ClaimMaster>(command);
    if (c.epoch <= recorded_epoch_) return;
    recorded_epoch_ = c.epoch;
    claims_.push_back(DbClaim{c.epoch, c.frontend, c.from, now});
  }
}

void SimCluster::record_sent(const std::string& frame) {
  Decoded d = decode(frame);
  if (!d.ok) return;
  if (const auto* u = std::get_if<SetScore>(&d.message.body)) sent_updates_[{u->publisher, u->seq}] = byzantine::canonical_bytes(*u);
  if (const auto* u = std::get_if<IncrementMedalTally>(&d.message.body)) {
    sent_updates_[{u->publisher, u->seq}] = byzantine::canonical_bytes(*u);
  }
}

const byzantine::TraitorTransport* SimCluster::traitor() const {
  auto it = nodes_.find(opt_.traitor);
  if (it == nodes_.end() || !it->second.wrapped) return nullptr;
  return dynamic_cast<const byzantine::TraitorTransport*>(it->second.transport.get());
}

database::SqliteStore& SimCluster::store() {
  if (!cfg_.replicated()) return *stores_.at(cfg_.database.id);
  if (cfg_.replication == Replication::kGossip) {
    // The live replica that has applied the most.
    const gossip::GossipReplicaCore* most = nullptr;
    auto applied = [](const gossip::GossipReplicaCore* g) {
      uint64_t n = 0;
      const gossip::VectorClock clock = g->applied_clock();
      for (const auto& [r, k] : clock.entries()) n += k;
      return n;
    };
    for (const auto& id : replica_names()) {
      const auto* g = gossip_replica(id);
      if (g != nullptr && (most == nullptr || applied(g) > applied(most))) most = g;
    }
    return *stores_.at(most != nullptr ? most->id() : cfg_.database.replicas.front().id);
  }
  database::ReplicaCore* best = nullptr;
  for (const auto& id : replica_names()) {
    database::ReplicaCore* core = replica(id);
    if (core != nullptr && (best == nullptr || core->consensus().last_applied() > best->consensus().last_applied())) {
      best = core;
    }
  }
  return *stores_.at(best != nullptr ? best->id() : cfg_.database.replicas.front().id);
}

uint64_t SimCluster::committed_version(const std::string& key) {
  if (cfg_.replicated()) {
    auto it = applied_versions_.find(key);
    return it == applied_versions_.end() ? 0 : it->second;
  }
  const auto k = Key::parse(key);
  if (!k) return 0;
  return k->is_score() ? store().score(std::string(k->name())).version : store().tally(std::string(k->name())).version;
}

MasterInfo SimCluster::committed_master() {
  if (!cfg_.replicated()) return store().master();
  if (claims_.empty()) return {};
  MasterInfo m;
  m.frontend = claims_.back().frontend;
  m.epoch = claims_.back().epoch;
  return m;
}

gossip::GossipReplicaCore* SimCluster::gossip_replica(const std::string& name) {
  if (!is_replica(name) || cfg_.replication != Replication::kGossip) return nullptr;
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : static_cast<gossip::GossipReplicaCore*>(it->second.core.get());
}

database::ReplicaCore* SimCluster::replica(const std::string& name) {
  if (!is_replica(name) || cfg_.replication == Replication::kGossip) return nullptr;
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : static_cast<database::ReplicaCore*>(it->second.core.get());
}

void SimCluster::pause(const std::string& name) {
  if (nodes_.count(name)) paused_.insert(name);
}

void SimCluster::resume(const std::string& name) { paused_.erase(name); }

std::map<std::string, int64_t> SimCluster::medal_counts() const {
  auto out = dead_medal_counts_;
  for (const char* name : kPublisherNodes) {
    if (auto it = nodes_.find(name); it != nodes_.end()) {
      for (const auto& [k, n] : static_cast<const PublisherCore&>(*it->second.core).medal_counts()) out[k] += n;
    }
  }
  return out;
}

void SimCluster::restart(const std::string& name) {
  net_.restart(name);
  start(name);
}

bool SimCluster::is_replica(const std::string& name) const {
  return cfg_.replica(name) != nullptr || joined_.count(name) > 0;
}

std::vector<std::string> SimCluster::replica_names() const {
  std::vector<std::string> out;
  for (const auto& r : cfg_.database.replicas) out.push_back(r.id);
  for (const auto& [name, via] : joined_) out.push_back(name);
  return out;
}

void SimCluster::join_replica(const std::string& name, const std::string& via) {
  stores_[name] = std::make_unique<database::SqliteStore>(":memory:");
  joined_[name] = via;
  net_.restart(name);
  start(name);
}

void SimCluster::ask(const std::string& to, Body body) {
  if (!operator_) operator_ = net_.endpoint("operator");
  operator_->send(to, encode(Message{++operator_req_, std::move(body)}));
}

std::vector<Message> SimCluster::operator_answers() {
  std::vector<Message> out;
  if (!operator_) return out;
  while (auto in = operator_->receive()) {
    Decoded d = decode(in->frame);
    if (d.ok) out.push_back(std::move(d.message));
  }
  return out;
}

bool SimCluster::publishers_finished() {
  for (PublisherCore* p : publishers()) {
    if (!p->finished()) return false;
  }
  return true;
}

size_t SimCluster::unacknowledged() {
  size_t n = 0;
  for (PublisherCore* p : publishers()) n += p->unacknowledged();
  return n;
}

void SimCluster::stop_publishing() {
  for (PublisherCore* p : publishers()) p->stop_producing();
}

FrontendCore* SimCluster::frontend(const std::string& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : static_cast<FrontendCore*>(it->second.core.get());
}

PublisherCore& SimCluster::publisher() { return static_cast<PublisherCore&>(*nodes_.at("cacofonix").core); }

std::vector<PublisherCore*> SimCluster::publishers() {
  std::vector<PublisherCore*> out;
  for (const char* name : kPublisherNodes) {
    if (auto it = nodes_.find(name); it != nodes_.end()) out.push_back(static_cast<PublisherCore*>(it->second.core.get()));
  }
  return out;
}
TabletsCore& SimCluster::tablets() { return static_cast<TabletsCore&>(*nodes_.at("tablets").core); }

void SimCluster::collect() {
  for (PublisherCore* p : publishers()) {
    for (auto& a : p->take_acks()) acks_.push_back(std::move(a));
  }
  if (auto it = nodes_.find("tablets"); it != nodes_.end()) {
    for (auto& r : static_cast<TabletsCore&>(*it->second.core).take_reads()) reads_.push_back(std::move(r));
  }
}

bool SimCluster::run_until(const std::function<bool()>& pred, Duration limit) {
  const TimePoint end = clock_.now() + limit;
  std::vector<std::string> stopped;
  while (!pred()) {
    // The next moment anything happens: a node's timer or a frame's arrival.
    TimePoint next = TimePoint::max();
    for (auto& [name, n] : nodes_) {
      if (paused_.count(name)) continue;  // stopped: neither its timers nor its inbox wake it
      next = std::min(next, n.core->next_wake());
      if (auto d = net_.next_delivery(name)) next = std::min(next, *d);
    }
    if (next > end) {
      clock_.set(end);
      return pred();
    }
    if (next > clock_.now()) clock_.set(next);
    for (auto& [name, n] : nodes_) {
      if (paused_.count(name)) continue;
      const auto d = net_.next_delivery(name);
      if (n.core->next_wake() <= clock_.now() || (d && *d <= clock_.now())) {
        g_log_node = name;
        try {
          n.node->step();
        } catch (const std::runtime_error& e) {
          // A replica whose storage failed stops, as the real process exits (database/main.cpp).
          if (!is_replica(name)) throw;
          stopped.push_back(name);
        }
      }
    }
    for (const auto& name : stopped) crash(name);
    stopped.clear();
    collect();
    for (const auto& f : observers_) f();
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
     << " frontends=" << cfg_.frontends.size() << " acks=" << acks_.size() << " reads=" << reads_.size();
  return os.str();
}

}  // namespace oly::sim
