// FrontendCore: the deterministic logic of one front end ("stone server").
//
// Data flow of an update: Cacofonix sends set_score / increment_medal_tally to the master front
// end; the master checks the publisher's token, stamps its fencing epoch on the update and
// forwards it to the database. The database's Ack (durable, with the key's new value) is written
// through to the master's cache; in push mode the master then invalidates the key at every peer
// that caches it (PushDirectory) and relays the Ack to Cacofonix only when they all dropped it or
// lost their lease. A front end that is not master answers not_master with the master's address;
// one that the database fences demotes itself and does the same.
//
// Data flow of a read (read_path.cpp): a tablet's get_score / get_medal_tally is answered from
// the cache when the cached value is usable, otherwise it waits for a fill:
//   - master: its cache is written through, so it is always usable; misses read the database.
//   - push peer: usable while it holds a read lease from the master; a miss fetches through the
//     master, which registers the peer for invalidations in the same step. A fill older than an
//     invalidation already received is discarded and fetched again.
//   - pull peer: usable until its time to refresh (TTR, see ttr.h) runs out; then it polls the
//     master with the cached version (answer: not_modified or the new value). Popular keys are
//     polled ahead of expiry so reads rarely wait.
// A tablet's min_version is honoured: a cached value older than it counts as a miss.
//
// Mastership and failures (membership.cpp; DESIGN.md section 5). The database arbitrates: a
// front end becomes master only by claiming epoch + 1 there (compare-and-set), every write carries
// the writer's epoch, and the master holds a master lease at the database that it renews every
// heartbeat interval; it serves its write-through cache only while that lease runs (counted from
// its send time, so it ends here before it ends at the database). So a paused or cut-off master
// stops serving before anyone else can be master, and a fenced one demotes itself.
//   - Detection: every front end heartbeats every peer each heartbeat.interval_ms; any message
//     counts; a FailureDetector suspects a peer after heartbeat.timeout_ms of silence.
//   - Takeover: when the master is suspected (or unknown), the first front end in config order
//     that is not suspected claims; the database refuses while the old master's lease runs and
//     says for how long (lease_held), and the claim is retried then. The new master publishes
//     master_changed (Cacofonix resends what is unacknowledged; the database deduplicates).
//     Push: it acknowledges nothing until every other peer has confirmed the new epoch in a
//     heartbeat (and so flushed what it cached under the old master) or lease.duration_ms passed.
//   - Tablets: the master publishes `serving` (the front ends that serve now) on every change and
//     every second; tablets read from their home while it is listed, else from a hash-spread one.
//     A front end that rejoins (restarted, or suspected and heard again) is listed again only
//     after heartbeat.settle_ms of unbroken heartbeats.
//   - Handoff: when the home master (first in the config) has settled, an acting master stops
//     forwarding updates (it holds them), waits until every update it started is acknowledged,
//     releases its lease at the database and sends hand_over; the home master claims the next
//     epoch. Held updates are then answered not_master naming the new master. If the handoff
//     does not finish in time, the acting master resumes.
//
// Thread-safety: none (a Core is driven by one Node).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "common/config.h"
#include "common/node.h"
#include "frontend/cache.h"
#include "frontend/failure_detector.h"
#include "frontend/push_directory.h"
#include "frontend/ttr.h"

namespace oly {

class FrontendCore final : public Core {
 public:
  // REQUIRES: cfg.frontend(id) != nullptr. `req_base` seeds the ids of requests this front end
  // sends (pick a different one per incarnation so that late replies to an earlier incarnation
  // are not mistaken for answers).
  FrontendCore(const Config& cfg, std::string id, uint64_t req_base);

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  TimePoint next_wake() const override { return next_wake_; }
  Counters& counters() override { return counters_; }

