#include "frontend/push_consistency.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"

namespace oly {

PushConsistency::PushConsistency(const Config& cfg, Cache& cache, Counters& counters)
    : lease_ms_(cfg.lease.duration_ms),
      cache_(cache),
      counters_(counters),
      directory_(ms(cfg.lease.duration_ms), ms(cfg.heartbeat.interval_ms)) {}

bool PushConsistency::usable(const CacheEntry&, TimePoint now) const { return now < lease_until_; }

Body PushConsistency::fill_request(const std::string& key, CacheEntry*, TimePoint) {
  ++counters_["fetches_sent"];
  return Fetch{key, std::nullopt};
}

bool PushConsistency::may_cache(const Value* value, const RoleView& role, TimePoint now) const {
  if (role.master) return value == nullptr || value->cacheable;
  // A peer caches only what the master registered it for, and only under a lease.
  return value != nullptr && value->cacheable && now < lease_until_;
}

bool PushConsistency::stale_fill(const std::string& key, uint64_t version) const {
  auto it = invalidated_.find(key);
  return it != invalidated_.end() && version < it->second;
}

std::optional<Body> PushConsistency::on_heartbeat(const RoleView& role) {
  if (role.master || role.master_id.empty()) return std::nullopt;
  return LeaseRequest{std::string(role.self), role.epoch};
}

void PushConsistency::on_lease_grant(const LeaseGrant& g, TimePoint sent_at, const RoleView& role) {
  // The lease runs from when we asked, so it ends here before it ends at the master.
  if (g.epoch == role.epoch && !role.master) lease_until_ = std::max(lease_until_, sent_at + ms(g.duration_ms));
}

void PushConsistency::on_invalidate(const Invalidate& inv, const RoleView& role) {
  ++counters_["invalidations_received"];
  const auto* cached = cache_.peek(inv.key);
  spdlog::debug("invalidate {} v{} (epoch {}, ours {}), cached v{}", inv.key, inv.version, inv.epoch, role.epoch,
                cached ? cached->value.version : 0);
  if (inv.epoch >= role.epoch) {
    auto& high = invalidated_[inv.key];
    high = std::max(high, inv.version);
    // Always drop the copy, whatever its version: the master has unregistered us for this key,
    // so keeping it would miss the next invalidation.
    cache_.erase(inv.key);
    cache_.invalidated(inv.key, inv.version);
  }
}

bool PushConsistency::on_fetch(const std::string& peer, const std::string& key, TimePoint now) {
  const bool cacheable = directory_.has_lease(peer, now);
  if (cacheable) directory_.add(key, peer);
  spdlog::debug("t={} fetch of {} by {}: cacheable={}", to_us(now), key, peer, cacheable);
  return cacheable;
}

void PushConsistency::on_lease_request(const std::string& peer, const Message& msg, const RoleView& role,
                                       TimePoint now, Effects& out) {
  const auto& r = msg.as<LeaseRequest>();
  // A read lease never outlives our master lease: once that ends another front end may become
  // master, and no copy we let a peer serve may still be in use then.
  const int64_t left_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(role.master_lease_until - now).count();
  const int64_t grant_ms = std::min<int64_t>(lease_ms_, left_ms);
  if (!role.master || r.epoch != role.epoch || now >= role.master_lease_until || grant_ms <= 0) {
    ++counters_["leases_refused"];  // the peer learns the master and epoch from heartbeats
    return;
  }
  if (directory_.renew(peer, now, ms(grant_ms))) {
    out.send(peer, msg.req, LeaseGrant{role.epoch, grant_ms});
  } else {
    ++counters_["leases_withheld"];  // an invalidation to it is outstanding
  }
}

namespace {

// Gossip mode: the clock an invalidation carries (none otherwise).
std::optional<VectorStamp> clock_of(const RoleView& role) {
  if (role.clock == nullptr || role.clock->empty()) return std::nullopt;
  return *role.clock;
}

}  // namespace

bool PushConsistency::on_update(const std::string& key, uint64_t version, uint64_t hold, const RoleView& role,
                                TimePoint now, Effects& out) {
  const auto u = directory_.on_update(key, version, hold, now);
  spdlog::debug("t={} ack {} v{}: invalidating {} peers, held={}", to_us(now), key, version, u.invalidate.size(),
                u.held);
  for (const auto& peer : u.invalidate) {
    ++counters_["invalidations_sent"];
    out.send(peer, 0, Invalidate{key, version, role.epoch, clock_of(role)});
  }
  return u.held;
}

void PushConsistency::on_invalidate_ack(const std::string& peer, const InvalidateAck& ack) {
  directory_.on_ack(peer, ack.key, ack.version);
}

void PushConsistency::tick(const RoleView& role, TimePoint now, Effects& out) {
  if (role.master) {
    directory_.expire(now);
    for (const auto& r : directory_.due_resends(now)) {
      ++counters_["invalidations_resent"];
      out.send(r.peer, 0, Invalidate{r.key, r.version, role.epoch, clock_of(role)});
    }
  } else if (now >= lease_until_) {
    flush_cache(cache_, counters_, "read lease expired");
  }
}

void PushConsistency::reset() {
  lease_until_ = TimePoint{};
  directory_.clear();
}

void PushConsistency::add_stats(Stats& s, const RoleView& role, TimePoint now) const {
  if (!role.master && now < lease_until_) s.counters["lease_valid"] = 1;
}

}  // namespace oly
