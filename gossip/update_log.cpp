#include "gossip/update_log.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace oly::gossip {

bool UpdateLog::known(const UpdateId& id) const {
  const auto a = applied_.find(id.publisher);
  return (a != applied_.end() && id.seq <= a->second) || by_id_.count(id) > 0;
}

bool UpdateLog::applied(const UpdateId& id) const {
  const auto a = applied_.find(id.publisher);
  return a != applied_.end() && id.seq <= a->second;
}

void UpdateLog::take(LogEntry e) {
  const Key key{e.origin, e.origin_seq};
  clock_.set(e.origin, std::max(clock_.at(e.origin), e.origin_seq));
  if (known(e.id)) {
    done_.insert(key);  // a duplicate: another entry of the same update counts
  } else {
    by_id_.emplace(e.id, key);
    pending_[e.id.publisher].emplace(e.id.seq, key);
  }
  entries_.emplace(key, std::move(e));
}

std::optional<LogEntry> UpdateLog::accept(const UpdateId& id, std::string update) {
  if (known(id)) return std::nullopt;
  const uint64_t n = clock_.tick(self_);
  LogEntry e{id, self_, n, clock_, std::move(update)};
  take(e);
  return e;
}

std::vector<LogEntry> UpdateLog::receive(std::vector<LogEntry> entries) {
  for (auto& e : entries) {
    if (e.origin_seq == 0 || e.origin_seq <= clock_.at(e.origin)) continue;  // had it
    const Key key{e.origin, e.origin_seq};
    held_.emplace(key, std::move(e));
  }
  std::vector<LogEntry> taken;
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = held_.begin(); it != held_.end();) {
      const uint64_t have = clock_.at(it->first.origin);
      if (it->first.origin_seq <= have) {
        it = held_.erase(it);  // came twice
        continue;
      }
      if (it->first.origin_seq != have + 1) {
        ++it;
        continue;
      }
      taken.push_back(it->second);
      take(std::move(it->second));
      it = held_.erase(it);
      progress = true;
    }
  }
  return taken;
}

std::vector<LogEntry> UpdateLog::missing_for(const VectorClock& peer, size_t limit) const {
  std::vector<LogEntry> out;
  // Origin by origin, from just past what the peer has: only the entries sent are visited.
  for (auto it = entries_.begin(); it != entries_.end() && out.size() < limit;) {
    const std::string& origin = it->first.origin;
    it = entries_.lower_bound(Key{origin, peer.at(origin) + 1});
    for (; it != entries_.end() && it->first.origin == origin && out.size() < limit; ++it) out.push_back(it->second);
    if (out.size() >= limit) break;
    it = entries_.lower_bound(Key{origin + '\0', 0});  // the next origin
  }
  return out;
}

std::vector<LogEntry> UpdateLog::take_applicable() {
  std::vector<LogEntry> out;
  for (auto p = pending_.begin(); p != pending_.end();) {
    uint64_t& last = applied_[p->first];
    auto& by_seq = p->second;
    for (auto it = by_seq.begin(); it != by_seq.end() && it->first == last + 1; it = by_seq.erase(it)) {
      ++last;
      done_.insert(it->second);
      out.push_back(entries_.at(it->second));
    }
    p = by_seq.empty() ? pending_.erase(p) : std::next(p);
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> UpdateLog::collect(const std::vector<std::string>& members,
                                                                 const std::map<std::string, VectorClock>& clocks) {
  std::vector<const VectorClock*> known_clocks;
  std::vector<std::pair<std::string, uint64_t>> dropped;
  for (const auto& m : members) {
    const auto it = clocks.find(m);
    if (it == clocks.end()) return dropped;  // a member we have not heard from holds everything
    known_clocks.push_back(&it->second);
  }
  // Origin by origin, the done entries up to what every member has: only those are visited.
  for (auto it = done_.begin(); it != done_.end();) {
    const std::string origin = it->origin;
    uint64_t everywhere = UINT64_MAX;
    for (const VectorClock* c : known_clocks) everywhere = std::min(everywhere, c->at(origin));
    while (it != done_.end() && it->origin == origin && it->origin_seq <= everywhere) {
      const Key key = *it;
      auto e = entries_.find(key);
      if (e != entries_.end()) {
        auto id = by_id_.find(e->second.id);
        if (id != by_id_.end() && id->second == key) by_id_.erase(id);
        entries_.erase(e);
        dropped.emplace_back(key.origin, key.origin_seq);
      }
      it = done_.erase(it);
    }
    it = done_.lower_bound(Key{origin + '\0', 0});  // the next origin
  }
  return dropped;
}

void UpdateLog::restore(VectorClock clock, std::vector<LogEntry> entries, const std::map<std::string, uint64_t>& applied) {
  entries_.clear();
  held_.clear();
  by_id_.clear();
  pending_.clear();
  done_.clear();
  clock_ = std::move(clock);
  applied_ = applied;
  std::sort(entries.begin(), entries.end(),
            [](const LogEntry& a, const LogEntry& b) { return std::tie(a.origin, a.origin_seq) < std::tie(b.origin, b.origin_seq); });
  for (auto& e : entries) take(std::move(e));
}

VectorClock UpdateLog::applied_clock() const {
  VectorClock out = clock_;
  for (const auto& [publisher, by_seq] : pending_) {
    for (const auto& [seq, key] : by_seq) {
      if (key.origin_seq <= out.at(key.origin)) out.set(key.origin, key.origin_seq - 1);
    }
  }
  return out;
}

std::vector<LogEntry> UpdateLog::feed(size_t limit) const {
  using Rank = std::tuple<uint64_t, std::string, uint64_t>;  // sum of ts, origin, origin_seq
  const auto rank = [](const LogEntry& e) {
    uint64_t sum = 0;
    for (const auto& [r, n] : e.ts.entries()) sum += n;
    return Rank{sum, e.origin, e.origin_seq};
  };
  // One entry per applied id: its least-ranked, so that the choice does not depend on arrival.
  std::map<UpdateId, const LogEntry*> best;
  for (const auto& [key, e] : entries_) {
    if (!applied(e.id)) continue;
    auto [it, fresh] = best.emplace(e.id, &e);
    if (!fresh && rank(e) < rank(*it->second)) it->second = &e;
  }
  std::vector<const LogEntry*> order;
  for (const auto& [id, e] : best) order.push_back(e);
  std::sort(order.begin(), order.end(), [&](const LogEntry* a, const LogEntry* b) { return rank(*a) < rank(*b); });
  std::vector<LogEntry> out;
  for (size_t i = order.size() > limit ? order.size() - limit : 0; i < order.size(); ++i) out.push_back(*order[i]);
  return out;
}

}  // namespace oly::gossip
