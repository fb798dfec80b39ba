// ReplicaCore: one replica of the replicated database tier, the Core a Node drives when the
// config lists database.replicas. The replicas agree on one log of command batches through
// Consensus (consensus/consensus.h, libraft) and each applies the committed batches, in order, to
// its own SQLite file with the same StateMachine as the single database: the state is snapshot +
// log, rebuilt at every start.
//
// The leader is the primary. It alone answers requests; a follower or candidate answers every
// request (stats aside) with not_leader naming the leader when it knows one (Error.leader), and
// DatabaseClient follows it. A leader answers nothing until the barrier it proposed at its
// election has been applied (Consensus::leading()).
//
// An update's path on the leader: the write requests of one Node step are checked (requests.h)
// and become one CommandBatch, proposed as one Raft entry at the end of the step (group commit).
// The entry is sent to the followers first and made durable here in the tick that follows, so
// the leader's disk sync and the followers' run at the same time. Once a majority has it on disk
// it is committed; every replica applies it; the leader answers
// each request of the step with its result. Nothing is answered before that, so an ack means the
// update is on a majority's disks and applied.
//
// Reads (get_score, get_medal_tally, get_scoreboard, get_master, list_registry, kv_get) and
// master-lease renewals are linearizable, and none waits for a disk unless it must:
// - Each reads or writes a piece of the state (requests.h piece_of: a score, a tally, the master
//   row, the registry, a key-value key). A read or renewal of a piece with no write in flight
//   here (proposed and not yet answered, or in this step) needs no log entry: a read index
//   (Consensus::confirm) proves this replica still led when it arrived, with a round of probes
//   that followers answer from memory, and it is answered once the state is applied up to the
//   commit index of its step. A stalled disk delays writes, never these.
// - A read of a piece with a write in flight waits for that write's round (the step's entry, or
//   a barrier proposed after it), so a client that wrote a key and then reads it reads its write
//   if it committed: the front-end master relies on it after an update's answer was lost. A
//   get_score or get_medal_tally with `committed` asks not to wait (the master's reads of a key
//   with an update in flight: what is committed now is what it needs).
// - A renewal is judged when it is answered: a claim applied before it fences it (a claim in
//   flight makes the master row a piece with a write in flight).
// The exception: a get_score or get_medal_tally with min_version is answered at once by any
// replica, leader or not, whose applied state has that version of the key or a newer one (it
// asked for no more than that; the state is a committed prefix of the log); otherwise it is
// handled as above (a follower answers not_leader). stats counts them as local_reads, and the
// read index's rounds as read_index_rounds.
//
// The master lease stays in the leader's memory (requests.h MasterLease) and is never logged. A
// new leader knows no lease: when it becomes ready it treats the current master as holding one
// for a whole lease from then (every lease an earlier leader granted was answered after a quorum
// round that ended before this election, so it ran out before this one ends).
//
// When a round cannot complete (leadership lost, replica stopping) its requests are answered
// not_leader: a write may still be committed by the next leader, and the client's resend is
// deduplicated by (publisher, seq).
//
// Membership (replica_membership.cpp). The tier's membership is the Raft configuration,
// replicated in the log; every replica answers get_members from it. A new replica starts with no
// configuration and asks the replicas it was given (ReplicaStart.join) to add it (join), again
// every kJoinRetry until it finds itself in the configuration. The leader adds it as a spare,
// makes it a standby (it replicates and catches up, from a snapshot when the log it needs is
// compacted away), then a voter once it has caught up, while there are fewer than kMaxVoters
// voters (standby beyond). remove_replica (an operator's) removes one; a leader asked to remove
// itself hands leadership over first. libraft makes one change at a time; the leader queues the
// rest. Every member's address travels in the configuration, and each replica connects to the
// members it learns (Effects::connect).
//
// The key-value store (docs/kvstore.md): kv_set is a command of the log like the updates, and
// kv_get a linearizable read like get_score, both answered by the leader. A follower forwards
// them to the leader under a request id of its own (from kForwardReq up) and relays the answer;
// when the leader does not answer within kForwardTimeout, or another replica leads meanwhile, or
// the connection to it closes, it answers not_leader itself (naming the new leader when known),
// and the client retries there. A kv_get
// with `local` is answered by any replica from its applied state, with that state's index and
// how far behind it may be (the time since this replica last heard from a leader; 0 at the
// leader). Replies name the leader's HTTP address when known (KvValue.leader,
// Error.leader_http), which the membership carries (member_address.h).
//
// Raft messages (RaftRpc) carry their sender's Raft id; Consensus judges them. A storage
// failure stops the replica: every call then throws std::runtime_error, and the process exits to
// be restarted, as after a crash (Consensus's file comment says why).
//
// Thread-safety: none; driven by one Node.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/node.h"
#include "consensus/consensus.h"
#include "database/byzantine_gate.h"
#include "database/command.h"
#include "database/member_address.h"
#include "database/requests.h"
#include "database/raft_parts.h"
#include "database/sqlite_store.h"
#include "database/state_machine.h"

