// The database's replicated state machine: apply(command) over a Store.
//
// Everything that decides a write's outcome from stored state is here, so that every replica
// applying the same commands in the same order decides the same and ends with the same rows, the
// same applied log, registry and master row, byte for byte. Apply reads nothing but the Store and
// the command: no clock (the command carries its times, see command.h), no config, no memory of
// earlier calls. The request handler (DatabaseCore) checks what needs no stored state before it
// makes a command, and keeps what is not replicated (the master lease, counters, held replies).
//
// The decisions, with R the reply and the Outcome that names it:
//   set_score / increment_medal_tally, with last = the publisher's last applied seq (0 at first):
//       fenced (with the current epoch and master) unless the command's epoch is given and equals
//       the current epoch, which must be at least 1: nobody writes before a front end claimed;
//       then, per publisher:
//         seq == last + 1: applied; the key's version rises by one, the score's updated_at is the
//                          command's, the applied log records it with the command's
//                          committed_at_us; R = ack{duplicate = false} carrying the key's new
//                          value (`score` or `tally`);
//         seq <= last: the stored ack of (publisher, seq) with duplicate = true, carrying the
//                      key's current value (whose version may be newer), nothing changes
//                      (duplicate); or stale_seq when that seq was never applied;
//         seq > last + 1: seq_gap naming the expected seq.
//   claim_master {frontend, epoch, lease_left_us}: a compare-and-set on the master row. When
//       epoch != current epoch + 1: fenced with the current epoch and master (claim_fenced; a
//       resent claim that already succeeded is therefore answered fenced with master == itself).
//       Else, when `frontend` is not the current master and lease_left_us > 0: lease_held
//       carrying the current master and epoch and retry_after_ms = lease_left_us in ms, rounded
//       up, at least 1 (a restarted incarnation of the current master is not held back). Else the
//       master row becomes {frontend, epoch} (claimed); R = master {frontend, epoch} (the handler
//       adds lease_ms).
//   kv_set {key, value}: store_full when the store's keys and values would then take more than
//       kKvMaxStoreBytes (common/kv_rules.h); else the key's value becomes `value` (kv_set); R = kv_value
//       {key, value: the old value, absent when none}.
//   assign_home {tablet, frontends}: the tablet keeps its home when that is in `frontends`
//       (home_kept), else gets the one in `frontends` with the fewest home tablets, ties to the
//       earliest in the list (home_assigned); R = tablet_home. (With no front ends, which the
//       handler refuses before making a command: bad_value, `invalid`.)
//
// Transactions: apply() writes inside whatever transaction the caller has open (the request
// handler opens one per Node step). apply_batch() is one group commit on its own: it begins a
// transaction, applies the batch in order and commits.
//
// Errors: a throw from the Store passes through (see store.h): the caller rolls back, and
// everything applied in the transaction is lost. apply_batch rolls back before rethrowing.
//
// Thread-safety: none; one thread per Store.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/key.h"
#include "common/message.h"
#include "database/command.h"
#include "common/kv_rules.h"
#include "database/store.h"

namespace oly::database {

// What apply decided.
enum class Outcome {
  applied,        // an update was applied
  duplicate,      // an update applied before: its stored result, nothing changed
  fenced,         // an update with a stale or missing epoch, or before any claim
  stale_seq,      // an update of a past seq that is not in the applied log
  seq_gap,        // an update beyond the publisher's next seq
  claimed,        // a claim won the compare-and-set
  claim_fenced,   // a claim of another epoch than the current + 1
  lease_held,     // a claim refused while another front end's lease ran
  home_kept,      // assign_home: the tablet's home was among those offered
  home_assigned,  // assign_home: a new home was stored
  invalid,        // a command the handler should not have made (assign_home with no front
                  // ends): bad_value, nothing changes
  kv_set,         // kv_set: the key has its new value; R = kv_value with the old one
  store_full,     // kv_set refused: the store would exceed kKvMaxStoreBytes (store_full)
};

// Whether a command with this outcome wrote to the Store.
bool wrote(Outcome outcome);

struct Result {
  Outcome outcome = Outcome::applied;
  Body reply;  // the reply body: Ack, MasterInfo, TabletHome, KvValue or Error
};

class StateMachine {
 public:
  explicit StateMachine(Store& store) : store_(store) {}
  // Without epoch fencing (gossip mode, gossip/replica_core.h): an update is fenced, if at all,
  // by the replica that accepts it, since the replicas applying it later may know another master.
  struct Unfenced {};
  StateMachine(Store& store, Unfenced) : store_(store), fencing_(false) {}

  // Applies `command` in the caller's transaction; see the file comment.
  Result apply(const Command& command);

  // Applies `batch` in one transaction of its own, in order: one result per command, each as
  // apply() gives it. REQUIRES: no transaction is open. On a throw nothing of the batch remains.
  std::vector<Result> apply_batch(const CommandBatch& batch);

 private:
  Result on(const cmd::SetScore& c);
  Result on(const cmd::IncrementMedalTally& c);
  Result on(const cmd::ClaimMaster& c);
  Result on(const cmd::AssignHome& c);
  Result on(const cmd::KvSet& c);

  // Fencing and exactly-once around `write(AppliedUpdate& u, Ack& ack)`, which writes the key,
  // fills in u.version (and u's values) and puts the key's new value on the ack.
  template <class Update, class Write>
  Result update(const Update& c, const Key& key, Write write);

  Store& store_;
  bool fencing_ = true;
};

// The `fenced` error: the current epoch and master ride on it. Also used by the request
// handler for renewals of the master lease.
Error fenced_error(const MasterInfo& current, std::string text);

// `d` in whole milliseconds, rounded up (a wait of 0.2 ms is a wait of 1 ms).
int64_t ceil_ms(Duration d);

}  // namespace oly::database
