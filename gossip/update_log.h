// The log of the lazy (gossip) replication mode at one replica (issue 18; docs/gossip.md): the
// updates it accepted from front ends and those it learnt from other replicas' gossip, with their
// vector timestamps; which of them may be applied now; what a peer lacks; what every replica has
// (garbage collection); the play-by-play feed.
//
// Entries. Replica r numbers the updates it accepts 1, 2, 3, ... (origin_seq); an entry carries
// the clock r had once it accepted it (ts, with ts[r] == origin_seq), which covers everything r
// had taken before: its causal past. A replica takes a peer's entries in each origin's order only
// (origin_seq == clock[origin] + 1; later ones wait for the gap), so its clock[r] always means
// "every entry of r up to here, and no other".
//
// Exactly once. One update (publisher, seq) may reach the log twice, from two origins (a front
// end that resent it to another replica after the first died): both entries are kept, since each
// is a step of its origin's numbering, but only the first applied counts. Updates are applied in
// each publisher's seq order (seq k once k - 1 is applied), so a per-publisher watermark remembers
// what was applied after its entries are collected, and a resend of an old id is known forever.
//
// Garbage collection. An entry that is applied (or a duplicate) is dropped once the clock every
// member last reported covers it. A member whose clock is not known holds collection back (a
// replica that is down holds the log until it returns or is removed).
//
// The feed. Entries ordered by the sum of their timestamps, then (origin, origin_seq): if u
// happened before v, u's timestamp is below v's in every entry and strictly in one, so this is a
// linear extension of the causal order, and the same on every replica holding the same entries.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/update_id.h"
#include "gossip/vector_clock.h"

namespace oly::gossip {

using UpdateId = oly::UpdateId;

struct LogEntry {
  UpdateId id;
  std::string origin;
  uint64_t origin_seq = 0;
  VectorClock ts;
  std::string update;  // opaque: the update's bytes
  bool operator==(const LogEntry&) const = default;
};

class UpdateLog {
 public:
  explicit UpdateLog(std::string self) : self_(std::move(self)) {}

  // A front end's update, accepted here: its new entry; nullopt when the id is known already (in
  // the log or applied), whose stored result answers it.
  std::optional<LogEntry> accept(const UpdateId& id, std::string update);
  // A peer's gossip. Takes each entry it lacks, in each origin's order (an entry past a gap waits
  // for it, held); returns the entries newly taken, in the order taken.
  std::vector<LogEntry> receive(std::vector<LogEntry> entries);
  // What a replica whose clock is `peer` lacks, in each origin's order, at most `limit`.
  std::vector<LogEntry> missing_for(const VectorClock& peer, size_t limit = SIZE_MAX) const;

  // The entries that may be applied now, in the order to apply them: each publisher's next seq,
  // repeatedly; each is then applied (the caller applies it). Duplicates are never returned.
  std::vector<LogEntry> take_applicable();
  // Whether (publisher, seq) was applied here.
  bool applied(const UpdateId& id) const;

  // Drops the applied entries that every one of `members` has (by `clocks`, each member's last
  // reported clock; a member with none holds everything). Returns the dropped entries' (origin,
  // origin_seq).
  std::vector<std::pair<std::string, uint64_t>> collect(const std::vector<std::string>& members,
                                                        const std::map<std::string, VectorClock>& clocks);

  // After a restart: the log as it was made durable (its clock, the entries it had taken, in any
  // order) and what the state has applied (publisher -> last seq). Entries of applied updates
  // count as applied; the others wait to be applied (take_applicable). Replaces whatever the log
  // held (a joiner loads a state copy so).
  void restore(VectorClock clock, std::vector<LogEntry> entries, const std::map<std::string, uint64_t>& applied);
  // The clock of what the state shows: for each origin, every entry up to here is applied (or a
  // duplicate of an applied update). Below clock() where entries wait behind a publisher's gap.
  VectorClock applied_clock() const;

  // Up to `limit` of the latest applied updates (one entry per id), in feed order (see above).
  std::vector<LogEntry> feed(size_t limit) const;

  const VectorClock& clock() const { return clock_; }
  size_t size() const { return entries_.size(); }
  size_t held() const { return held_.size(); }

 private:
  struct Key {
    std::string origin;
    uint64_t origin_seq;
    auto operator<=>(const Key&) const = default;
  };
  void take(LogEntry e);
  bool known(const UpdateId& id) const;

  const std::string self_;
  VectorClock clock_;
  std::map<Key, LogEntry> entries_;              // taken, by (origin, origin_seq)
  std::map<Key, LogEntry> held_;                 // received past a gap of their origin
  std::map<UpdateId, Key> by_id_;                // the first entry taken of each id still in the log
  std::map<std::string, uint64_t> applied_;      // publisher -> last seq applied
  std::map<std::string, std::map<uint64_t, Key>> pending_;  // publisher -> seq -> entry, not applied
  std::set<Key> done_;                           // entries applied, or duplicates of applied ones
};

}  // namespace oly::gossip
