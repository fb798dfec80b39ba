// PushConsistency: cache consistency by invalidation (DESIGN.md section 4, "Push").
//
// Peer side: the cache is usable while the peer holds a read lease from the master, renewed
// every heartbeat interval (valid from when the peer *sent* its request, so it always ends here
// first); a miss is fetched through the master, which registers the peer for the key in the same
// step; an invalidation drops the key, and a later fill older than it is discarded (the
// "invalidation before reply" race). A peer whose lease ran out flushes its cache.
//
// Master side (PushDirectory): read leases are granted only within the master's own lease and
// never to a peer that owes an invalidation; an update invalidates the key at every registered
// peer, and its ack waits (a hold id, see consistency.h) until each of them acknowledged or lost
// its lease; unacknowledged invalidations are resent every heartbeat interval. A new master that
// replaced an earlier incarnation of itself holds its acks until the peers confirmed its epoch
// (acks_settle).
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <map>

#include "frontend/consistency.h"
#include "frontend/push_directory.h"

namespace oly {

class PushConsistency final : public ConsistencyProtocol {
 public:
  PushConsistency(const Config& cfg, Cache& cache, Counters& counters);

  bool usable(const CacheEntry& e, TimePoint now) const override;
  Body fill_request(const std::string& key, CacheEntry* cached, TimePoint now) override;
  bool may_cache(const Value* value, const RoleView& role, TimePoint now) const override;
  Duration ttr_after_fetch() const override { return Duration(0); }
  Duration ttr_after_poll(CacheEntry& e, uint64_t, TimePoint) override { return e.ttr; }
  bool stale_fill(const std::string& key, uint64_t version) const override;
  std::optional<int64_t> staleness_bound(const CacheEntry*, const RoleView&, TimePoint) const override {
    return std::nullopt;
  }
  bool refresh_ahead(const CacheEntry&, TimePoint) const override { return false; }
  std::optional<Body> on_heartbeat(const RoleView& role) override;
  void on_lease_grant(const LeaseGrant& g, TimePoint sent_at, const RoleView& role) override;
  void on_invalidate(const Invalidate& inv, const RoleView& role) override;
  void on_changes(const Changes&, const std::string&, uint64_t, const RoleView&, TimePoint, TimePoint) override {}

  void on_cached(const KeyValue&) override {}
  std::optional<Changes> changes_since(const std::optional<Cursor>&, const RoleView&, TimePoint) const override {
    return std::nullopt;
  }
  bool on_fetch(const std::string& peer, const std::string& key, TimePoint now) override;
  void on_lease_request(const std::string& peer, const Message& msg, const RoleView& role, TimePoint now,
                        Effects& out) override;
  bool on_update(const std::string& key, uint64_t version, uint64_t hold, const RoleView& role, TimePoint now,
                 Effects& out) override;
  bool waiting(uint64_t hold) const override { return directory_.waiting(hold); }
  void on_invalidate_ack(const std::string& peer, const InvalidateAck& ack) override;
  bool acks_settle() const override { return true; }

  void tick(const RoleView& role, TimePoint now, Effects& out) override;
  TimePoint next_deadline() const override { return directory_.next_deadline(); }
  void reset() override;
  void add_stats(Stats& s, const RoleView& role, TimePoint now) const override;
  Consistency mode() const override { return Consistency::kPush; }

 private:
  const int64_t lease_ms_;
  Cache& cache_;
  Counters& counters_;
  PushDirectory directory_;                      // master: leases, registrations, waits
  TimePoint lease_until_{};                      // peer: our read lease ends here
  std::map<std::string, uint64_t> invalidated_;  // peer: key -> highest version invalidated
};

}  // namespace oly
