// ConsistencyProtocol: how the front ends' caches are kept consistent with the database, push or
// pull (DESIGN.md section 4; `consistency` in the config). FrontendCore runs the cache, fills
// and the hold queue; at each point where the two modes differ it asks its protocol. A third mode
// is a new implementation of this interface, not new branches in the core.
//
//   push (push_consistency.h): a peer serves from its cache while it holds a read lease from the
//     master; a miss is fetched through the master, which registers the peer for the key; on an
//     update the master invalidates the key at every registered peer, and the publisher's ack is
//     held until each of them acknowledged or lost its lease.
//   pull (pull_consistency.h): a peer serves a cached value until its time to refresh (TTR) runs
//     out, then polls the master with the version it has; popular keys are polled ahead of
//     expiry; every answer reports how stale it may be.
//
// The master's own cache is written through on every update whatever the mode, and is usable
// only under its master lease: the core decides that, not the protocol.
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/config.h"
#include "common/message.h"
#include "common/node.h"
#include "frontend/cache.h"

namespace oly {

// What a protocol may know of the front end's role at one instant.
struct RoleView {
  std::string_view self;          // this front end's id
  bool master = false;            // this front end is master
  std::string_view master_id;     // who is master ("" when unknown)
  uint64_t epoch = 0;             // the master's epoch
  TimePoint master_lease_until{};  // master: its lease at the database (serve only before it)
  const VectorStamp* clock = nullptr;  // gossip mode: the newest database clock seen (invalidations carry it)
};

class ConsistencyProtocol {
 public:
  virtual ~ConsistencyProtocol() = default;

  // The protocol of cfg.consistency, over the front end's cache and counters.
  static std::unique_ptr<ConsistencyProtocol> make(const Config& cfg, Cache& cache, Counters& counters);

  // ---------------------------------------------------------------- a peer's cache

  // Whether a peer that knows the master may answer from `e` at `now`.
  virtual bool usable(const CacheEntry& e, TimePoint now) const = 0;
  // The request that fills `key` from the master at `now`; `cached` is its current entry, if any.
  virtual Body fill_request(const std::string& key, CacheEntry* cached, TimePoint now) = 0;
  // Whether a filled value may be cached. `value` is the master's answer (nullptr for a read of
  // the database).
  virtual bool may_cache(const Value* value, const RoleView& role, TimePoint now) const = 0;
  // The time to refresh of a value fetched now (not cached before).
  virtual Duration ttr_after_fetch() const = 0;
  // A poll of `e` (which still holds the version polled) was answered at `now` with `version`
  // (the same when not modified): the key's next time to refresh.
  virtual Duration ttr_after_poll(CacheEntry& e, uint64_t version, TimePoint now) = 0;
  // Whether a peer's fill at `version` is older than an invalidation it already received (the
  // "invalidation before reply" race: it must be discarded and fetched again).
  virtual bool stale_fill(const std::string& key, uint64_t version) const = 0;
  // What a tablet's answer from `e` (nullptr: not cached) reports as its staleness bound.
  virtual std::optional<int64_t> staleness_bound(const CacheEntry* e, const RoleView& role, TimePoint now) const = 0;
  // Whether a peer should poll `e` now, ahead of its expiry.
  virtual bool refresh_ahead(const CacheEntry& e, TimePoint now) const = 0;
  // Every heartbeat interval: a request to send the master (push: a read-lease renewal), if any.
  virtual std::optional<Body> on_heartbeat(const RoleView& role) = 0;
  // The master granted the lease asked for at `sent_at`.
  virtual void on_lease_grant(const LeaseGrant& g, TimePoint sent_at, const RoleView& role) = 0;
  // An invalidation from a master (the core answers it with an InvalidateAck).
  virtual void on_invalidate(const Invalidate& inv, const RoleView& role) = 0;

  // A peer: the master's answer to a Fetch or Poll of `key` sent at `sent_at` carried `changes`
  // (pull with hints); the core has already taken the answer's `version` of `key`. Confirms or
  // refreshes every other key the changes cover.
  virtual void on_changes(const Changes& changes, const std::string& key, uint64_t version, const RoleView& role,
                          TimePoint sent_at, TimePoint now) = 0;

  // ---------------------------------------------------------------- the master

  // The master's cache took `kv`, a version it did not hold (written through, or filled).
  virtual void on_cached(const KeyValue& kv) = 0;
  // The changes to send with the answer to a peer's Fetch or Poll that carried `since`; nullopt
  // for none (push, hints off, or no master lease). The core adds `unsettled` and `current`.
  virtual std::optional<Changes> changes_since(const std::optional<Cursor>& since, const RoleView& role,
                                               TimePoint now) const = 0;

  // A peer fetched `key`; returns whether it may cache the answer (push: registered for it).
  virtual bool on_fetch(const std::string& peer, const std::string& key, TimePoint now) = 0;
  // A peer asks for a read lease; the grant, if any, goes in `out`.
  virtual void on_lease_request(const std::string& peer, const Message& msg, const RoleView& role, TimePoint now,
                                Effects& out) = 0;
  // The database applied an update: `key` is at `version`. Sends what must be sent (push:
  // invalidations) and returns whether the publisher's ack must wait on hold id `hold`.
  virtual bool on_update(const std::string& key, uint64_t version, uint64_t hold, const RoleView& role,
                         TimePoint now, Effects& out) = 0;
  // Whether hold id `hold` still waits on peers.
  virtual bool waiting(uint64_t hold) const = 0;
  // A peer acknowledged an invalidation.
  virtual void on_invalidate_ack(const std::string& peer, const InvalidateAck& ack) = 0;
  // Whether a new master must hold its acks until earlier masters' read leases are over.
  virtual bool acks_settle() const = 0;

  // ---------------------------------------------------------------- both

  // Periodic work (push: the master expires read leases and resends invalidations; a peer
  // whose lease ran out flushes its cache).
  virtual void tick(const RoleView& role, TimePoint now, Effects& out) = 0;
  // When tick() next has something to do.
  virtual TimePoint next_deadline() const = 0;
  // Forgets every lease and registration (the master or the epoch changed).
  virtual void reset() = 0;
  // Adds the protocol's figures to a stats reply.
  virtual void add_stats(Stats& s, const RoleView& role, TimePoint now) const = 0;
  virtual Consistency mode() const = 0;
};

// Empties `cache`, counting and logging it, when it holds anything.
void flush_cache(Cache& cache, Counters& counters, const char* why);

}  // namespace oly
