// PullConsistency: cache consistency by polling (DESIGN.md section 4, "Pull").
//
// A peer serves a cached value until its time to refresh (TTR, ttr.h) runs out, then polls the
// master with the version it has (answer: not_modified, or the new value). A key read at least
// once a second is polled when three quarters of its TTR have passed, so that its readers rarely
// wait. Every answer to a tablet reports its staleness bound: how long ago the value was last
// known to be current (0 at the master, whose cache is written through). A served value is at
// most the longest TTR plus one poll round trip behind the database.
//
// The master sends nothing on an update and holds no ack: pull stays pull.
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include "frontend/consistency.h"
#include "frontend/ttr.h"

namespace oly {

class PullConsistency final : public ConsistencyProtocol {
 public:
  PullConsistency(const Config& cfg, Cache& cache, Counters& counters) : ttr_(cfg.pull), cache_(cache), counters_(counters) {}

  bool usable(const CacheEntry& e, TimePoint now) const override { return now - e.confirmed_at < e.ttr; }
  Body fill_request(const std::string& key, CacheEntry* cached) override;
  bool may_cache(const Value*, const RoleView&, TimePoint) const override { return true; }
  Duration ttr_after_fetch() const override { return ttr_.initial(); }
  Duration ttr_after_poll(CacheEntry& e, uint64_t version, TimePoint now) override {
    return ttr_.after_poll(e, version, now);
  }
  bool stale_fill(const std::string&, uint64_t) const override { return false; }
  std::optional<int64_t> staleness_bound(const CacheEntry* e, const RoleView& role, TimePoint now) const override;
  bool refresh_ahead(const CacheEntry& e, TimePoint now) const override;
  std::optional<Body> on_heartbeat(const RoleView&) override { return std::nullopt; }
  void on_lease_grant(const LeaseGrant&, TimePoint, const RoleView&) override {}
  void on_invalidate(const Invalidate&, const RoleView&) override { ++counters_["invalidations_received"]; }

  bool on_fetch(const std::string&, const std::string&, TimePoint) override { return true; }
  void on_lease_request(const std::string&, const Message&, const RoleView&, TimePoint, Effects&) override {
    ++counters_["leases_refused"];
  }
  bool on_update(const std::string&, uint64_t, uint64_t, const RoleView&, TimePoint, Effects&) override {
    return false;
  }
  bool waiting(uint64_t) const override { return false; }
  void on_invalidate_ack(const std::string&, const InvalidateAck&) override {}
  bool acks_settle() const override { return false; }

  // Retunes the TTR policy (ttr.h) every kRetune.
  void tick(const RoleView&, TimePoint now, Effects&) override;
  TimePoint next_deadline() const override {
    return ttr_.kind() == TtrKind::kFidelity ? next_retune_ : TimePoint::max();
  }
  void reset() override {}
  void add_stats(Stats& s, const RoleView&, TimePoint) const override;
  Consistency mode() const override { return Consistency::kPull; }

 private:
  static constexpr Duration kRetune = ms(250);
  TtrPolicy ttr_;
  Cache& cache_;
  Counters& counters_;
  TimePoint next_retune_{};
};

}  // namespace oly