namespace oly::database {

// How a replica starts: as one of config.database.replicas (join empty: a new tier bootstraps
// with them), or joining a running tier through the replicas named in `join`.
struct ReplicaStart {
  std::string id;       // this replica's endpoint name
  std::string address;  // where it listens, as the membership will list it ("" in simulations)
  std::vector<std::string> join;
  std::string http = {};  // where it serves the key-value store over HTTP (host:port), "" for nowhere
};

class ReplicaCore final : public Core, private consensus::Machine {
 public:
  static constexpr size_t kMaxVoters = 5;
  static constexpr Duration kJoinRetry = ms(500);
  // A standby this close to the leader's last index is promoted (libraft's catch-up rounds do
  // the rest).
  static constexpr uint64_t kCaughtUp = 64;
  // A Raft message larger than this goes in parts of this size (a frame holds 1 MiB); one
  // reassembled may be at most kMaxRaftMessage.
  static constexpr size_t kRaftPart = 512 * 1024;
  static constexpr size_t kMaxRaftMessage = size_t{1} << 30;
  // How long a replica that handed leadership over before stopping keeps redirecting requests.
  static constexpr Duration kStopLinger = ms(100);
  // A follower's forwards of key-value requests to the leader: their request ids, and how long
  // it waits for the leader's answer.
  static constexpr uint64_t kForwardReq = uint64_t{1} << 62;
  static constexpr Duration kForwardTimeout = ms(1000);

  // Replica `start.id` over `store` (its file). Its Raft id is kept in the file: chosen at its
  // first start (its position in config.database.replicas, or at random when joining). `clock`
  // stamps scores' updated_at; `seed` drives the election timeouts. Throws std::runtime_error
  // when the log cannot be loaded or `start.id` is not in the config and joins nothing.
  ReplicaCore(Config config, ReplicaStart start, SqliteStore& store, const Clock& clock, TimePoint now,
              uint64_t seed);
  // Replica `id` of config.database.replicas.
  ReplicaCore(Config config, const std::string& id, SqliteStore& store, const Clock& clock, TimePoint now,
              uint64_t seed);
  ~ReplicaCore() override;

  // Called on every replica with each command it applies and what applying it decided.
  using ApplyListener = std::function<void(const Command&, const Result&)>;
  void on_apply(ApplyListener listener) { apply_listener_ = std::move(listener); }

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  // The connection to the leader closed: its process died, so the election is brought forward
  // (Consensus::leader_lost). Any other peer's loss changes nothing.
  void on_peer_lost(const std::string& peer, TimePoint now, Effects& out) override;
  TimePoint next_wake() const override;
  void on_batch_end(TimePoint now, Effects& out) override;
  Counters& counters() override { return counters_; }
  std::string_view role_name() const override;

