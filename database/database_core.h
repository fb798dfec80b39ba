// The database tier's logic: reads, epoch-fenced exactly-once updates, the master (epoch) row
// and the tablet registry, over a Store. See DESIGN.md sections 2, 3 and 5.
//
// Requests and their replies:
//   get_score / get_medal_tally / get_scoreboard -> score / medal_tally / scoreboard (latest
//       committed values; events from the config, teams from oly::teams(); anything else is
//       unknown_event / unknown_team naming it). min_version is ignored: the database is never
//       behind.
//   set_score / increment_medal_tally -> ack, or an error:
//       unknown_event / unknown_team / unknown_medal, bad_value (negative score, no publisher, seq
//       0); fenced (with the current epoch and master) unless `epoch` is given and equals the
//       current epoch, which must be at least 1: nobody writes before a front end claimed; then per
//       publisher, with last = its last applied seq (0 at first):
//         seq == last + 1: applied; the key's version rises by one; ack{duplicate = false}
//                          carrying the key's new value (`score` or `tally`);
//         seq <= last: the stored ack of (publisher, seq) with duplicate = true, carrying the
//                      key's current value (whose version may be newer), nothing changes,
//                      or stale_seq when that seq was never applied;
//         seq > last + 1: seq_gap naming the expected seq.
//   claim_master {frontend, epoch} -> master (with lease_ms, the lease the new master holds),
//       when `frontend` is a configured front end and epoch == current epoch + 1
//       (compare-and-set); else fenced with the current epoch and master. A resent claim that
//       already succeeded is therefore answered fenced with master == itself. A claim with the
//       right epoch by another front end than the current master, while the master lease (below)
//       is live, is refused with lease_held carrying the current master and epoch and
//       retry_after_ms = the lease's remaining time (rounded up, at least 1); a claim by the
//       current master's own id (a restarted incarnation of it) is not held back. The new master
//       holds a lease from the moment its claim succeeds.
//   renew_master {frontend, epoch, release} -> master {frontend, epoch, lease_ms} when `frontend`
//       is the current master at the current epoch (which must be at least 1): the lease now lasts
//       lease_ms = heartbeat.timeout_ms from this receipt, or, with `release`, ends now
//       (lease_ms = 0), so another front end may claim at once (ordered handoff). Else fenced
//       with the current epoch and master.
//   get_master -> master.  list_registry -> registry.  stats -> stats_reply.
//   assign_home {tablet, frontends} -> tablet_home: the tablet keeps its home when that is in
//       `frontends`, else gets the one in `frontends` with the fewest home tablets (ties to the
//       earliest in the list). bad_value for an empty list or a front end not in the config.
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
// renew_master writes nothing, but its reply is held with the others (below). stats counts
// renewals (releases included), releases, renewals_fenced and claims_lease_held (not among
// claims_rejected), and gives the lease's remaining time as info master_lease_ms (0 when over).
//
// Group commit: the writes of one run of messages (one Node step) go into one transaction, begun
// at the first write. Every reply of the run, reads included, is held and sent by on_batch_end
// after the commit, so that no client ever sees a value that is not durable. When the storage
// fails (a throw from the Store, in a write or in the commit) the transaction is rolled back and
// every reply held so far becomes storage_error; the rest of the run goes on in a new transaction.
//
// Thread-safety: none; driven by one Node.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/node.h"
#include "database/store.h"

namespace oly::database {

class DatabaseCore final : public Core {
 public:
  // `clock` is used only for wall_ms (the updated_at of scores); time comes in as `now`.
  DatabaseCore(Config config, Store& store, const Clock& clock);

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
  Body on(const GetStats& m, TimePoint now);
  Body on(const SetScore& m, TimePoint now);
  Body on(const IncrementMedalTally& m, TimePoint now);
  Body on(const ClaimMaster& m, TimePoint now);
  Body on(const RenewMaster& m, TimePoint now);
  Body on(const AssignHome& m, TimePoint now);
  template <class T>
  Body on(const T& m, TimePoint now);  // unexpected_op

  // Fencing and exactly-once around `apply(AppliedUpdate& u, Ack& ack)`, which writes the key,
  // fills in u.version and puts the key's new value on the ack.
  template <class Apply>
  Body update(const std::string& publisher, uint64_t seq, std::optional<uint64_t> epoch,
              std::string key, std::string_view op, TimePoint now, Apply apply);
  Error fenced(const MasterInfo& current, std::string text);
  // Opens the batch's transaction unless it is open.
  void begin_write();
  // Rolls back the batch's transaction and answers every held reply with storage_error.
  void fail_batch(const std::string& reason, Effects& out);
  void send(Effects& out, const Effects::Out& reply);
  // The master lease: how long one lasts, its initialisation on the first request, and the time
  // it has left at `now` (zero when it ran out).
  Duration lease() const;
  void know_lease(TimePoint now);
  Duration lease_left(TimePoint now) const;

  Config config_;
  Store& store_;
  const Clock& clock_;
  Counters counters_;
  Effects held_;  // replies waiting for the batch's commit
  bool in_transaction_ = false;
  std::vector<MasterInfo> claims_;  // claims of this batch, logged once committed
  // The current master's lease runs until lease_until_ (TimePoint::min() when there is none).
  // It is meaningless until lease_known_ (set by know_lease on the first request).
  bool lease_known_ = false;
  TimePoint lease_until_ = TimePoint::min();
  // lease_until_ before the first claim of the open transaction, restored if it rolls back.
  std::optional<TimePoint> lease_before_claims_;
};

}  // namespace oly::database
