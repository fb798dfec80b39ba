#include "frontend/failure_detector.h"

#include <algorithm>

namespace oly {

FailureDetector::FailureDetector(std::vector<std::string> peers, Duration timeout) : timeout_(timeout) {
  peers_.reserve(peers.size());
  for (auto& id : peers) {
    if (find(id) != nullptr) continue;
    Peer p;
    p.id = std::move(id);
    peers_.push_back(std::move(p));
  }
}

FailureDetector::Peer* FailureDetector::find(const std::string& id) {
  for (auto& p : peers_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const FailureDetector::Peer* FailureDetector::find(const std::string& id) const {
  return const_cast<FailureDetector*>(this)->find(id);
}

void FailureDetector::start(TimePoint now) {
  if (!started_) started_ = now;
}

FailureDetector::Heard FailureDetector::heard(const std::string& peer, TimePoint now, uint64_t incarnation) {
  Peer* p = find(peer);
  if (p == nullptr) return Heard::kIgnored;
  if (p->suspected && incarnation == 0) return Heard::kIgnored;  // maybe stale, from before the silence
  // Incarnations rise with every start: a lower one is a late heartbeat of a dead incarnation.
  if (incarnation != 0 && incarnation < p->incarnation) return Heard::kIgnored;

  p->last_heard = p->last_heard ? std::max(*p->last_heard, now) : now;
  if (incarnation == 0) return Heard::kAlive;

  const bool was_suspected = p->suspected;
  p->suspected = false;
  Heard result = Heard::kAlive;
  if (p->incarnation == 0) {
    result = Heard::kFirst;
    p->up_since = now;
  } else if (p->incarnation != incarnation) {
    result = Heard::kRestarted;
    ++restarts_;
    p->up_since = now;
  } else if (was_suspected) {
    result = Heard::kRecovered;
    ++false_suspicions_;
    p->up_since = now;
  }
  p->incarnation = incarnation;
  return result;
}

TimePoint FailureDetector::deadline(const Peer& p) const {
  const TimePoint from = p.last_heard ? std::max(*p.last_heard, *started_) : *started_;
  return from + timeout_;
}

std::vector<std::string> FailureDetector::check(TimePoint now) {
  std::vector<std::string> out;
  if (!started_) return out;
  for (auto& p : peers_) {
    if (p.suspected || now < deadline(p)) continue;
    p.suspected = true;
    p.up_since.reset();
    ++suspicions_;
    out.push_back(p.id);
  }
  return out;
}

bool FailureDetector::suspected(const std::string& peer) const {
  const Peer* p = find(peer);
  return p != nullptr && p->suspected;
}

std::optional<TimePoint> FailureDetector::last_heard(const std::string& peer) const {
  for (const auto& p : peers_) {
    if (p.id == peer) return p.last_heard;
  }
  return std::nullopt;
}

std::optional<TimePoint> FailureDetector::up_since(const std::string& peer) const {
  const Peer* p = find(peer);
  if (p == nullptr || p->suspected) return std::nullopt;
  return p->up_since;
}

std::vector<std::string> FailureDetector::suspects() const {
  std::vector<std::string> out;
  for (const auto& p : peers_) {
    if (p.suspected) out.push_back(p.id);
  }
  return out;
}

TimePoint FailureDetector::next_deadline() const {
  TimePoint next = TimePoint::max();
  if (!started_) return next;
  for (const auto& p : peers_) {
    if (!p.suspected) next = std::min(next, deadline(p));
  }
  return next;
}

}  // namespace oly
