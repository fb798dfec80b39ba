// FrontendCore: the deterministic logic of one front end ("stone server").
//
// The path of an update (update_path.cpp): Cacofonix sends set_score / increment_medal_tally to
// the master; the master checks the publisher's token, stamps its fencing epoch on the update
// and sends it to the database through its DatabaseClient. The database's Ack (durable, with the
// key's new value) is written through to the master's cache; the consistency protocol then says
// whether the ack must wait (push: until every peer caching the key dropped it or lost its
// lease), and the ack goes into the HoldQueue, whose one release path relays it to Cacofonix
// when nothing holds it back. A front end that is not master answers not_master with the
// master's address; one that the database fences demotes itself and does the same.
//
// Byzantine mode (config.byzantine; docs/byzantine.md): any front end takes Cacofonix's signed
// update (roles aside, once started) and commands OM(1) for it (agreement.h); every front end
// submits each update it decided to the database like a forwarded one (the commander's with
// Cacofonix's request to answer), and publishes the database's ack on topic "publisher" as its
// vouch. Reads are all the database's: the cache is never used (a master's fills and
// invalidations may be a traitor's).
//
// The path of a read (read_path.cpp): a tablet's get_score / get_medal_tally is answered from
// the cache when the cached value is usable, otherwise it waits for a fill:
//   - master: its cache is written through, so it is usable under its master lease (and while
//     no update of the key has been in flight for long, and none's answer was lost); misses read
//     the database. Each new version it takes goes to the protocol (pull: its log of changes,
//     whose hints ride on its answers to peers).
//   - peer: usable by the consistency protocol's rules (consistency.h: push, a read lease and
//     invalidations; pull, a time to refresh and polls, each poll's hints confirming the other
//     keys); a miss is filled through the master, or from the database while the master is silent.
// A tablet's min_version is honoured: a cached value older than it counts as a miss.
// The tablets' TCP port asks answer_cached_read first, as it reads each frame: a hit is answered
// there, with what the path above gives it, and never becomes a message; anything else takes it.
//
// Roles (role.h; mastership.cpp). The front end plays one role at a time, each with its own step
// function for the ops only some roles serve, in the style of etcd raft's Step:
//   starting -> peer            the database said who is master (get_master)
//   peer -> claiming            the master is suspected, says it is master no more, or is
//                               unknown, and this is the first living front end in config order;
//                               or the database names this front end (an earlier incarnation);
//                               or the acting master handed mastership over
//   claiming -> master | peer   the database's compare-and-set on epoch + 1 succeeded or not
//                               (lease_held: retried when the old master's lease runs out)
//   master -> handing_over      the home master (first in config) is back, settled, follows this
//                               master's epoch and reaches the database
//   handing_over -> master      the handoff failed (timeout, target suspected or restarted)
//   master | handing_over -> peer   a higher epoch is seen, the database fences us, or our
//                               master lease lapsed for a whole database timeout (step down)
// The database arbitrates: a front end becomes master only by claiming epoch + 1 there, every
// write carries the writer's epoch, and the master renews a master lease at the database every
// heartbeat interval; it serves its write-through cache only while that lease runs (counted from
// its send time, so it ends here before it ends at the database).
//   - Detection (Membership): every front end heartbeats every peer each heartbeat.interval_ms;
//     any message counts; a peer is suspected after heartbeat.timeout_ms of silence.
//   - Takeover: the new master publishes master_changed (Cacofonix resends what is
//     unacknowledged; the database deduplicates). Push: a master that replaced an earlier
//     incarnation of itself acknowledges nothing until every other peer has confirmed the new
//     epoch in a heartbeat or a heartbeat timeout passed.
//   - Tablets: the master publishes `serving` (the front ends that serve now) on every change and
//     every second; tablets read from their home while it is listed, else from a hash-spread one.
//     A front end that rejoins is listed again only after heartbeat.settle_ms.
//   - Handoff: the acting master holds new updates, waits until every update it started is
//     acknowledged, releases its lease at the database and sends hand_over; the home master
//     claims the next epoch. Held updates are then answered not_master naming the new master.
//
// Thread-safety: none (a Core is driven by one Node).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <string>

