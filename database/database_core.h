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
//   claim_master {frontend, epoch} -> master, when `frontend` is a configured front end and
//       epoch == current epoch + 1 (compare-and-set); else fenced with the current epoch and
//       master. A resent claim that already succeeded is therefore answered fenced with master ==
//       itself.
//   get_master -> master.  list_registry -> registry.  stats -> stats_reply.
//   assign_home {tablet, frontends} -> tablet_home: the tablet keeps its home when that is in
//       `frontends`, else gets the one in `frontends` with the fewest home tablets (ties to the
//       earliest in the list). bad_value for an empty list or a front end not in the config.
//   anything else -> unexpected_op. Replies and notices sent to the database are only counted.
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

  Config config_;
  Store& store_;
  const Clock& clock_;
  Counters counters_;
  Effects held_;  // replies waiting for the batch's commit
  bool in_transaction_ = false;
  std::vector<MasterInfo> claims_;  // claims of this batch, logged once committed
};

}  // namespace oly::database
