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
//   - get_members lists the config's replicas; the key-value store is not served in this mode
//     (kv_get, kv_set: unexpected_op).
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

  // Replica `id` of config.database.replicas over `store` (its file, log and clock loaded from
  // it). `clock` stamps scores' updated_at. Throws std::runtime_error when `id` is not a replica.
  GossipReplicaCore(Config config, std::string id, database::SqliteStore& store, const Clock& clock, TimePoint now);

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

  const std::string& id() const { return id_; }
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
  std::vector<std::string> peers_;
  std::map<std::string, VectorClock> peer_clocks_;  // as each peer last reported its clock
  std::map<std::string, VectorClock> peer_sent_;    // what was sent to each peer (it may not have it)
  std::map<std::string, TimePoint> heard_;          // when each peer last gossiped
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