  // Byzantine mode (config.byzantine): the publisher's public signing key, which every update
  // must carry a valid signature of; updates then pass the ByzantineGate (byzantine_gate.h).
  // Until it is set, such a replica refuses every update.
  void set_publisher_key(std::string key);

  const consensus::Consensus& consensus() const { return *consensus_; }
  const std::string& id() const { return id_; }
  // Tests: split Raft messages larger than `bytes` into parts (default kRaftPart).
  void set_raft_part_bytes(size_t bytes) { raft_part_ = bytes; }
  // The membership as this replica knows it (the get_members answer).
  Members members() const;
  // In the configuration (a joining replica is not, until the leader has added it).
  bool member() const { return member_; }
  // A clean stop (SIGTERM), in two calls. begin_stop: a leader hands leadership to its most
  // up-to-date voter, so the tier waits for one hand-over (a round trip or two) instead of an
  // election timeout. may_stop, after each step: true once the process can exit, that is when
  // this replica does not lead and has known the next leader for kStopLinger (answering the
  // requests still sent here with not_leader naming it), or two election timeouts after
  // begin_stop whatever happened. A follower may stop at once.
  void begin_stop(TimePoint now);
  bool may_stop(TimePoint now);

 private:
  // A request waiting for its round.
  struct Held {
    std::string from;
    uint64_t req = 0;
    Body request;
    int command = -1;  // its command's index in the round's batch, for a write
  };
  struct Round {
    std::vector<Held> held;
    CommandBatch batch;
  };
  // Reads and renewals confirmed by a read index (Consensus::confirm), answered once the state
  // is applied up to the commit index of the step they came in.
  struct ReadRound {
    std::vector<Held> held;
    uint64_t read_index = 0;
  };

  // consensus::Machine
  void apply(std::string_view entry) override;
  std::string snapshot() override;
  void restore(std::string_view snapshot) override { store_.restore_state(std::string(snapshot)); }

  void handle(const std::string& from, Message msg, TimePoint now, Effects& out);
  // Byzantine mode: an update submitted by a front end, through gate_.
  void submit(const std::string& from, Message msg, TimePoint now, Effects& out);
  void propose_round(TimePoint now);
  void confirm_reads();
  void answer_confirmed_reads();
  // A round (of writes, or of reads confirmed by a read index) that could not complete: every
  // request in it is answered not_leader.
  void fail_round(const std::vector<Held>& held);
  // Counts `request`'s write under its piece (requests.h piece_of) and, for a score or a tally,
  // under "*" too; `delta` -1 when its round is done.
  void count_writing(const Body& request, int delta);
  bool writing(const std::string& piece) const { return writing_.count(piece) > 0; }
  static bool asks_committed(const Body& request);  // a get_score or get_medal_tally with committed
  void complete(const Round& round, bool ok, const std::vector<Result>& results, TimePoint now);
  Body answer(const Held& h, const std::vector<Result>& results, TimePoint now);
  Body stats(TimePoint now);
  Error not_leader() const;
  // Starts a hand-over of leadership (libraft's transfer to the most up-to-date voter), logging
  // `why`; false when libraft refused.
  bool hand_over(std::string_view why);
  // A min_version read this replica's applied state satisfies: true, with the answer.
  bool read_locally(const Body& request, Body& answer);
  // The key-value store at a replica that does not lead: forwards to the leader, or answers
  // not_leader when none is known.
  void forward(const std::string& from, Message msg, TimePoint now, Effects& out);
  // The leader's answer to a forward: relayed to whoever asked (false: not a forward's answer).
  bool relay(uint64_t req, Body& body, Effects& out);
  // Forwards the leader did not answer in time, and those to a replica that no longer leads (or
  // whose connection closed: `lost`), are answered not_leader.
  void expire_forwards(TimePoint now, Effects& out, const std::string& lost = "");
  // A kv_get with `local`, from this replica's applied state.
  Body read_kv_locally(const KvGet& get, TimePoint now);
  // The leader's key-value HTTP address, when a leader with one is known.
  std::optional<std::string> leader_http() const;
  // After every call into Consensus: role changes, Raft messages out, answers out, a failure.
  void settle(TimePoint now, Effects& out);
  // At the end of a step: the applied state committed, unsynced.
  void end_step();

