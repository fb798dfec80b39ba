// ChangeLog: the master's recent changes, for pull mode's hints (DESIGN.md section 4, "Pull";
// docs/protocol.md section 6.8).
//
// The master records every new version its cache takes (written through on an acknowledgement,
// or filled from the database), each under the next sequence number. A peer's poll carries its
// cursor (epoch, sequence number); the answer lists the latest value of every key changed after
// it. Because the master's cache sees every version the database acknowledged to it, a key that a
// peer holds as of sequence s and that is not listed after s is, up to the answer's `to`,
// unchanged at the master: the peer may count it confirmed by the poll, like the polled key (the
// keys with an update in flight are named apart, and are not). One poll thus validates every key
// the peer holds, and the master keeps nothing per peer: pull stays pull.
//
// Bounded: the last kCapacity changes. A cursor older than that, of another epoch, or one after
// which more than kMostListed keys changed gets an answer that lists nothing and moves the cursor
// to now (`from` == `to`): the peer then confirms nothing by it, and polls its keys one by one.
//
// Thread-safety: none (owned by PullConsistency).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "common/message.h"

namespace oly {

class ChangeLog {
 public:
  static constexpr size_t kCapacity = 1024;
  static constexpr size_t kMostListed = 64;

  // The master's cache took `kv` (a version it did not hold).
  void record(const KeyValue& kv);
  // The changes after `since`, in `epoch`; `unsettled` and `current` as in message.h's Changes.
  Changes since(const std::optional<Cursor>& since, uint64_t epoch) const;
  // Forgets every change (the master or its epoch changed). Sequence numbers keep rising, so
  // that no cursor handed out before can cover a change recorded after.
  void reset();
  uint64_t seq() const { return seq_; }

 private:
  struct Entry {
    uint64_t seq;
    KeyValue value;
  };
  std::deque<Entry> entries_;  // oldest first
  uint64_t seq_ = 0;           // the last sequence number given
  uint64_t start_ = 0;         // entries_ hold every change after this one
};

}  // namespace oly
