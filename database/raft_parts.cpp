#include "database/raft_parts.h"

#include <utility>

namespace oly::database {

std::vector<RaftRpc> split_raft_message(std::string bytes, uint64_t id, size_t part_bytes) {
  std::vector<RaftRpc> out;
  RaftRpc rpc;
  rpc.id = id;
  if (bytes.size() <= part_bytes) {
    rpc.rpc.data = std::move(bytes);
    out.push_back(std::move(rpc));
    return out;
  }
  const uint64_t parts = (bytes.size() + part_bytes - 1) / part_bytes;
  out.reserve(parts);
  for (uint64_t i = 0; i < parts; ++i) {
    rpc.part = i;
    rpc.parts = parts;
    rpc.rpc.data = bytes.substr(i * part_bytes, part_bytes);
    out.push_back(rpc);
  }
  return out;
}

RaftParts::Outcome RaftParts::add(const std::string& from, RaftRpc& rpc, std::string& whole) {
  if (!rpc.parts || *rpc.parts <= 1) {
    whole = std::move(rpc.rpc.data);
    return Outcome::kWhole;
  }
  const uint64_t part = rpc.part.value_or(0);
  auto& r = by_sender_[from];
  if (part == 0) r = {};
  if (part != r.next || part >= *rpc.parts || r.bytes.size() + rpc.rpc.data.size() > max_bytes_) {
    by_sender_.erase(from);
    return Outcome::kRefused;
  }
  r.bytes += rpc.rpc.data;
  ++r.next;
  if (r.next < *rpc.parts) return Outcome::kPartial;
  whole = std::move(r.bytes);
  by_sender_.erase(from);
  return Outcome::kWhole;
}

}  // namespace oly::database