  bool is_master() const { return master_ == id_ && epoch_ > 0 && claimed_; }
  // Whether the master may serve from its cache at `now` (its master lease runs).
  bool holds_master_lease(TimePoint now) const { return is_master() && now < master_lease_until_; }
  // The front ends that serve tablets, as the master last published them (master only).
  const std::vector<std::string>& serving() const { return serving_; }
  const FailureDetector& detector() const { return detector_; }
  const std::string& master() const { return master_; }
  uint64_t epoch() const { return epoch_; }
  const std::string& id() const { return id_; }
  // Push mode: whether this peer may serve from its cache at `now`.
  bool holds_lease(TimePoint now) const { return now < lease_until_; }
  // What `stats` answers.
  Stats stats(TimePoint now) const;
  // The cached version of `key` (0 when not cached), for invariant checks.
  uint64_t cached_version(const std::string& key) { auto* e = cache_.peek(key); return e ? e->value.version : 0; }

 private:
  // A request we sent (to the database, or to the master) and what it serves.
  struct Pending {
    enum class Kind { kRead, kRegister, kUpdate, kGetMaster, kClaim, kRenew, kFill, kFetch, kPoll, kLease } kind;
    std::string client;      // endpoint to answer ("" for our own requests)
    uint64_t client_req = 0;
    TimePoint sent_at;
    std::string key;         // kFill, kFetch, kPoll: the key being filled
    Duration timeout{0};
  };
  // A read waiting for a key to be filled.
  struct Waiter {
    enum class Kind { kTablet, kPeerFetch, kPeerPoll } kind;
    std::string to;
    uint64_t req = 0;
    uint64_t min_version = 0;    // tablet: answer with at least this version
    uint64_t known_version = 0;  // poll: the version the peer has
  };

