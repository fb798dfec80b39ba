#include "frontend/membership.h"

#include <algorithm>

#include "common/log.h"

namespace oly {

namespace {
std::vector<std::string> others(const std::vector<std::string>& all, const std::string& self) {
  std::vector<std::string> out;
  for (const auto& id : all) {
    if (id != self) out.push_back(id);
  }
  return out;
}
}  // namespace

Membership::Membership(std::string self, std::vector<std::string> frontends, Duration timeout, Duration settle,
                       Duration interval)
    : self_(std::move(self)),
      frontends_(std::move(frontends)),
      settle_(settle),
      interval_(interval),
      detector_(others(frontends_, self_), timeout) {}

void Membership::start(TimePoint now) { detector_.start(now); }

bool Membership::is_frontend(const std::string& id) const {
  return std::find(frontends_.begin(), frontends_.end(), id) != frontends_.end();
}

void Membership::heard(const std::string& peer, uint64_t incarnation, TimePoint now) {
  switch (detector_.heard(peer, now, incarnation)) {
    case FailureDetector::Heard::kRecovered:
      spdlog::info("{} is heard again, same incarnation: the suspicion was false", peer);
      rejoining_.insert(peer);
      break;
    case FailureDetector::Heard::kRestarted:
      spdlog::info("{} has restarted", peer);
      rejoining_.insert(peer);
      views_.erase(peer);
      break;
    default:
      break;
  }
}

void Membership::said(const std::string& peer, uint64_t epoch, bool database_ok) {
  views_[peer] = PeerView{epoch, database_ok};
}

std::vector<std::string> Membership::tick(TimePoint now) {
  auto suspects = detector_.check(now);
  for (const auto& p : suspects) {
    views_.erase(p);
    rejoining_.insert(p);
  }
  for (auto it = rejoining_.begin(); it != rejoining_.end();) {
    const auto up = detector_.up_since(*it);
    it = (up && now - *up >= settle_) ? rejoining_.erase(it) : std::next(it);
  }
  return suspects;
}

std::vector<std::string> Membership::serving() const {
  std::vector<std::string> s;
  for (const auto& f : frontends_) {
    if (f == self_ || (!detector_.suspected(f) && detector_.up_since(f) && !rejoining_.count(f))) s.push_back(f);
  }
  return s;
}

bool Membership::complete() const {
  return std::all_of(frontends_.begin(), frontends_.end(), [&](const std::string& f) {
    return f == self_ || detector_.up_since(f) || detector_.suspected(f);
  });
}

bool Membership::first_living(const std::string& master) const {
  for (const auto& f : frontends_) {
    if (f == self_) return true;
    if (f != master && !detector_.suspected(f)) return false;  // an earlier one will claim
  }
  return true;
}

bool Membership::silent(const std::string& master, TimePoint now) const {
  if (detector_.suspected(master)) return true;
  const auto heard = detector_.last_heard(master);
  return !heard || now - *heard >= 2 * interval_;
}

bool Membership::ready_to_lead(const std::string& peer, uint64_t epoch, TimePoint now, TimePoint* up) const {
  if (rejoining_.count(peer)) return false;
  const auto since = detector_.up_since(peer);
  const auto view = views_.find(peer);
  if (!since || now - *since < settle_ || view == views_.end() || view->second.epoch != epoch ||
      !view->second.database_ok) {
    return false;
  }
  *up = *since;
  return true;
}

bool Membership::same_run(const std::string& peer, TimePoint up) const {
  const auto since = detector_.up_since(peer);
  return since && *since == up;
}

}  // namespace oly
