// The database's requests, as every kind of database core handles them: the checks that need no
// stored state (the config's events, teams, medals and front ends; non-negative scores; a
// publisher and a seq), the command (command.h) a write request becomes, stamped with the time,
// and the answers of reads from the Store. The single database (database_core.h) and the Raft
// replica (replica_core.h) differ only in when they apply commands and answer.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <variant>

#include "common/clock.h"
#include "common/config.h"
#include "common/message.h"
#include "database/command.h"
#include "database/store.h"

namespace oly::database {

// A write request's command, or the error that refuses it.
using Checked = std::variant<Command, Error>;

// `from` is the endpoint that sent the request, `now` the monotonic time of its arrival; a
// score's updated_at is clock.wall_ms(now). A claim carries `lease_left` of the current master's
// lease (see command.h).
Checked check(const SetScore& m, const std::string& from, TimePoint now, const Clock& clock, const Config& config);
Checked check(const IncrementMedalTally& m, const std::string& from, TimePoint now, const Config& config);
Checked check(const ClaimMaster& m, const std::string& from, Duration lease_left, const Config& config);
Checked check(const AssignHome& m, const Config& config);
// The key-value store (docs/kvstore.md): a key and value that break common/kv_rules.h's rules are bad_value.
Checked check(const KvSet& m);

// Reads: the latest applied rows; unknown_event / unknown_team naming the name and the known ones.
Body read(const GetScore& m, Store& store, const Config& config);
Body read(const GetMedalTally& m, Store& store, const Config& config);
Body read(const GetScoreboard& m, Store& store, const Config& config);
Body read(const GetMaster& m, Store& store, const Config& config);
Body read(const ListRegistry& m, Store& store, const Config& config);
// get_feed in raft mode and the single database: the latest applied updates (Store::recent_applied),
// each item's `at` its commit time in µs (the same on every replica); unknown_event, bad_value for
// a limit outside 1 to GetFeed::kFeedMax.
Body read(const GetFeed& m, Store& store, const Config& config);
// The key's value (bad_value for a key that breaks common/kv_rules.h's rules).
Body read(const KvGet& m, Store& store);

// Whether `body` is one of the reads above.
bool is_read(const Body& body);

// The part of the state a request reads or writes, so that a read waits only for the writes of
// its own part (ReplicaCore): "score:<event>", "tally:<team>", "master" (claim_master,
// renew_master, get_master), "registry" (assign_home, list_registry), "kv:<key>", and "*" for
// get_scoreboard, which reads every score and tally. "" for any other request.
std::string piece_of(const Body& body);
// Whether `body` is one of the write requests above.
bool is_write(const Body& body);

// The master lease, kept in the memory of the database (the single one, or the Raft leader) and
// never stored: see database_core.h. A new holder of the role knows no lease: know() treats the
// current master (if any, epoch >= 1) as holding one for a whole lease from `now`.
class MasterLease {
 public:
  explicit MasterLease(Duration length) : length_(length) {}
  Duration length() const { return length_; }
  void know(TimePoint now, uint64_t epoch) { until_ = epoch > 0 ? now + length_ : TimePoint::min(); }
  Duration left(TimePoint now) const { return until_ > now ? until_ - now : Duration::zero(); }
  void grant(TimePoint now) { until_ = now + length_; }
  void end(TimePoint now) { until_ = now; }
  TimePoint until() const { return until_; }
  void set_until(TimePoint t) { until_ = t; }

 private:
  Duration length_;
  TimePoint until_ = TimePoint::min();
};

// The answer to renew_master {frontend, epoch, release} given the current master row: the
// MasterInfo with lease_ms (the lease granted or, on release, ended in `lease`), or fenced.
// `renewed` tells which (for counters).
Body renew(const RenewMaster& m, const MasterInfo& current, MasterLease& lease, TimePoint now, bool& renewed);

// A replica's name as config.cpp accepts one (letters, digits, - _ .; at most 64), and a replica's
// address as joining replicas give it: tcp://, printable, at most 256 bytes (or empty: simulations).
bool valid_replica_name(const std::string& id);
bool valid_replica_address(const std::string& address);

}  // namespace oly::database