  // frontend_core.cpp: dispatch, mastership, updates.
  void on_client_request(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_update(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_reply(Message& msg, TimePoint now, Effects& out);
  void on_update_acked(Pending& p, Message& msg, TimePoint now, Effects& out);
  void on_heartbeat(const Heartbeat& hb, TimePoint now, Effects& out);
  void on_master_info(const MasterInfo& info, TimePoint now, Effects& out);
  uint64_t ask(const std::string& to, Body body, Pending p, Effects& out);
  void adopt_master(const std::string& master, uint64_t epoch, TimePoint now, Effects& out);
  void on_role_change(Effects& out);
  void expire_pending(TimePoint now, Effects& out);
  Error not_master_error() const;
  bool is_home_master() const { return cfg_.frontends.front().id == id_; }
  // A database read for the cache: a quarter of database.request_timeout_ms, so that one lost
  // answer (every reader of the key waits on the same fill) is retried within a tablet's timeout.
  Duration fill_timeout() const { return ms(std::max(1, cfg_.database.request_timeout_ms / 4)); }
  bool push() const { return cfg_.consistency == Consistency::kPush; }
  const FrontendInfo* info_of(const std::string& id) const;
  void recompute_wake();

  // membership.cpp: failure detection, takeover, master lease, serving set, handoff.
  void tick_membership(TimePoint now, Effects& out);
  void send_heartbeats(TimePoint now, Effects& out);
  void on_peer_heard(const std::string& peer, uint64_t incarnation, TimePoint now);
  void maybe_claim(TimePoint now, Effects& out);
  void claim(TimePoint now, Effects& out);
  void on_claim_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void on_renew_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void on_fenced(const Error& e, TimePoint now, Effects& out);
  std::vector<std::string> serving_set() const;
  void publish_serving(TimePoint now, Effects& out);
  void tick_handoff(TimePoint now, Effects& out);
  void on_hand_over(const HandOver& h, TimePoint now, Effects& out);
  void abandon_handoff(TimePoint now, Effects& out);
  bool master_silent(TimePoint now) const;
  void confirmed(const std::string& peer, uint64_t epoch, TimePoint now, Effects& out);

  // read_path.cpp: the cache, fills, push and pull.
  void serve(const std::string& key, Waiter w, TimePoint now, Effects& out);
  bool usable(const std::string& key, const CacheEntry& e, TimePoint now) const;
  void update_done(const Pending& p, TimePoint now, Effects& out, bool answered);
  void start_fill(const std::string& key, TimePoint now, Effects& out);
  void finish_fill(const std::string& key, const KeyValue& kv, bool cacheable, TimePoint now, Effects& out);
  void fill_failed(const std::string& key, TimePoint now, Effects& out);
  void on_poll_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void answer(const Waiter& w, const KeyValue& kv, const CacheEntry* e, TimePoint now, Effects& out);
  void maybe_refresh_ahead(const std::string& key, CacheEntry& e, TimePoint now, Effects& out);
  void on_invalidate(const std::string& from, const Message& msg, Effects& out);
  void on_lease_request(const std::string& from, const Message& msg, TimePoint now, Effects& out);
  void send_held(std::vector<HeldReply> held, TimePoint now, Effects& out);
  void tick_consistency(TimePoint now, Effects& out);
  void flush_cache(const char* why);

  const Config cfg_;
  const std::string id_;
  std::vector<FrontendInfo> frontends_;
  std::set<std::string> events_;

  std::string master_;      // who we believe is master ("" = unknown)
  uint64_t epoch_ = 0;      // its epoch
  bool claimed_ = false;    // we claimed epoch_ ourselves and the database agreed
  bool claim_in_flight_ = false;

  uint64_t next_req_;
  std::map<uint64_t, Pending> pending_;
  std::set<std::pair<TimePoint, uint64_t>> deadlines_;  // (sent_at + timeout, req) of pending_

  Cache cache_;
  TtrPolicy ttr_;
  PushDirectory directory_;                        // when master in push mode
  TimePoint lease_until_{};                        // when peer in push mode
  // Push: a new master acknowledges nothing before any lease an earlier master could have
  // granted has run out (claim time + lease duration); replies due earlier wait here.
  TimePoint acks_from_{};
  std::vector<HeldReply> settling_;
  std::map<std::string, uint64_t> invalidated_;    // key -> highest version invalidated
  std::map<std::string, std::vector<Waiter>> waiters_;
  std::set<std::string> filling_;                  // keys with a fill in flight
  std::map<std::string, std::multiset<TimePoint>> updating_;  // master: key -> send times of updates in flight

  // Membership (membership.cpp).
  const uint64_t incarnation_;                     // sent in heartbeats; new at every start
  FailureDetector detector_;
  struct PeerView {                                // what a peer's last heartbeat said
    uint64_t epoch = 0;
    bool database_ok = true;
  };
  std::map<std::string, PeerView> peer_view_;
  std::set<std::string> rejoining_;                // peers that must settle before serving again
  TimePoint started_at_{};
  TimePoint master_lease_until_{};                 // master: serve the cache only before this
  TimePoint next_claim_{};                         // earliest next claim attempt
  std::string claim_prev_master_;                  // the master our claim in flight replaces
  uint64_t claim_epoch_ = 0;                       // the epoch it asks for
  std::set<std::string> to_confirm_;               // new push master: peers yet to confirm our epoch
  std::vector<std::string> serving_;               // master: front ends serving tablets, as published
  uint64_t serving_seq_ = 0;
  TimePoint next_serving_{};
  enum class Handoff { kNone, kDraining, kReleasing, kHandedOver } handoff_ = Handoff::kNone;
  TimePoint handoff_deadline_{};
  TimePoint next_handoff_{};                       // after a failed handoff, not before this
  TimePoint handoff_target_up_{};                  // the home master's up_since when it began
  bool master_disowned_ = false;                   // the master's own heartbeat names no master
  bool database_failing_ = false;                  // a request to the database timed out, none answered since
  TimePoint last_database_reply_{};
  bool db_known_ = false;                          // the database told us its master row once
  struct HeldUpdate { std::string from; Message msg; };
  std::vector<HeldUpdate> held_updates_;           // updates received while handing off

  std::map<std::string, TimePoint> tablets_seen_;  // tablet -> last read, for "tablets served"
  TimePoint next_heartbeat_{};
  TimePoint next_master_poll_{};
  TimePoint next_prune_{};
  TimePoint next_wake_{};
  bool started_ = false;
  Counters counters_;
};

}  // namespace oly
