// GossipReplicaCore: one replica of the database tier in the lazy (gossip) replication mode
// (config `replication: gossip`; docs/gossip.md), the Core a Node drives instead of ReplicaCore.
//
// Any replica takes any request and answers it from its own SQLite file, without asking another:
//   - An update (set_score, increment_medal_tally) is checked as everywhere (database/requests.h),
//     then fenced here only when its epoch is below the master epoch this replica knows (a higher
//     one is a claim made at another replica: the sender is master at that epoch). It is applied
//     when it is its publisher's next seq here, and becomes an entry of the update log
//     (update_log.h), in the same transaction as its effect. The ack, sent once that transaction
//     committed (durable on this replica's disk), carries the key's new version and value as in
//     raft mode, and this replica's clock. A seq beyond the publisher's next waits (parked) for
//     the updates before it to arrive by gossip, for at most four gossip intervals, then is
//     answered seq_gap (the front end then sends those it kept: dbclient/database_client.h);
//     a seq already applied gets its stored result (duplicate), as in raft mode.
//   - Gossip: every gossip_interval_ms the replica sends each other replica a Gossip notice with
//     its clock and the entries that replica lacks by the clock it last reported (at most
//     kGossipBatch); at once after a step that took entries, those it has not sent it yet. Entries received are taken in each
//     origin's order, made durable, and applied in each publisher's seq order: every replica's
//     state is a prefix of each publisher's stream, the same at the same version of a key.
//   - A read (get_score, get_medal_tally, get_scoreboard) with a `clock` waits until this
//     replica's applied clock covers it, so a front end never reads older than what it has seen;
//     when every replica whose entries are missing is silent (no gossip for heartbeat.timeout_ms)
//     or kReadWait passed, it is answered with what this replica has, `partial: true`. Replies
//     carry the applied clock.
//   - Mastership and the registry (claim_master, renew_master, get_master, assign_home,
//     list_registry) are answered as the single database does, from this replica's rows and its
//     own lease in memory. Front ends send them to the first replica they believe alive, in
//     config order (dbclient/database_client.h), so they meet at one arbiter while they agree on
//     which replicas are alive. The master row spreads by gossip (a higher epoch wins; at equal
//     epochs, the front end earlier in the config); a tablet's home spreads to replicas that know
//     none. Two masters at once (front ends that disagree on who is alive) cannot harm the data:
//     every update has a unique id and is applied once, in its publisher's order.
//   - get_feed: the play-by-play (message.h GetFeed), from the last kFeedKeep updates applied
//     here, kept in the file. Each is shown with the least-ranked entry of the log that carried
//     it (one update may come from two origins), so the feed is the same on every replica that
//     applied the same updates.
//   - get_members lists the tier's members (index: how many); the key-value store is not served
//     in this mode (kv_get, kv_set: unexpected_op).
//
// Membership: the config's replicas, then those that joined at run time (by id), the same list
// on every replica once gossip has spread it. A new replica joins through any member (the seed):
// it asks for the seed's state (FetchState, in parts of kStatePart bytes), and the seed makes it
// a member (durably, before answering) and takes a copy of everything it holds: rows, log,
// clock, feed and members (SqliteStore::gossip_dump). From then on the seed keeps, for the
// joiner, every log entry past the copy's clock until the joiner's clock covers it, so the
// joiner misses nothing that other replicas collect before they learn of it. The joiner replaces
// its file's contents with the copy, is a member from then on (a restart finds it so), and
// gossips like any other. Every Gossip notice carries the sender's member list; a replica adds
// the members it did not know, and connects to them. While it joins, a replica answers every
// request `unavailable`. A member is removed for good by remove_replica at any other member (an
// operator's: olympics db remove): the member list keeps it as a tombstone (role "removed") that
// gossip spreads and that wins over the member; no one gossips with it any more, collection no
// longer waits for it, its name cannot join again, and a removed replica that hears of it serves
// nothing. What it alone held is lost with it (front ends keep what it alone acknowledged).
//
// Garbage collection: an applied entry is dropped, from memory and disk, once every replica's
// last reported clock covers it; a replica that has said nothing since this one started holds
// collection back.
//
// Durability: one SQLite transaction per Node step (group commit) holds the effects of the
// updates applied and the log entries taken; replies are sent and gossip goes out only after it
// committed. A restart loads the log and clock from the file (SqliteStore::gossip_*).
//
// Thread-safety: none; driven by one Node.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/node.h"
#include "database/command.h"
#include "database/requests.h"
#include "database/sqlite_store.h"
#include "database/state_machine.h"
#include "gossip/update_log.h"