#include "common/config.h"
#include "common/node.h"
#include "common/text_hash.h"
#include "dbclient/database_client.h"
#include "frontend/agreement.h"
#include "frontend/cache.h"
#include "frontend/consistency.h"
#include "frontend/hold_queue.h"
#include "frontend/membership.h"
#include "frontend/role.h"
#include "frontend/timers.h"
#include "metrics/histogram.h"

namespace oly {

class FrontendCore final : public Core {
 public:
  // REQUIRES: cfg.frontend(id) != nullptr. `req_base` seeds the ids of requests this front end
  // sends (pick a different one per incarnation so that late replies to an earlier incarnation
  // are not mistaken for answers).
  FrontendCore(const Config& cfg, std::string id, uint64_t req_base);

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  // A database replica's connection closed: its requests go elsewhere at once (DatabaseClient).
  void on_peer_lost(const std::string& peer, TimePoint now, Effects& out) override;
  TimePoint next_wake() const override { return next_wake_; }
  Counters& counters() override { return counters_; }
  std::string_view role_name() const override { return to_string(role_); }

  // A tablet's read answered on the spot, for a transport that can (the native TCP port,
  // tabletnet/server.h: a cache hit then allocates nothing and builds no message). `frame` is a
  // request's bytes; when it is a plain get_score or get_medal_tally (codec_reads.h) that the
  // cache answers now (a known name, an entry usable now and new enough, no poll ahead due),
  // appends the answer's bytes to `reply` and returns true: the same bytes, counters and cache
  // bookkeeping as on_message() and its effects give for that frame. Otherwise returns false
  // having changed nothing; the frame then takes the normal path (on_message), which answers it
  // or says what is wrong.
  bool answer_cached_read(std::string_view frame, TimePoint now, std::string& reply);

  // Byzantine mode (config.byzantine): the publisher's public signing key, which every update
  // must carry a valid signature of (until set, no update is taken).
  void set_publisher_key(std::string key);
  // Byzantine mode: tells `o` of every agreement decision this front end takes (agreement.h).
  void observe_agreement(Agreement::Observer o) {
    if (agreement_) agreement_->observe(std::move(o));
  }

  Role role() const { return role_; }
  bool is_master() const { return role_ == Role::kMaster || role_ == Role::kHandingOver; }
  // Whether the master may serve from its cache at `now` (its master lease runs).
  bool holds_master_lease(TimePoint now) const { return is_master() && now < master_lease_until_; }
  // The front ends that serve tablets, as the master last published them (master only).
  const std::vector<std::string>& serving() const { return serving_; }
  const FailureDetector& detector() const { return members_.detector(); }
  const std::string& master() const { return master_; }
  // The database tier as this front end knows it (its replicas, the clock seen in gossip mode).
  const DatabaseClient& database() const { return database_; }
  uint64_t epoch() const { return epoch_; }
  const std::string& id() const { return id_; }
  // What `stats` answers.
  Stats stats(TimePoint now) const;
  // Latencies by the core's clock, for /metrics: a read (a tablet's or the HTTP API's) from its
  // arrival to its answer (0 for a cache hit); a fill (from the master or the database) from its
  // request to its answer; an update from its arrival at the master to its ack going out.
  struct Latencies {
    metrics::Histogram reads, fills, acks;
  };
  const Latencies& latencies() const { return latencies_; }
  // Tells `o` of every newer version this front end's cache learns (Cache::observe): a fill, a
  // write-through, a poll's answer or hint, or (without the value) an invalidation.
  void observe_cache(Cache::Observer o) { cache_.observe(std::move(o)); }
  // The cached version of `key` (0 when not cached), for invariant checks.
  uint64_t cached_version(const std::string& key) { auto* e = cache_.peek(key); return e ? e->value.version : 0; }

