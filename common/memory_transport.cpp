#include "common/memory_transport.h"

#include <algorithm>

namespace oly {

class MemoryEndpoint final : public Transport {
 public:
  MemoryEndpoint(MemoryNetwork& net, std::string name) : net_(net), name_(std::move(name)) {}
  ~MemoryEndpoint() override {
    net_.live_.erase(name_);
    for (auto& [pub, subs] : net_.subs_) {
      std::erase_if(subs, [&](const auto& s) { return s.first == name_; });
    }
  }
  const std::string& name() const override { return name_; }
  void send(const std::string& to, std::string frame) override {
    net_.deliver(name_, to, std::move(frame), false);
  }
  void publish(const std::string& topic, std::string frame) override {
    auto it = net_.subs_.find(name_);
    if (it == net_.subs_.end()) return;
    for (const auto& [sub, prefix] : it->second) {
      if (topic.compare(0, prefix.size(), prefix) == 0) net_.deliver(name_, sub, frame, true);
    }
  }
  void subscribe(const std::string& publisher, const std::string& prefix) override {
    net_.subs_[publisher].emplace_back(name_, prefix);
  }
  std::optional<Incoming> receive() override { return net_.take(name_); }

 private:
  MemoryNetwork& net_;
  std::string name_;
};

MemoryNetwork::MemoryNetwork(const Clock& clock, uint64_t seed) : clock_(clock), rng_(seed) {}
MemoryNetwork::~MemoryNetwork() = default;

std::unique_ptr<Transport> MemoryNetwork::endpoint(const std::string& name) {
  live_.insert(name);
  return std::make_unique<MemoryEndpoint>(*this, name);
}

void MemoryNetwork::set_delay(Duration min_delay, Duration max_delay) {
  min_delay_ = min_delay;
  max_delay_ = std::max(min_delay, max_delay);
}
void MemoryNetwork::set_drop(double probability) { drop_ = probability; }

void MemoryNetwork::partition(const std::string& a, const std::string& b) {
  cut_.insert({a, b});
  cut_.insert({b, a});
}
void MemoryNetwork::heal(const std::string& a, const std::string& b) {
  cut_.erase({a, b});
  cut_.erase({b, a});
}
void MemoryNetwork::heal_all() { cut_.clear(); }

void MemoryNetwork::crash(const std::string& name) {
  down_.insert(name);
  inbox_.erase(name);
  std::set<std::string> peers;
  for (const auto& [pair, at] : last_) {
    if (pair.first == name) peers.insert(pair.second);
    if (pair.second == name) peers.insert(pair.first);
  }
  for (const auto& to : peers) {
    if (to == name || down_.count(to) || !live_.count(to) || cut_.count({name, to})) continue;
    Incoming lost{name, "", false, true};
    inbox_[to].insert(InFlight{clock_.now() + min_delay_, order_++, std::move(lost)});
  }
}
void MemoryNetwork::restart(const std::string& name) { down_.erase(name); }

bool MemoryNetwork::blocked(const std::string& a, const std::string& b) const {
  return down_.count(a) || down_.count(b) || cut_.count({a, b});
}

void MemoryNetwork::deliver(const std::string& from, const std::string& to, std::string frame,
                            bool notice) {
  ++sent_;
  if (blocked(from, to) || !live_.count(to) ||
      (drop_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < drop_)) {
    ++dropped_;
    return;
  }
  const auto span = (max_delay_ - min_delay_).count();
  Duration delay = min_delay_ + Duration(span > 0 ? std::uniform_int_distribution<int64_t>(0, span)(rng_) : 0);
  TimePoint at = clock_.now() + delay;
  auto& last = last_[{from, to}];
  at = std::max(at, last);
  last = at;
  inbox_[to].insert(InFlight{at, order_++, Incoming{from, std::move(frame), notice}});
}

std::optional<Incoming> MemoryNetwork::take(const std::string& name) {
  auto it = inbox_.find(name);
  if (it == inbox_.end() || it->second.empty()) return std::nullopt;
  auto first = it->second.begin();
  if (first->at > clock_.now()) return std::nullopt;
  Incoming msg = std::move(const_cast<InFlight&>(*first).msg);
  it->second.erase(first);
  // Partitioned or crashed while the frame was in flight (a crash's own notice, only cut off).
  if (msg.lost ? cut_.count({msg.from, name}) > 0 : blocked(msg.from, name)) {
    ++dropped_;
    return take(name);
  }
  return msg;
}

std::optional<TimePoint> MemoryNetwork::next_delivery(const std::string& name) const {
  std::optional<TimePoint> best;
  for (const auto& [to, q] : inbox_) {
    if (q.empty() || (!name.empty() && to != name)) continue;
    if (!best || q.begin()->at < *best) best = q.begin()->at;
  }
  return best;
}

}  // namespace oly