namespace oly::gossip {

class GossipReplicaCore final : public Core {
 public:
  static constexpr size_t kGossipBatch = 512;     // entries per Gossip notice at most
  static constexpr Duration kReadWait = ms(250);  // a read for a clock not reached, at most
  static constexpr uint64_t kHomesEvery = 50;     // periodic rounds between two carrying the registry
  static constexpr size_t kFeedKeep = 1000;       // the feed's updates, the latest
  static constexpr size_t kMaxMembers = 7;        // replicas in a gossip tier, at most
  static constexpr size_t kStatePart = 256 * 1024;  // bytes of a state copy per StatePart
  static constexpr Duration kFetchPatience = ms(500);    // a joiner asks again after this long
  static constexpr Duration kCopyKept = ms(60000);       // a state copy no part was asked of is dropped
  static constexpr const char* kMember = "gossip";       // ReplicaInfo.role of a member
  static constexpr const char* kRemoved = "removed";     // ... and of a member removed (a tombstone)

  // How a replica that is not a member yet joins: this replica's address, and the member it asks
  // (its endpoint name and address).
  struct Join {
    std::string address;
    std::string seed;
    std::string seed_address;
  };

  // Replica `id` over `store` (its file, log and clock loaded from it). `clock` stamps scores'
  // updated_at. `id` is one of config.database.replicas, or a member that joined before (the
  // file says so), or neither and `join` says how to join. Throws std::runtime_error when it is
  // none of these.
  GossipReplicaCore(Config config, std::string id, database::SqliteStore& store, const Clock& clock, TimePoint now,
                    std::optional<Join> join = std::nullopt);

  // Called with each update this replica applies (accepted here or learnt by gossip) and what
  // applying it decided.
  using ApplyListener = std::function<void(const database::Command&, const database::Result&)>;
  void on_apply(ApplyListener listener) { apply_listener_ = std::move(listener); }

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  TimePoint next_wake() const override;
  void on_batch_end(TimePoint now, Effects& out) override;
  Counters& counters() override { return counters_; }
  std::string_view role_name() const override { return "gossip"; }

  // Tests and scenarios (OLY_DEBUG_GOSSIP_CUT, database/main.cpp): no gossip to or from
  // `replica` in [from, until); `replica` == id() cuts this replica off from every other.
  void cut(const std::string& replica, TimePoint from, TimePoint until) { cuts_.push_back({replica, from, until}); }
  // Tests: the bytes of a state copy per StatePart (kStatePart by default).
  void set_state_part(size_t bytes) { state_part_ = bytes; }

  const std::string& id() const { return id_; }
  // Whether this replica is still joining (its state not in yet), and why joining failed (the
  // seed refused: the process should stop and say so), if it did.
  bool joining() const { return join_.has_value(); }
  const std::optional<std::string>& join_failed() const { return join_failed_; }
  // The members, removed ones included (role kRemoved).
  const std::vector<ReplicaInfo>& members() const { return members_; }
  bool removed() const { return removed_self_; }
  const UpdateLog& log() const { return log_; }
  // A feed item's place: (at, origin, origin_seq).
  using FeedRank = std::tuple<uint64_t, std::string, uint64_t>;
  VectorClock applied_clock() const { return log_.applied_clock(); }

 private:
  // A request answered later: an update past its publisher's gap, or a read for a clock this
  // replica has not reached.
  struct Parked {
    std::string from;
    uint64_t req = 0;
    Body request;
    TimePoint since;
  };