 private:
  // A request we sent (to the database, or to the master) and what it serves.
  struct Pending {
    enum class Kind {
      kRead, kRegister, kUpdate, kGetMaster, kClaim, kRenew, kRelease, kFill, kFetch, kPoll, kLease, kMembers, kSettle,
      kBoard  // gossip mode: a tablet's get_scoreboard asked of the master (read_board)
    } kind;
    std::string client;      // endpoint to answer ("" for our own requests)
    uint64_t client_req = 0;
    TimePoint sent_at;
    std::string key;         // kUpdate, kFill, kFetch, kPoll: the key
    Duration timeout{0};     // 0: database.request_timeout_ms
    uint64_t min_version = 0;  // kRead of one key: the version the client asked for at least
    std::string asked = {};    // set by ask(): the endpoint asked; "" for the database tier (any node)
    bool unvouched = false;    // kRead of the board, or kFill, after the master gave none: served partial
  };
  // A read waiting for a key to be filled.
  struct Waiter {
    enum class Kind { kTablet, kPeerFetch, kPeerPoll } kind;
    std::string to;
    uint64_t req = 0;
    uint64_t min_version = 0;    // tablet: answer with at least this version
    uint64_t known_version = 0;  // poll: the version the peer has
    std::optional<Cursor> since;  // fetch or poll with hints: the peer's place in our changes
    TimePoint arrived;            // when the request came (for latencies_)
  };
  // The ops only some roles serve; each returns false for an op it leaves to the common path.
  // A database read relayed to a client (Pending::Kind::kRead): `answer`, or an error when it is
  // older than the client's min_version.
  Body read_answer(const Pending& p, Body answer);
  using Step = bool (FrontendCore::*)(const std::string& from, Message& msg, TimePoint now, Effects& out);
  enum class Timer { kHeartbeat, kMasterPoll, kPrune, kClaimRetry, kServing, kHandoffDeadline, kDatabaseMembers, kCount };
  enum class Handoff { kDraining, kReleasing, kHandedOver };

