// Raft messages larger than a frame: split into RaftRpc parts by the sender, put together again
// by the receiver (a snapshot of a few MB goes in parts of kRaftPart).
//
// Parts of one message arrive in order from one sender (the transport keeps a pair's order); a
// message is whole once its last part arrives. A part out of order (a gap: a part was lost, or
// the sender restarted mid-message) or one that would make the message larger than the limit is
// refused, and what came so far from that sender is dropped: Raft sends the message again.
//
// Thread-safety: none (owned by one core).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"

namespace oly::database {

// The RaftRpc messages carrying `bytes` from Raft id `id`: one when it fits in `part_bytes`
// (no part fields), else ceil(size / part_bytes) parts numbered 0..parts-1.
std::vector<RaftRpc> split_raft_message(std::string bytes, uint64_t id, size_t part_bytes);

class RaftParts {
 public:
  explicit RaftParts(size_t max_bytes) : max_bytes_(max_bytes) {}

  enum class Outcome {
    kWhole,    // `whole` holds a complete message
    kPartial,  // a part was kept; more are to come
    kRefused,  // a part out of order or over the limit: dropped, with what came before it
  };
  // Takes the RaftRpc `rpc` from `from` (its data is moved out).
  Outcome add(const std::string& from, RaftRpc& rpc, std::string& whole);

 private:
  struct Reassembly {
    std::string bytes;
    uint64_t next = 0;  // the part expected next
  };
  size_t max_bytes_;
  std::map<std::string, Reassembly> by_sender_;
};

}  // namespace oly::database
