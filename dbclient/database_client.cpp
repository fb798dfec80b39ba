#include "dbclient/database_client.h"

#include <algorithm>

namespace oly {

DatabaseClient::DatabaseClient(std::vector<std::string> replicas) : replicas_(std::move(replicas)) {}

size_t DatabaseClient::index_of(const std::string& replica) const {
  return static_cast<size_t>(std::find(replicas_.begin(), replicas_.end(), replica) - replicas_.begin());
}

void DatabaseClient::send(uint64_t req, Body body, Duration timeout, TimePoint now, Effects& out) {
  Attempt a;
  a.body = std::move(body);
  a.sent_at = now;
  a.share = timeout / static_cast<int64_t>(replicas_.size());
  auto& stored = in_flight_.insert_or_assign(req, std::move(a)).first->second;
  send_to(req, stored, leader_, now, out);
}

void DatabaseClient::send_to(uint64_t req, Attempt& a, size_t replica, TimePoint now, Effects& out) {
  a.replica = replica;
  a.retry_at = now + a.share;
  out.send(replicas_[replica], req, a.body);
}

void DatabaseClient::heard(const std::string& from, TimePoint now) {
  if (index_of(from) == replicas_.size()) return;
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
      a.backoff = true;
      a.retry_at = now + kElectionBackoff;
    }
    return false;
  }
  if (const size_t i = index_of(from); i < replicas_.size() && e == nullptr) leader_ = i;
  in_flight_.erase(it);
  return true;
}

void DatabaseClient::tick(TimePoint now, Effects& out) {
  if (replicas_.size() == 1) return;  // nowhere else to try
  for (auto& [req, a] : in_flight_) {
    if (a.retry_at > now || (!a.backoff && a.tries >= replicas_.size())) continue;
    ++a.tries;
    a.backoff = false;
    send_to(req, a, (a.replica + 1) % replicas_.size(), now, out);
  }
}

TimePoint DatabaseClient::next_deadline() const {
  TimePoint t = TimePoint::max();
  if (replicas_.size() == 1) return t;
  for (const auto& [req, a] : in_flight_) {
    if (a.backoff || a.tries < replicas_.size()) t = std::min(t, a.retry_at);
  }
  return t;
}

void DatabaseClient::timed_out(uint64_t req) {
  auto it = in_flight_.find(req);
  if (it == in_flight_.end()) return;
  if (last_heard_ < it->second.sent_at) failing_ = true;
  in_flight_.erase(it);
}

}  // namespace oly
