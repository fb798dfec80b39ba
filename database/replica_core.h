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
// Once a majority has it on disk it is committed; every replica applies it; the leader answers
// each request of the step with its result. Nothing is answered before that, so an ack means the
// update is on a majority's disks and applied.
//
// Reads (get_score, get_medal_tally, get_scoreboard, get_master, list_registry) and master-lease
// renewals are linearizable: they wait for the round (the step's entry, or a barrier when the step
// had no write) proposed after they arrived, and are answered from the state once it is applied.
// A renewal is judged then too: a claim applied before it fences it. The exception: a get_score or
// get_medal_tally with min_version is answered at once by any replica, leader or not, whose
// applied state has that version of the key or a newer one (it asked for no more than that; the
// state is a committed prefix of the log); otherwise it is handled as above (a follower answers
// not_leader). stats counts them as local_reads.
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
// Raft messages (RaftRpc) are accepted only from the other replicas of the config. A storage
// failure stops the replica: every call then throws std::runtime_error, and the process exits to
// be restarted, as after a crash (Consensus's file comment says why).
//
// Thread-safety: none; driven by one Node.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/node.h"
#include "consensus/consensus.h"
#include "database/command.h"
#include "database/requests.h"
#include "database/sqlite_store.h"
#include "database/state_machine.h"

namespace oly::database {

class ReplicaCore final : public Core, private consensus::Machine {
 public:
  // Replica `id` of config.database.replicas over `store` (its file). `clock` stamps scores'
  // updated_at; `seed` drives the election timeouts. Throws std::runtime_error when the log
  // cannot be loaded.
  ReplicaCore(Config config, const std::string& id, SqliteStore& store, const Clock& clock, TimePoint now,
              uint64_t seed);
  ~ReplicaCore() override;

  // Called on every replica with each command it applies and what applying it decided.
  using ApplyListener = std::function<void(const Command&, const Result&)>;
  void on_apply(ApplyListener listener) { apply_listener_ = std::move(listener); }

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  TimePoint next_wake() const override;
  void on_batch_end(TimePoint now, Effects& out) override;
  Counters& counters() override { return counters_; }
  std::string_view role_name() const override;

  const consensus::Consensus& consensus() const { return *consensus_; }
  const std::string& id() const { return id_; }

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

  // consensus::Machine
  void apply(std::string_view entry) override;
  std::string snapshot() override { return store_.state_dump(); }
  void restore(std::string_view snapshot) override { store_.restore_state(std::string(snapshot)); }

  void handle(const std::string& from, Message msg, TimePoint now, Effects& out);
  void propose_round(TimePoint now);
  void complete(const Round& round, bool ok, const std::vector<Result>& results, TimePoint now);
  Body answer(const Held& h, const std::vector<Result>& results, TimePoint now);
  Body stats(TimePoint now);
  Error not_leader() const;
  // A min_version read this replica's applied state satisfies: true, with the answer.
  bool read_locally(const Body& request, Body& answer);
  // After every call into Consensus: role changes, Raft messages out, answers out, a failure.
  void settle(TimePoint now, Effects& out);
  // At the end of a step: the applied state committed, unsynced.
  void end_step();

  Config config_;
  std::string id_;
  SqliteStore& store_;
  const Clock& clock_;
  StateMachine machine_;
  Counters counters_;
  MasterLease lease_;
  bool was_leading_ = false;
  Round open_;                       // the requests of the current step
  std::vector<Result> last_results_;  // what the last applied entry decided
  Effects answers_;                  // answers made inside Consensus's callbacks
  TimePoint now_{};
  ApplyListener apply_listener_;
  bool closing_ = false;
  // Last: destroyed first, so that the rounds it cancels find everything above alive.
  std::unique_ptr<consensus::Consensus> consensus_;
};

// The consensus members of a config's replicas: ids 1, 2, ... in config order.
std::vector<consensus::Member> replica_members(const Config& config);

}  // namespace oly::database
