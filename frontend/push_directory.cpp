#include "frontend/push_directory.h"

#include <algorithm>

namespace oly {

bool PushDirectory::outstanding(const std::string& peer) const {
  return std::any_of(waits_.begin(), waits_.end(), [&](const Wait& w) { return w.peers.count(peer) > 0; });
}

bool PushDirectory::renew(const std::string& peer, TimePoint now) { return renew(peer, now, lease_); }

bool PushDirectory::renew(const std::string& peer, TimePoint now, Duration duration) {
  if (outstanding(peer)) return false;
  leases_[peer] = now + std::min(duration, lease_);
  return true;
}

bool PushDirectory::has_lease(const std::string& peer, TimePoint now) const {
  auto it = leases_.find(peer);
  return it != leases_.end() && it->second > now;
}

size_t PushDirectory::cachers(const std::string& key) const {
  auto it = cachers_.find(key);
  return it == cachers_.end() ? 0 : it->second.size();
}

PushDirectory::Update PushDirectory::on_update(const std::string& key, uint64_t version, uint64_t hold,
                                              TimePoint now) {
  Update u;
  std::map<std::string, uint64_t> owed;
  // Peers still owing an earlier invalidation of this key may hold an older value too.
  for (const auto& w : waits_) {
    if (w.key != key) continue;
    for (const auto& [peer, v] : w.peers) owed[peer] = std::max(owed[peer], v);
  }
  if (auto it = cachers_.find(key); it != cachers_.end()) {
    for (const auto& p : it->second) {
      if (!has_lease(p, now)) continue;  // a peer without a lease has flushed already
      u.invalidate.push_back(p);
      owed[p] = version;
    }
    // Once told, a peer holds no copy until it fetches again (which registers it again).
    cachers_.erase(it);
  }
  if (owed.empty()) return u;
  u.held = true;
  waits_.push_back(Wait{key, version, hold, std::move(owed), now});
  open_.insert(hold);
  return u;
}

void PushDirectory::close_done() {
  for (auto it = waits_.begin(); it != waits_.end();) {
    if (it->peers.empty()) {
      open_.erase(it->hold);
      it = waits_.erase(it);
    } else {
      ++it;
    }
  }
}

bool PushDirectory::waiting(uint64_t hold) const { return open_.count(hold) > 0; }

void PushDirectory::on_ack(const std::string& peer, const std::string& key, uint64_t version) {
  for (auto& w : waits_) {
    auto it = w.peers.find(peer);
    if (w.key == key && it != w.peers.end() && it->second <= version) w.peers.erase(it);
  }
  close_done();
}

void PushDirectory::expire(TimePoint now) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    for (auto& [key, peers] : cachers_) peers.erase(it->first);
    for (auto& w : waits_) w.peers.erase(it->first);
    it = leases_.erase(it);
  }
  close_done();
}

std::vector<PushDirectory::Resend> PushDirectory::due_resends(TimePoint now) {
  std::vector<Resend> out;
  for (auto& w : waits_) {
    if (now - w.sent_at < resend_) continue;
    for (const auto& [p, v] : w.peers) out.push_back({p, w.key, v});
    w.sent_at = now;
  }
  return out;
}

TimePoint PushDirectory::next_deadline() const {
  TimePoint t = TimePoint::max();
  if (waits_.empty()) return t;  // lease ends matter only to waits (and are checked on renewal)
  for (const auto& [peer, until] : leases_) t = std::min(t, until);
  for (const auto& w : waits_) t = std::min(t, w.sent_at + resend_);
  return t;
}

void PushDirectory::clear() {
  waits_.clear();
  open_.clear();
  cachers_.clear();
  leases_.clear();
}

}  // namespace oly