  // frontend_core.cpp: dispatch, the requests every role serves, requests we send.
  bool step_follower(const std::string& from, Message& msg, TimePoint now, Effects& out);
  bool step_master(const std::string& from, Message& msg, TimePoint now, Effects& out);
  bool step_handing_over(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_request(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_reply(Message& msg, TimePoint now, Effects& out);
  uint64_t ask(const std::string& to, Body body, Pending p, Effects& out);
  uint64_t ask_database(Body body, Pending p, Effects& out);
  // Whether an answer to `p` from `from` counts: it must come from the endpoint asked (for the
  // database tier, one of its nodes).
  bool from_asked(const std::string& from, const Pending& p) const;
  void expire_pending(TimePoint now, Effects& out);
  void recompute_wake(TimePoint now);
  Error not_master_error() const;
  // True when `key` (of a peer's fetch or poll) is a Key's text; otherwise answers bad_value.
  bool valid_key(const std::string& from, uint64_t req, std::string_view op, const std::string& key, Effects& out);
  RoleView view() const {
    return {id_, is_master(), master_, epoch_, master_lease_until_, database_.gossip() ? &database_.clock() : nullptr};
  }
  // A tablet's get_scoreboard: from the database, with this front end's clock; in gossip mode a
  // peer asks the master instead, whose clock covers every update it acknowledged (the push
  // guarantee). With the master silent, the database (as a fill during a failover); when the
  // master was asked and gave no board in a fill's time, the database too, but the board is then
  // served `partial` (this front end cannot vouch for it). A front end that is not master answers
  // a peer's board read not_master.
  void read_board(const std::string& client, uint64_t client_req, TimePoint now, Effects& out);
  void read_board_alone(const Pending& asked_master, TimePoint now, Effects& out);
  // A database read for the cache: a quarter of database.request_timeout_ms, so that one lost
  // answer (every reader of the key waits on the same fill) is retried within a tablet's timeout.
  Duration fill_timeout() const { return ms(std::max(1, cfg_.database.request_timeout_ms / 4)); }
  const FrontendInfo* info_of(const std::string& id) const;

  // update_path.cpp: forwarding updates, their acks, the hold queue's one release path.
  bool check_token(const std::string& from, const Message& msg, Effects& out);
  void forward_update(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_update_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void update_done(const Pending& p, TimePoint now, Effects& out, bool answered);
  void release(TimePoint now, Effects& out);
  void drain_held(Effects& out);
  // Byzantine mode (agreement.h): Cacofonix's update, which this front end commands; the
  // decisions the agreement took, each submitted to the database (the commander's own with the
  // publisher's request to answer).
  void command_update(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void submit_decisions(const std::string& client, uint64_t client_req, TimePoint now, Effects& out);
  // A publisher's request answered, unless there is none ("": a lieutenant's submission).
  static void answer_client(const Pending& p, Body body, Effects& out);

  // mastership.cpp: roles and their transitions, heartbeats, claims, the master lease, the
  // serving set, the ordered handoff.
  void become_peer();
  void become_claiming(TimePoint now, Effects& out);
  void become_master(TimePoint claim_sent, uint64_t epoch, TimePoint now, Effects& out);
  void become_handing_over(TimePoint target_up, TimePoint now);
  void adopt_master(const std::string& master, uint64_t epoch, TimePoint now, Effects& out);
  void on_heartbeat(const Heartbeat& hb, TimePoint now, Effects& out);
  void send_heartbeats(TimePoint now, Effects& out);
  void tick_membership(TimePoint now, Effects& out);
  void maybe_claim(TimePoint now, Effects& out);
  void on_claim_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void on_master_info(const MasterInfo& info, TimePoint now, Effects& out);
  void on_renew_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void on_release_answer(Message& msg, TimePoint now, Effects& out);
  void on_fenced(const Error& e, TimePoint now, Effects& out);
  void step_down(TimePoint now, Effects& out);
  void confirmed(const std::string& peer, uint64_t epoch, TimePoint now, Effects& out);
  void publish_serving(TimePoint now, Effects& out);
  void tick_master(TimePoint now, Effects& out);
  void tick_handoff(TimePoint now, Effects& out);
  void abandon_handoff(TimePoint now, Effects& out);
  void on_hand_over(const HandOver& h, TimePoint now, Effects& out);
  bool master_silent(TimePoint now) const;

  // read_path.cpp: the cache and its fills.
  void serve(const std::string& key, Waiter w, TimePoint now, Effects& out);
  bool usable(const std::string& key, const CacheEntry& e, TimePoint now) const;
  void start_fill(const std::string& key, TimePoint now, Effects& out);
  // `unvouched`: a peer in gossip mode filling after the master gave no value (fill_failed); the
  // value is served partial, never cached (docs/gossip.md "Reads").
  void fill_from_database(const std::string& key, TimePoint now, Effects& out, bool unvouched = false);
  void finish_fill(const std::string& key, const KeyValue& kv, bool cached, TimePoint now, Effects& out);
  // `failed`: the fill (kFill, kFetch or kPoll) that gave no value. After a fetch or poll of the
  // master, or an unvouched database read, a peer's database read is unvouched in gossip mode.
  void fill_failed(const Pending& failed, TimePoint now, Effects& out);
  // Master, for a key whose update's answer was lost (uncertain_): a database read that the
  // database orders after that key's writes in flight, so that its answer shows what the update
  // did (none when one is in flight already); and its answer, which settles the key (or,
  // started before a later loss, asks again).
  void settle(const std::string& key, TimePoint now, Effects& out);
  void on_settle_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void on_fill_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  void take_fill_answer(const Pending& p, Message& msg, TimePoint now, Effects& out);
  CacheEntry& put_cached(const KeyValue& kv, TimePoint at, Duration ttr);
  std::optional<Changes> changes_for(const Waiter& w, const KeyValue& kv, TimePoint now);
  void answer(const Waiter& w, const KeyValue& kv, CacheEntry* e, TimePoint now, Effects& out);
  void maybe_refresh_ahead(const std::string& key, CacheEntry& e, TimePoint now, Effects& out);
  // Whether a read of `e` now makes a pull-mode peer poll `key` ahead of its expiry (the read
  // already counted in e's read rate).
  bool refresh_ahead_due(const std::string& key, const CacheEntry& e, TimePoint now) const;
  // A tablet's read: counted, and its tablet (if named) seen now.
  void note_read(std::optional<std::string_view> tablet, TimePoint now);
  // The encoded value a hit answers with (kept with the entry, made at its first hit).
  static const std::string& reply_value(CacheEntry& e);

  const Config cfg_;
  const std::string id_;
  std::vector<FrontendInfo> frontends_;
  // The events and the teams, each with its key's text ("score/<event>", "tally/<team>"): a read
  // checks its name and finds its key in one lookup, building no string.
  std::unordered_map<std::string, std::string, TextHash, std::equal_to<>> event_keys_;
  std::unordered_map<std::string, std::string, TextHash, std::equal_to<>> team_keys_;
  Counters counters_;
  // The counters every read moves, looked up once (a std::map's elements stay put): four string
  // lookups per read cost about as much as the rest of a cache hit.
  int64_t& requests_ = counters_["requests"];
  int64_t& reads_ = counters_["reads"];
  int64_t& cache_hits_ = counters_["cache_hits"];
  int64_t& cache_misses_ = counters_["cache_misses"];
  Latencies latencies_;

  // The role, and what the whole cluster agrees on.
  Role role_ = Role::kStarting;
  Step step_ = &FrontendCore::step_follower;
  std::string master_;  // who we believe is master ("" = unknown)
  uint64_t epoch_ = 0;  // its epoch

  // Requests we sent, by id, and their deadlines.
  uint64_t next_req_;
  std::map<uint64_t, Pending> pending_;
  std::set<std::pair<TimePoint, uint64_t>> deadlines_;  // (sent_at + timeout, req) of pending_
  DatabaseClient database_;

  // The cache and its consistency.
  Cache cache_;
  std::unique_ptr<ConsistencyProtocol> consistency_;
  std::map<std::string, std::vector<Waiter>> waiters_;
  std::set<std::string> filling_;                             // keys with a fill in flight
  std::map<std::string, std::multiset<TimePoint>> updating_;  // master: key -> send times of updates in flight
  // Master: key -> when an update's answer was lost (it may have changed the key unseen), until a
  // settling read started after that comes back; the keys with a settling read in flight.
  std::map<std::string, TimePoint> uncertain_;
  std::set<std::string> settling_;
  HoldQueue held_;                                            // master: acks and updates held back
  uint64_t next_hold_ = 0;

  // Membership, and what each role owns.
  const uint64_t incarnation_;        // sent in heartbeats; new at every start
  Membership members_;
  bool master_disowned_ = false;      // peer: the master's own heartbeat names no master
  std::string claim_prev_master_;     // claiming: the master our claim replaces
  uint64_t claim_epoch_ = 0;          // claiming: the epoch it asks for
  TimePoint master_lease_until_{};    // master: serve the cache only before this
  TimePoint acks_from_{};             // master (push): no ack goes out before this ...
  std::set<std::string> to_confirm_;  // ... unless every peer here confirmed our epoch first
  std::vector<std::string> serving_;  // master: front ends serving tablets, as published
  uint64_t serving_seq_ = 0;
  Handoff handoff_ = Handoff::kDraining;  // handing over: how far
  TimePoint handoff_target_up_{};         // handing over: the home master's up_since when it began
  TimePoint next_handoff_{};              // master: after a failed handoff, not before this

  std::unordered_map<std::string, TimePoint, TextHash, std::equal_to<>> tablets_seen_;  // tablet -> last read, for "tablets served"
  Timers<Timer> timers_;
  TimePoint next_wake_{};
  std::unique_ptr<Agreement> agreement_;  // Byzantine mode only
};

}  // namespace oly
