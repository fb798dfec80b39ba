// The database tier's request handling: the Core the Node drives. It answers reads from the
// Store, checks writes for what needs no stored state, turns them into commands (command.h)
// stamped with the time, and has the replicated state machine (state_machine.h) apply them; it
// keeps what is not replicated: the master lease, group commit and its held replies, counters.
// See DESIGN.md sections 2, 3 and 5.
//
// Requests and their replies:
//   get_score / get_medal_tally / get_scoreboard -> score / medal_tally / scoreboard (latest
//       committed values; events from the config, teams from oly::teams(); anything else is
//       unknown_event / unknown_team naming it). min_version is ignored: the database is never
//       behind.
//   set_score / increment_medal_tally -> unknown_event / unknown_team / unknown_medal, bad_value
//       (negative score, no publisher, seq 0), checked here; otherwise a command stamped with
//       committed_at_us = to_us(now) and, for a score, updated_at = clock.wall_ms(now), applied:
//       ack, or fenced / stale_seq / seq_gap, as state_machine.h decides (epoch fencing, then
//       exactly-once by (publisher, seq) with the stored result of a duplicate).
//   claim_master {frontend, epoch} -> bad_value unless `frontend` is a configured front end;
//       otherwise a command stamped with the master lease's remaining time (below), applied:
//       master (with lease_ms, the lease the new master holds) when the compare-and-set of
//       epoch == current epoch + 1 succeeds, else fenced with the current epoch and master, or
//       lease_held (with retry_after_ms) while another front end's lease runs; see
//       state_machine.h. The new master holds a lease from the moment its claim succeeds.
//   renew_master {frontend, epoch, release} -> master {frontend, epoch, lease_ms} when `frontend`
//       is the current master at the current epoch (which must be at least 1): the lease now lasts
//       lease_ms = heartbeat.timeout_ms from this receipt, or, with `release`, ends now
//       (lease_ms = 0), so another front end may claim at once (ordered handoff). Else fenced
//       with the current epoch and master. Nothing is written: the lease is not replicated.
//   get_master -> master.  list_registry -> registry.  stats -> stats_reply.
//   assign_home {tablet, frontends} -> bad_value for an empty tablet, an empty list or a front
//       end not in the config; otherwise a command, applied: tablet_home, the tablet's home kept
//       or chosen by the counts of home tablets (state_machine.h).
//   anything else -> unexpected_op. Replies and notices sent to the database are only counted.
//
// The master lease keeps a paused or partitioned master, which may still serve reads from its
// write-through cache, from overlapping with a master that took over: nobody else becomes master
// until the holder's lease at the database ran out (the holder counts its lease from its send
// time, so its own view ends first). The lease is kept in memory only, never on disk: at
// construction it is unknown (the database may have restarted while a master held one), so on
// the first request the core handles it is set to that request's time + heartbeat.timeout_ms when
// a master exists (epoch >= 1): every lease granted before a restart has ended by then. When a
// batch's transaction fails, a lease granted by a claim in it is taken back with the claim.
// The lease lives here, in memory, and only its remaining time at a claim goes into the claim's
// command, so that every replica refuses that claim alike. renew_master writes nothing, but its
// reply is held with the others (below). stats counts renewals (releases included), releases,
// renewals_fenced and claims_lease_held (not among claims_rejected), and gives the lease's
// remaining time as info master_lease_ms (0 when over).
//
// Group commit: the commands of one run of messages (one Node step) are applied in one
// transaction, begun at the first command; they form the run's CommandBatch, the unit a Raft
// entry will carry, which is handed to the commit listener (if any) once committed. Every reply
// of the run, reads included, is held and sent by on_batch_end after the commit, so that no client
// ever sees a value that is not durable. When the storage fails (a throw from the Store, in a
// command or in the commit) the transaction is rolled back and every reply held so far becomes
// storage_error; the rest of the run goes on in a new transaction. stats counts as `batches` the
// committed transactions in which something was written.
//
// Thread-safety: none; driven by one Node.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/node.h"
#include "database/command.h"
#include "database/requests.h"
#include "database/state_machine.h"
#include "database/store.h"

namespace oly::database {

class DatabaseCore final : public Core {
 public:
  // `clock` is used only for wall_ms, to stamp the updated_at of set_score commands; time comes
  // in as `now`.
  DatabaseCore(Config config, Store& store, const Clock& clock);

  // Called with each batch of commands once its transaction committed (never for a rolled-back
  // one, nor for a run without commands): what a replica applying the same batches with
  // StateMachine::apply_batch needs to end identical.
  using CommitListener = std::function<void(const CommandBatch&)>;
  void on_commit(CommitListener listener) { commit_listener_ = std::move(listener); }

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now,
                  Effects& out) override;
  void on_tick(TimePoint /*now*/, Effects& /*out*/) override {}
  TimePoint next_wake() const override { return TimePoint::max(); }
  void on_batch_end(TimePoint now, Effects& out) override;
  Counters& counters() override { return counters_; }

 private:
  // One handler per request; each returns the reply body (an Error when refused).
  Body on(const GetScore& m, TimePoint now);
  Body on(const GetMedalTally& m, TimePoint now);
  Body on(const GetScoreboard& m, TimePoint now);
  Body on(const GetMaster& m, TimePoint now);
  Body on(const ListRegistry& m, TimePoint now);
  Body on(const GetFeed& m, TimePoint now);
  Body on(const GetStats& m, TimePoint now);
  Body on(const SetScore& m, TimePoint now);
  Body on(const IncrementMedalTally& m, TimePoint now);
  Body on(const ClaimMaster& m, TimePoint now);
  Body on(const RenewMaster& m, TimePoint now);
  Body on(const AssignHome& m, TimePoint now);
  template <class T>
  Body on(const T& m, TimePoint now);  // unexpected_op

  // Applies `command` in the batch's transaction (opening it unless it is open), adds it to the
  // batch and counts its outcome.
  Result write(Command command);
  // Rolls back the batch's transaction and answers every held reply with storage_error.
  void fail_batch(const std::string& reason, Effects& out);
  void send(Effects& out, const Effects::Out& reply);
  // The master lease's initialisation on the first request.
  void know_lease(TimePoint now);
  Body write_checked(Checked checked);
  template <class Read>
  Body read_counted(const Read& m);

  Config config_;
  Store& store_;
  StateMachine machine_;
  const Clock& clock_;
  Counters counters_;
  Effects held_;  // replies waiting for the batch's commit
  bool in_transaction_ = false;
  CommandBatch batch_;        // the commands of the open transaction
  bool batch_wrote_ = false;  // whether one of them wrote
  CommitListener commit_listener_;
  std::vector<MasterInfo> claims_;  // claims of this batch, logged once committed
  std::string from_;  // the sender of the request being handled
  // The current master's lease. It is meaningless until lease_known_ (set by know_lease on the
  // first request).
  MasterLease lease_;
  bool lease_known_ = false;
  // lease_.until() before the first claim of the open transaction, restored if it rolls back.
  std::optional<TimePoint> lease_before_claims_;
};

}  // namespace oly::database