  // Membership (replica_membership.cpp).
  struct Waiting {
    std::string from;
    uint64_t req = 0;
  };
  void on_join(const std::string& from, uint64_t req, const JoinTier& j, Effects& out);
  void on_remove(const std::string& from, uint64_t req, const RemoveReplica& r, Effects& out);
  void on_membership_reply(const std::string& from, const Body& body);
  // Leader: starts the next membership change when none is in flight. Joiner: asks to join.
  void manage_membership(TimePoint now, Effects& out);
  bool start_change();
  void answer_waiting(std::vector<Waiting>& waiting, bool ok);
  // When the configuration changed (a new index): member_ again, and connects to new members.
  void on_configuration(Effects& out);
  Config config_;
  std::string id_;
  SqliteStore& store_;
  const Clock& clock_;
  std::unique_ptr<ByzantineGate> gate_;  // Byzantine mode, once the publisher's key is set
  StateMachine machine_;
  Counters counters_;
  MasterLease lease_;
  bool was_leading_ = false;
  Round open_;                       // the requests of the current step
  // Reads of a piece with no write in flight: those of the current step, and those confirmed
  // and waiting for the apply; the writes in flight (proposed or in open_, not yet answered) by
  // piece.
  std::vector<Held> reads_open_;
  std::deque<std::shared_ptr<ReadRound>> reads_confirmed_;
  std::map<std::string, int> writing_;
  std::vector<Result> last_results_;  // what the last applied entry decided
  Effects answers_;                  // answers made inside Consensus's callbacks
  TimePoint now_{};
  ApplyListener apply_listener_;
  bool closing_ = false;
  // Membership: joins and removals waiting for the leader to run them (by replica name), the
  // requests to answer when each is done, whether one is in flight, the replicas to ask to join
  // and the names already connected.
  std::map<std::string, std::pair<consensus::Member, std::vector<Waiting>>> joins_;
  std::map<std::string, std::vector<Waiting>> removals_;
  bool change_in_flight_ = false;
  // A clean stop under way (begin_stop): until when at most, and since when the next leader is
  // known.
  struct Stop {
    TimePoint deadline;
    std::optional<TimePoint> leader_known;
  };
  std::optional<Stop> stop_;
  std::vector<std::string> join_via_;
  std::optional<std::string> join_leader_;
  TimePoint next_join_{};
  std::string address_;
  std::string http_;
  std::set<std::string> connected_;
  // Key-value requests forwarded to the leader, by the request id they went under.
  struct Forward {
    std::string from;
    uint64_t req = 0;
    TimePoint deadline;
    std::string to;  // the leader it went to
  };
  std::map<uint64_t, Forward> forwards_;
  std::string forwards_leader_;  // the leader settle() last saw ("" for none)
  uint64_t next_forward_ = kForwardReq;
  uint64_t configuration_index_ = UINT64_MAX;  // of the configuration on_configuration last saw
  bool member_ = false;
  bool non_voters_ = false;  // the configuration has spares or standbys (to promote)
  RaftParts parts_{kMaxRaftMessage};  // Raft messages arriving in parts (a snapshot)
  size_t raft_part_ = kRaftPart;
  // Last: destroyed first, so that the rounds it cancels find everything above alive.
  std::unique_ptr<consensus::Consensus> consensus_;
};

// The consensus members of a config's replicas: ids 1, 2, ... in config order.
std::vector<consensus::Member> replica_members(const Config& config);

}  // namespace oly::database
