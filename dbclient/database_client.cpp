#include "dbclient/database_client.h"

#include <algorithm>
#include <optional>

namespace oly {

DatabaseClient::DatabaseClient(std::vector<std::string> replicas)
    : replicas_(std::move(replicas)), heard_at_(replicas_.size(), TimePoint::min()),
      died_at_(replicas_.size(), TimePoint::min()), load_(replicas_.size(), 0), removed_(replicas_.size(), false),
      retained_by_(replicas_.size()) {}

namespace {

bool partial(const Body& b) {
  if (const auto* m = std::get_if<ScoreReply>(&b)) return m->partial.value_or(false);
  if (const auto* m = std::get_if<TallyReply>(&b)) return m->partial.value_or(false);
  if (const auto* m = std::get_if<Scoreboard>(&b)) return m->partial.value_or(false);
  return false;
}

bool is_read_body(const Body& b) {
  return std::holds_alternative<GetScore>(b) || std::holds_alternative<GetMedalTally>(b) ||
         std::holds_alternative<GetScoreboard>(b);
}

}  // namespace

bool DatabaseClient::live(size_t replica, TimePoint now) const {
  if (removed_[replica]) return false;
  return died_at_[replica] == TimePoint::min() || heard_at_[replica] > died_at_[replica] ||
         now - died_at_[replica] >= kDeadRetry;
}

size_t DatabaseClient::choose(const Body& body, TimePoint now, size_t avoid, const std::vector<bool>* avoid_too) {
  const size_t n = replicas_.size();
  auto usable = [&](size_t i) {
    return live(i, now) && i != avoid && (avoid_too == nullptr || i >= avoid_too->size() || !(*avoid_too)[i]);
  };
  if (is_read_body(body)) {
    size_t best = n;
    const size_t start = spread_++ % n;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (start + k) % n;
      if (usable(i) && (best == n || load_[i] < load_[best])) best = i;
    }
    if (best < n) return best;
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (usable(i)) return i;
    }
  }
  // None live but the one to avoid, or none at all: the next one round (not removed), which may be back.
  const size_t from = avoid < n ? avoid + 1 : 0;
  for (size_t k = 0; k < n; ++k) {
    if (!removed_[(from + k) % n]) return (from + k) % n;
  }
  return from % n;
}

void DatabaseClient::unload(Attempt& a) {
  if (!a.loaded) return;
  --load_[a.replica];
  a.loaded = false;
}

namespace {

// The (publisher, seq) of an update request.
std::optional<std::pair<std::string, uint64_t>> update_id(const Body& b) {
  if (const auto* m = std::get_if<SetScore>(&b)) return std::make_pair(m->publisher, m->seq);
  if (const auto* m = std::get_if<IncrementMedalTally>(&b)) return std::make_pair(m->publisher, m->seq);
  return std::nullopt;
}

}  // namespace

void DatabaseClient::retain(size_t from, const Body& update, const Ack& ack) {
  const auto id = update_id(update);
  if (!id || !ack.clock) return;
  const auto at = ack.clock->find(replicas_[from]);
  if (at == ack.clock->end()) return;
  if (retained_.size() >= kRetain) {
    // At the bound the oldest kept goes first (memory stays bounded; if its replica then dies
    // before gossiping it, the publisher's later updates wait for that replica's return).
    const auto& [oldest, kept] = *retained_.begin();
    auto& by = retained_by_[kept.replica];
    for (auto it = by.lower_bound(kept.covered_at); it != by.end() && it->first == kept.covered_at; ++it) {
      if (it->second == oldest) {
        by.erase(it);
        break;
      }
    }
    retained_.erase(retained_.begin());
  }
  if (retained_.emplace(*id, Kept{update, from, at->second}).second) retained_by_[from].emplace(at->second, *id);
}

bool DatabaseClient::refill(uint64_t req, Attempt& a, TimePoint now, Effects& out) {
  const auto id = update_id(a.body);
  if (!id || a.refilled) return false;
  std::vector<const Kept*> before;
  for (auto it = retained_.lower_bound({id->first, 0}); it != retained_.end() && it->first.first == id->first &&
                                                        it->first.second < id->second;
       ++it) {
    if (it->second.replica != a.replica) before.push_back(&it->second);
  }
  if (before.empty()) return false;
  a.refilled = true;
  for (const Kept* k : before) {
    const uint64_t own = next_own_++;
    Attempt o;
    o.body = k->update;
    o.sent_at = now;
    o.own = true;
    auto& stored = in_flight_.emplace(own, std::move(o)).first->second;
    // Straight to the replica that answered seq_gap (the update's own attempt below comes after
    // them on the same connection), never retried: forgotten when no answer came within the
    // update's share of its timeout, or when that replica's connection closes.
    stored.replica = a.replica;
    stored.attempt_at = now;
    stored.retry_at = now + a.share;
    deadlines_.insert({stored.retry_at, own});
    out.send(replicas_[a.replica], own, stored.body);
  }
  send_to(req, a, a.replica, now, out);
  return true;
}