  // A request: its answer, or nullopt when it is parked (an update past a gap, a read for a clock
  // not reached).
  std::optional<Body> handle(const std::string& from, const Body& body, TimePoint now);
  // An update: applied now (its ack), refused, or parked (nullopt).
  std::optional<Body> update(const std::string& from, database::Command command, TimePoint now);
  // A read with a clock: answered now, or parked (nullopt). `force`: answer whatever is missing.
  std::optional<Body> read(const Body& request, TimePoint now, bool force);
  void receive(const std::string& from, Gossip g, TimePoint now);
  // Applies an update to the state, under the rule for concurrent set_scores of one event
  // (docs/gossip.md, "Concurrent writers"): a set_score written before the one the score holds
  // (by ScoreWriter's order) counts, as the publisher's seq and the key's version, but leaves the
  // score as it is. Returns the result and the command as it was applied (the state machine's
  // record of it, the apply listener's).
  std::pair<database::Result, database::Command> apply(const database::Command& command);
  // Applies every entry that may be applied now (the caller's own first, already applied, aside).
  void apply_ready(const std::optional<UpdateId>& skip = std::nullopt);
  void persist(const LogEntry& e);
  // The feed: update `e` was applied with `result`, or (no result) an entry of an update applied
  // before reached the log, which shows it when it ranks lower.
  void note_feed(const LogEntry& e, const database::Command& command, const database::Result& result);
  void note_duplicate(const LogEntry& e);
  void keep_feed(const FeedItem& item);
  Body feed(const GetFeed& m) const;
  // Answers the parked requests that can be answered now (or must: waited long enough).
  void retry_parked(TimePoint now);
  // `eager`: after a step that took entries, only those not sent to `peer` yet; else (a round)
  // everything its last reported clock lacks.
  void send_gossip(const std::string& peer, TimePoint now, bool eager, Effects& out);
  void collect();
  void begin();
  // Reads this replica's log, clock, feed and members from the file (at start, and once a
  // joiner's state copy is in).
  void load(TimePoint now);
  // Adds `m` to the members (durably) unless known, and connects to it when `connect`; false
  // when known or not acceptable.
  bool add_member(const ReplicaInfo& m, TimePoint now, bool connect = true);
  // Member `id` leaves the tier for good (durably): no gossip to or from it, and collection no
  // longer waits for it. This replica itself: it serves nothing from then on.
  void mark_removed(const std::string& id);
  // Member `id` (removed ones too), or nullptr.
  ReplicaInfo* member(const std::string& id);
  size_t live_members() const;
  Members members_reply() const;
  void connect_to(const ReplicaInfo& m);
  void flush_connects(Effects& out);
  // A seed's answer to a joiner.
  Body fetch_state(const FetchState& m, TimePoint now);
  // A joiner: its answer from the seed, and asking for the next part.
  void on_state(const Message& msg, TimePoint now);
  void ask_state(TimePoint now, Effects& out);
  bool silent(const std::string& replica, TimePoint now) const;
  bool is_cut(const std::string& peer, TimePoint now) const;

  Config config_;
  std::string id_;
  database::SqliteStore& store_;
  const Clock& clock_;
  database::StateMachine machine_;
  UpdateLog log_;
  Counters counters_;
  database::MasterLease lease_;
  std::vector<ReplicaInfo> members_;  // the config's replicas in order, then those that joined by id
  std::vector<std::string> peers_;    // the members but this one
  std::vector<std::pair<std::string, std::string>> connects_;  // members to connect to, next batch
  std::set<std::string> connected_;  // the members that joined which this replica connected to
  struct Copy {
    std::string data;
    TimePoint asked;
  };
  std::map<std::string, Copy> copies_;  // a seed: the state copies joiners are fetching
  std::optional<Join> join_;            // a joiner, until its state is in
  std::optional<std::string> join_failed_;
  std::string fetched_;                 // a joiner: the state copy's bytes so far
  uint64_t fetch_req_ = 0;              // a joiner: its request in flight (0: none)
  uint64_t fetches_ = 0;                // a joiner: requests sent
  TimePoint fetch_at_{};                // a joiner: when it was sent
  size_t state_part_ = kStatePart;
  bool removed_self_ = false;           // this replica was removed from the tier
  bool announce_ = false;               // a joiner whose state is in: gossip to all after the commit
  std::map<std::string, VectorClock> peer_clocks_;  // as each peer last reported its clock
  std::map<std::string, VectorClock> peer_sent_;    // what was sent to each peer (it may not have it)
  std::map<std::string, TimePoint> heard_;          // when each peer last gossiped
  std::set<std::string> heard_from_;                // the peers that gossiped since this replica started
  TimePoint started_;
  std::vector<Parked> parked_;
  Effects held_;                   // replies of this step, sent once it committed
  bool in_transaction_ = false;
  // Origins whose clock entry this step moved: written at its end, when gossip goes out at once.
  std::set<std::string> clock_moved_;
  bool homes_changed_ = true;      // the registry changed since the last gossip carried it
  TimePoint next_gossip_{};
  uint64_t rounds_ = 0;
  Duration park_for_;  // an update past a gap waits this long at most: four gossip intervals
  ApplyListener apply_listener_;
  struct Cut {
    std::string replica;
    TimePoint from, until;
  };
  std::vector<Cut> cuts_;
  std::map<FeedRank, FeedItem> feed_;     // in feed order, the latest kFeedKeep
  std::map<UpdateId, FeedRank> feed_ids_;  // where each of them is
  size_t feed_puts_ = 0;
  // How long after its acceptance (at its origin) each update learnt by gossip was applied here,
  // in µs: the last kConvergenceKept (stats: convergence_p50_us, convergence_p99_us). Origins'
  // monotonic clocks are one on one machine; across machines they are not comparable.
  static constexpr size_t kConvergenceKept = 8192;
  std::vector<int64_t> convergence_us_;
  size_t convergence_next_ = 0;
  TimePoint now_{};
};

}  // namespace oly::gossip
