// PullConsistency: cache consistency by polling (DESIGN.md section 4, "Pull").
//
// A peer serves a cached value until its time to refresh (TTR, ttr.h) runs out, then polls the
// master with the version it has (answer: not_modified, or the new value). A key read at least
// once a second is polled when three quarters of its TTR have passed, so that its readers rarely
// wait (with hints, not while a request sent since the key was confirmed may still be answered:
// that answer will confirm it). Every answer to a tablet reports its staleness bound: how long ago the value was last
// known to be current (0 at the master, whose cache is written through). A served value is at
// most the longest TTR plus one poll round trip behind the database.
//
// With hints (pull.hints, the default) every poll and fetch carries the peer's cursor in the
// master's log of changes (change_log.h), and the answer lists what changed since: the peer takes
// the new values and counts every other key it holds as confirmed by that poll, unless the master
// names it unsettled (an update in flight). One poll thus refreshes every key; the TTR policy
// still decides when each key must be polled at the latest.
//
// The master sends nothing on an update and holds no ack: pull stays pull.
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include "frontend/change_log.h"
#include "frontend/consistency.h"
#include "frontend/ttr.h"

namespace oly {

class PullConsistency final : public ConsistencyProtocol {
 public:
  PullConsistency(const Config& cfg, Cache& cache, Counters& counters)
      : ttr_(cfg.pull), hints_(cfg.pull.hints), cache_(cache), counters_(counters) {}

  bool usable(const CacheEntry& e, TimePoint now) const override { return now - e.confirmed_at < e.ttr; }
  Body fill_request(const std::string& key, CacheEntry* cached, TimePoint now) override;
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
  void on_changes(const Changes& changes, const std::string& key, uint64_t version, const RoleView& role,
                  TimePoint sent_at, TimePoint now) override;

  void on_cached(const KeyValue& kv) override {
    if (hints_) log_.record(kv);
  }
  std::optional<Changes> changes_since(const std::optional<Cursor>& since, const RoleView& role,
                                       TimePoint now) const override;

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
  void reset() override {
    log_.reset();
    cursor_.reset();
  }
  void add_stats(Stats& s, const RoleView&, TimePoint) const override;
  Consistency mode() const override { return Consistency::kPull; }

 private:
  static constexpr Duration kRetune = ms(250);
  // How long a refresh ahead waits for the answer to another key's request (many round trips).
  static constexpr Duration kAnswerWait = ms(20);
  TtrPolicy ttr_;
  bool hints_;
  ChangeLog log_;                 // the master's changes
  std::optional<Cursor> cursor_;  // a peer's place in them
  TimePoint last_request_{};      // a peer's last fetch or poll with hints
  Cache& cache_;
  Counters& counters_;
  TimePoint next_retune_{};
};

}  // namespace oly