void DatabaseClient::merge_clock(const VectorStamp& c) {
  for (const auto& [replica, n] : c) {
    uint64_t& mine = clock_[replica];
    mine = std::max(mine, n);
  }
}

void DatabaseClient::take_clock(size_t from, const Body& body) {
  if (partial(body)) ++partial_reads_;
  const std::optional<VectorStamp>* c = nullptr;
  if (const auto* m = std::get_if<Ack>(&body)) c = &m->clock;
  if (const auto* m = std::get_if<ScoreReply>(&body)) c = &m->clock;
  if (const auto* m = std::get_if<TallyReply>(&body)) c = &m->clock;
  if (const auto* m = std::get_if<Scoreboard>(&body)) c = &m->clock;
  if (c == nullptr || !*c) return;
  merge_clock(**c);
  if (from == replicas_.size()) return;
  // The kept updates another replica acknowledged, which the answering one has too.
  for (const auto& [replica, n] : **c) {
    const size_t r = index_of(replica);
    if (r == replicas_.size() || r == from) continue;
    auto& by = retained_by_[r];
    while (!by.empty() && by.begin()->first <= n) {
      retained_.erase(by.begin()->second);
      by.erase(by.begin());
    }
  }
}

size_t DatabaseClient::index_of(const std::string& replica) const {
  return static_cast<size_t>(std::find(replicas_.begin(), replicas_.end(), replica) - replicas_.begin());
}

void DatabaseClient::send(uint64_t req, Body body, Duration timeout, TimePoint now, Effects& out) {
  if (auto old = in_flight_.find(req); old != in_flight_.end()) unschedule(req, old->second);
  Attempt a;
  a.body = std::move(body);
  a.sent_at = now;
  a.share = timeout / static_cast<int64_t>(replicas_.size());
  if (gossip_ && !clock_.empty()) {
    if (auto* m = std::get_if<GetScore>(&a.body)) m->clock = clock_;
    if (auto* m = std::get_if<GetMedalTally>(&a.body)) m->clock = clock_;
    if (auto* m = std::get_if<GetScoreboard>(&a.body)) m->clock = clock_;
  }
  auto& stored = in_flight_.insert_or_assign(req, std::move(a)).first->second;
  send_to(req, stored, gossip_ ? choose(stored.body, now) : leader_, now, out);
}

void DatabaseClient::send_to(uint64_t req, Attempt& a, size_t replica, TimePoint now, Effects& out) {
  unschedule(req, a);
  if (gossip_) {
    unload(a);
    ++load_[replica];
    a.loaded = true;
  }
  a.replica = replica;
  a.attempt_at = now;
  a.backoff = false;
  a.retry_at = now + a.share;
  schedule(req, a);
  out.send(replicas_[replica], req, a.body);
}

void DatabaseClient::schedule(uint64_t req, const Attempt& a) {
  // With one replica there is nowhere else to try; an attempt that went round the replicas waits
  // for its answer or the caller's deadline.
  if (replicas_.size() > 1 && (a.backoff || a.tries < replicas_.size())) deadlines_.insert({a.retry_at, req});
}

void DatabaseClient::unschedule(uint64_t req, const Attempt& a) { deadlines_.erase({a.retry_at, req}); }

void DatabaseClient::heard(const std::string& from, TimePoint now) {
  const size_t i = index_of(from);
  if (i == replicas_.size()) return;
  heard_at_[i] = now;
  last_heard_ = now;
  failing_ = false;
}

bool DatabaseClient::on_reply(const std::string& from, const Message& msg, TimePoint now, Effects& out) {
  auto it = in_flight_.find(msg.req);
  Attempt& a = it->second;
  const auto* e = std::get_if<Error>(&msg.body);
  if (gossip_) {
    const size_t i = index_of(from);
    take_clock(i, msg.body);
    if (e != nullptr && e->code == ErrorCode::kSeqGap && !a.own && refill(msg.req, a, now, out)) return false;
    if (partial(msg.body)) {
      // The replica lacked what this client has seen and could not wait: another may have it.
      a.partial_from.resize(replicas_.size());
      a.partial_from[a.replica] = true;
      const size_t next = choose(a.body, now, a.replica, &a.partial_from);
      if (next != a.replica && !a.partial_from[next] && live(next, now)) {
        ++a.tries;
        send_to(msg.req, a, next, now, out);
        return false;
      }
    }
    if (const auto* ack = std::get_if<Ack>(&msg.body); ack != nullptr && i < replicas_.size()) retain(i, a.body, *ack);
    const bool own = a.own;
    unload(a);
    unschedule(msg.req, a);
    in_flight_.erase(it);
    return !own;
  }
  if (e != nullptr && e->code == ErrorCode::kNotLeader && replicas_.size() > 1) {
    const size_t named = e->leader ? index_of(*e->leader) : replicas_.size();
    if (named < replicas_.size() && named != a.replica && a.redirects < 2 * replicas_.size()) {
      // Straight to the leader the replica named.
      leader_ = named;
      ++a.redirects;
      send_to(msg.req, a, leader_, now, out);
    } else {
      // No leader known (an election is under way): ask the next replica a little later, until
      // the caller's own deadline.
      unschedule(msg.req, a);
      a.backoff = true;
      a.retry_at = now + kElectionBackoff;
      schedule(msg.req, a);
    }
    return false;
  }
  if (const size_t i = index_of(from); i < replicas_.size() && e == nullptr) leader_ = i;
  unschedule(msg.req, a);
  in_flight_.erase(it);
  return true;
}

