#include "dbclient/database_client.h"

#include <algorithm>
#include <optional>

namespace oly {

DatabaseClient::DatabaseClient(std::vector<std::string> replicas)
    : replicas_(std::move(replicas)), heard_at_(replicas_.size(), TimePoint::min()) {}

size_t DatabaseClient::index_of(const std::string& replica) const {
  return static_cast<size_t>(std::find(replicas_.begin(), replicas_.end(), replica) - replicas_.begin());
}

void DatabaseClient::send(uint64_t req, Body body, Duration timeout, TimePoint now, Effects& out) {
  if (auto old = in_flight_.find(req); old != in_flight_.end()) unschedule(req, old->second);
  Attempt a;
  a.body = std::move(body);
  a.sent_at = now;
  a.share = timeout / static_cast<int64_t>(replicas_.size());
  auto& stored = in_flight_.insert_or_assign(req, std::move(a)).first->second;
  send_to(req, stored, leader_, now, out);
}

void DatabaseClient::send_to(uint64_t req, Attempt& a, size_t replica, TimePoint now, Effects& out) {
  unschedule(req, a);
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
    if (!a.backoff && heard_at_[a.replica] > a.attempt_at) {
      // The replica asked is alive (it answered something since): it is slow, not gone, and
      // another replica would only send the request back to it. Keep waiting.
      a.retry_at = now + a.share;
      schedule(req, a);
      continue;
    }
    ++a.tries;
    send_to(req, a, (a.replica + 1) % replicas_.size(), now, out);
  }
}

void DatabaseClient::learn(const Members& m, Effects& out) {
  if (m.members.empty() || m.index <= learnt_index_) return;
  learnt_index_ = m.index;
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
}

void DatabaseClient::lost(const std::string& replica, TimePoint now, Effects& out) {
  const size_t i = index_of(replica);
  if (i == replicas_.size() || replicas_.size() == 1) return;
  heard_at_[i] = TimePoint::min();
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
  unschedule(req, it->second);
  in_flight_.erase(it);
}

}  // namespace oly
