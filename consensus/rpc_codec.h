// The bytes of libraft's RPC messages between replicas (carried in RaftRpc, common/message.h).
//
// A message is one MessagePack array whose first element is the raft.h type code
// (RAFT_IO_APPEND_ENTRIES ...) and whose other elements are that type's fields in raft.h order;
// entries are [term, type, bin] and a configuration is [[id, address, role], ...]. The sender and
// receiver ids are not encoded: the transport's endpoint names give them.
//
// decode_rpc allocates what libraft will own (entries and their data in one raft_malloc batch, a
// snapshot's data, its configuration), so that the message can be handed to libraft's receive
// callback as it is; free_rpc releases it when the message is dropped instead.
//
// Errors: decode_rpc never throws: malformed bytes (not such an array, a wrong type, an unknown
// type code, a field out of range) give false and a reason naming the field.
//
// Thread-safety: free functions without shared state.
#pragma once

#include "consensus/libraft.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace oly::consensus {

// Encodes `msg`. For an AppendEntries whose entries hold more than `max_entry_bytes` of data it
// encodes several AppendEntries, each with a run of the entries (at least one) and the matching
// prev_log_index and prev_log_term, as a leader could have sent them one after the other; the
// caller sends them in order.
std::vector<std::string> encode_rpc(const raft_message& msg, size_t max_entry_bytes);

// Decodes one message into `msg` (server_id and server_address left for the caller to set).
bool decode_rpc(std::string_view bytes, raft_message& msg, std::string& why);

// Releases what decode_rpc allocated in `msg` (for a message that is not handed to libraft).
void free_rpc(raft_message& msg);

// The adapter's own messages beside libraft's, for Consensus::confirm (a read index): a leader's
// probe [100, term, seq] and a follower's answer [101, term, seq], in the same array form with
// type codes libraft does not use.
struct Probe {
  bool answer = false;  // false: the leader's probe; true: a follower's answer
  uint64_t term = 0;
  uint64_t seq = 0;
};
std::string encode_probe(const Probe& p);
// True when `bytes` is a probe or an answer (decoded into `p`); false for anything else, which
// decode_rpc then judges.
bool decode_probe(std::string_view bytes, Probe& p);

}  // namespace oly::consensus