void DatabaseClient::tick(TimePoint now, Effects& out) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t req = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    Attempt& a = in_flight_.at(req);
    if (a.own) {
      in_flight_.erase(req);  // a kept update sent again: its answer was only a courtesy
      continue;
    }
    if (!a.backoff && heard_at_[a.replica] > a.attempt_at) {
      // The replica asked is alive (it answered something since): it is slow, not gone, and
      // another replica would only send the request back to it. Keep waiting.
      a.retry_at = now + a.share;
      schedule(req, a);
      continue;
    }
    ++a.tries;
    if (gossip_) {
      // Nothing heard from it since it was asked: on the dead list until it is heard again.
      if (heard_at_[a.replica] <= a.attempt_at) died_at_[a.replica] = now;
      send_to(req, a, choose(a.body, now, a.replica), now, out);
      continue;
    }
    send_to(req, a, (a.replica + 1) % replicas_.size(), now, out);
  }
}

void DatabaseClient::learn(const Members& m, Effects& out) {
  if (m.members.empty() || m.index <= learnt_index_) return;
  learnt_index_ = m.index;
  if (gossip_) {
    // Members join a gossip tier, or leave it for good: the new ones go at the end, in the order
    // listed; one no longer listed is skipped from then on (its index stays: what it alone
    // acknowledged is still kept until another replica has it).
    for (const auto& r : m.members) {
      if (index_of(r.id) < replicas_.size()) continue;
      if (!r.address.empty()) out.connect(r.id, r.address);
      replicas_.push_back(r.id);
      heard_at_.push_back(TimePoint::min());
      died_at_.push_back(TimePoint::min());
      load_.push_back(0);
      retained_by_.emplace_back();
      removed_.push_back(false);
    }
    for (size_t i = 0; i < replicas_.size(); ++i) {
      removed_[i] = std::none_of(m.members.begin(), m.members.end(), [&](const ReplicaInfo& r) { return r.id == replicas_[i]; });
    }
    return;
  }
  std::vector<std::string> next;
  for (const auto& r : m.members) {
    next.push_back(r.id);
    if (index_of(r.id) == replicas_.size() && !r.address.empty()) out.connect(r.id, r.address);
  }
  if (next == replicas_) return;
  auto position = [&](const std::string& name) -> std::optional<size_t> {
    const auto it = std::find(next.begin(), next.end(), name);
    if (it == next.end()) return std::nullopt;
    return static_cast<size_t>(it - next.begin());
  };
  // Where an old index is in the new list; a replica that left maps to the first, to try next.
  auto moved = [&](size_t old) { return position(replicas_[old]).value_or(0); };
  std::vector<TimePoint> heard(next.size(), TimePoint::min());
  for (size_t i = 0; i < replicas_.size(); ++i) {
    if (const auto at = position(replicas_[i])) heard[*at] = heard_at_[i];
  }
  for (auto& [req, a] : in_flight_) a.replica = moved(a.replica);
  const auto named = m.leader ? position(*m.leader) : std::nullopt;
  leader_ = named ? *named : moved(leader_);
  replicas_ = std::move(next);
  heard_at_ = std::move(heard);
  removed_.assign(replicas_.size(), false);
}

void DatabaseClient::lost(const std::string& replica, TimePoint now, Effects& out) {
  const size_t i = index_of(replica);
  if (i == replicas_.size() || replicas_.size() == 1) return;
  heard_at_[i] = TimePoint::min();
  if (gossip_) {
    died_at_[i] = now;
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      auto& [req, a] = *it;
      if (a.replica == i && a.own) {
        deadlines_.erase({a.retry_at, req});
        it = in_flight_.erase(it);
        continue;
      }
      if (a.replica == i) {
        ++a.tries;
        send_to(req, a, choose(a.body, now, i), now, out);
      }
      ++it;
    }
    return;
  }
  if (leader_ == i) leader_ = (i + 1) % replicas_.size();
  for (auto& [req, a] : in_flight_) {
    if (a.replica != i || a.backoff) continue;
    ++a.tries;
    send_to(req, a, leader_, now, out);
  }
}

TimePoint DatabaseClient::next_deadline() const {
  return deadlines_.empty() ? TimePoint::max() : deadlines_.begin()->first;
}

void DatabaseClient::timed_out(uint64_t req) {
  auto it = in_flight_.find(req);
  if (it == in_flight_.end()) return;
  if (last_heard_ < it->second.sent_at) failing_ = true;
  unload(it->second);
  unschedule(req, it->second);
  in_flight_.erase(it);
}

}  // namespace oly
