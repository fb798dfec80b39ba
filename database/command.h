// The writes of the database's replicated state machine (state_machine.h), as plain values.
//
// A command is what the request handler (DatabaseCore) makes of a write request once the request
// passed the checks that need no stored state (known event, team, medal and front ends,
// non-negative scores, a publisher and a seq). It carries everything applying it needs besides the
// Store, stamped once by the handler when it made the command: the monotonic time recorded in the
// applied log, the wall-clock `updated_at` of a score, and the master lease's remaining time at
// that moment. So applying one command on two replicas decides the same thing and writes the same
// bytes, whenever and wherever it is applied.
//
// A CommandBatch is the commands of one group commit, in order; it is the unit a Raft entry will
// carry, as the bytes encode_batch() gives. Refused commands (fenced, seq_gap, ...) belong in the
// batch too: they are refused by applying them, from the stored state, on every replica alike.
//
// Each struct lists its fields once, in `visit(F&& f)` (as the messages of common/message.h do),
// which encode_batch and decode_batch use in both directions.
//
// Thread-safety: plain values and free functions without shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace oly::database {
namespace cmd {

// set_score: the event's score becomes gauls-romans, if the publisher's seq and the epoch allow.
struct SetScore {
  static constexpr std::string_view kOp = "set_score";
  std::string event;
  int64_t gauls = 0;
  int64_t romans = 0;
  std::string publisher;
  uint64_t seq = 0;
  std::optional<uint64_t> epoch;  // the forwarding master's epoch; none is fenced
  int64_t committed_at_us = 0;    // monotonic (clock.h to_us): AppliedUpdate::committed_at_us
  int64_t updated_at = 0;         // wall clock, ms since the Unix epoch: the score's updated_at
  std::string from;               // the endpoint that sent it (the forwarding front end)
  // The publisher's write stamp (common/message.h SetScore): gossip mode's order between
  // concurrent set_scores of one event. Absent from commands written before it existed.
  std::optional<int64_t> written_at_us = {};
  template <class F> void visit(F&& f) {
    f("event", event); f("gauls", gauls); f("romans", romans); f("publisher", publisher);
    f("seq", seq); f("epoch", epoch); f("committed_at_us", committed_at_us);
    f("updated_at", updated_at); f("from", from); f("written_at_us", written_at_us);
  }
  bool operator==(const SetScore&) const = default;
};

// increment_medal_tally: one more `medal` (gold, silver or bronze) for `team`, under the same
// rules as SetScore.
struct IncrementMedalTally {
  static constexpr std::string_view kOp = "increment_medal_tally";
  std::string team;
  std::string medal;
  std::string publisher;
  uint64_t seq = 0;
  std::optional<uint64_t> epoch;
  int64_t committed_at_us = 0;
  std::string from;
  template <class F> void visit(F&& f) {
    f("team", team); f("medal", medal); f("publisher", publisher); f("seq", seq);
    f("epoch", epoch); f("committed_at_us", committed_at_us); f("from", from);
  }
  bool operator==(const IncrementMedalTally&) const = default;
};

// claim_master: the compare-and-set of the master row to {frontend, epoch}. `lease_left_us` is
// what was left of the current master's lease (kept in the handler's memory, never stored) when
// the handler made the command, in microseconds, 0 when none was live: a claim by another front
// end than the current master is refused while it is above 0.
struct ClaimMaster {
  static constexpr std::string_view kOp = "claim_master";
  std::string frontend;
  uint64_t epoch = 0;
  int64_t lease_left_us = 0;
  std::string from;  // the endpoint that sent the claim
  template <class F> void visit(F&& f) {
    f("frontend", frontend); f("epoch", epoch); f("lease_left_us", lease_left_us); f("from", from);
  }
  bool operator==(const ClaimMaster&) const = default;
};

// assign_home: a home for `tablet` among `frontends` (non-empty, each a configured front end).
struct AssignHome {
  static constexpr std::string_view kOp = "assign_home";
  std::string tablet;
  std::vector<std::string> frontends;
  template <class F> void visit(F&& f) { f("tablet", tablet); f("frontends", frontends); }
  bool operator==(const AssignHome&) const = default;
};

// kv_set: `key` of the key-value store becomes `value` (both already checked against common/kv_rules.h's
// rules), unless the store would then hold more than kKvMaxStoreBytes.
struct KvSet {
  static constexpr std::string_view kOp = "kv_set";
  std::string key;
  std::string value;
  template <class F> void visit(F&& f) { f("key", key); f("value", value); }
  bool operator==(const KvSet&) const = default;
};

}  // namespace cmd

using Command = std::variant<cmd::SetScore, cmd::IncrementMedalTally, cmd::ClaimMaster,
                             cmd::AssignHome, cmd::KvSet>;
using CommandBatch = std::vector<Command>;

// The bytes of `batch`: a MessagePack map {version: 1, commands: [[op, {field: value, ...}], ...]}
// with the fields each command's visit() names (an absent optional is nil). Never fails.
std::string encode_batch(const CommandBatch& batch);

// The result of decode_batch(): `error` is empty when `batch` holds the decoded commands.
struct DecodedBatch {
  CommandBatch batch;
  std::string error;  // e.g. "command 2 (set_score): field 'seq': wrong type or out of range"
};

// Decodes what encode_batch() gave. Never throws: bytes that are not such a map (not MessagePack,
// trailing bytes, another version, an unknown op, a missing field or one of the wrong type or out
// of range) give an error naming what is wrong.
DecodedBatch decode_batch(std::string_view bytes);

}  // namespace oly::database
