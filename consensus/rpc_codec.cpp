#include "consensus/rpc_codec.h"

#include <cstring>
#include <limits>
#include <msgpack.hpp>
#include <vector>

namespace oly::consensus {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_bin(Packer& pk, const void* data, size_t size) {
  pk.pack_bin(static_cast<uint32_t>(size));
  pk.pack_bin_body(static_cast<const char*>(data), static_cast<uint32_t>(size));
}

void pack_configuration(Packer& pk, const raft_configuration& c) {
  pk.pack_array(c.n);
  for (unsigned i = 0; i < c.n; ++i) {
    pk.pack_array(3);
    pk.pack(static_cast<uint64_t>(c.servers[i].id));
    pk.pack(std::string(c.servers[i].address ? c.servers[i].address : ""));
    pk.pack(c.servers[i].role);
  }
}

std::string finish(const msgpack::sbuffer& buf) { return std::string(buf.data(), buf.size()); }

constexpr int kProbe = 100;
constexpr int kProbeAnswer = 101;

std::string encode_append(const raft_append_entries& a, raft_index prev_index, raft_term prev_term,
                          const raft_entry* entries, unsigned n) {
  msgpack::sbuffer buf(64);
  Packer pk(buf);
  pk.pack_array(6);
  pk.pack(static_cast<int>(RAFT_IO_APPEND_ENTRIES));
  pk.pack(static_cast<uint64_t>(a.term));
  pk.pack(static_cast<uint64_t>(prev_index));
  pk.pack(static_cast<uint64_t>(prev_term));
  pk.pack(static_cast<uint64_t>(a.leader_commit));
  pk.pack_array(n);
  for (unsigned i = 0; i < n; ++i) {
    pk.pack_array(3);
    pk.pack(static_cast<uint64_t>(entries[i].term));
    pk.pack(entries[i].type);
    pack_bin(pk, entries[i].buf.base, entries[i].buf.len);
  }
  return finish(buf);
}

// Reads the elements of one array in order, remembering the first failure.
class Fields {
 public:
  Fields(const msgpack::object& o, const char* what, std::string& why) : why_(why), what_(what) {
    if (o.type != msgpack::type::ARRAY) {
      fail("expected an array");
    } else {
      items_ = o.via.array.ptr;
      size_ = o.via.array.size;
    }
  }
  bool ok() const { return ok_; }
  const msgpack::object* next(const char* field) {
    if (!ok_) return nullptr;
    if (at_ >= size_) {
      fail(std::string("missing field '") + field + "'");
      return nullptr;
    }
    return &items_[at_++];
  }
  template <class T> T uint(const char* field, T max = std::numeric_limits<T>::max()) {
    const msgpack::object* o = next(field);
    if (o == nullptr) return 0;
    if (o->type != msgpack::type::POSITIVE_INTEGER || o->via.u64 > static_cast<uint64_t>(max)) {
      fail(std::string("field '") + field + "': expected an integer in range");
      return 0;
    }
    return static_cast<T>(o->via.u64);
  }
  bool boolean(const char* field) {
    const msgpack::object* o = next(field);
    if (o == nullptr) return false;
    if (o->type != msgpack::type::BOOLEAN) {
      fail(std::string("field '") + field + "': expected a boolean");
      return false;
    }
    return o->via.boolean;
  }
  const msgpack::object* bin(const char* field) {
    const msgpack::object* o = next(field);
    if (o != nullptr && o->type != msgpack::type::BIN) {
      fail(std::string("field '") + field + "': expected binary");
      return nullptr;
    }
    return o;
  }
  const msgpack::object* array(const char* field) {
    const msgpack::object* o = next(field);
    if (o != nullptr && o->type != msgpack::type::ARRAY) {
      fail(std::string("field '") + field + "': expected an array");
      return nullptr;
    }
    return o;
  }
  void fail(const std::string& text) {
    if (!ok_) return;
    ok_ = false;
    why_ = std::string(what_) + ": " + text;
  }

 private:
  std::string& why_;
  const char* what_;
  const msgpack::object* items_ = nullptr;
  uint32_t size_ = 0;
  uint32_t at_ = 0;
  bool ok_ = true;
};

bool decode_configuration(const msgpack::object& o, raft_configuration& c, std::string& why) {
  raft_configuration_init(&c);
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    Fields f(o.via.array.ptr[i], "configuration server", why);
    const auto id = f.uint<raft_id>("id");
    const msgpack::object* address = f.next("address");
    const int role = f.uint<int>("role", RAFT_SPARE);
    if (f.ok() && (address->type != msgpack::type::STR || id == 0)) f.fail("expected an id above 0 and an address");
    if (!f.ok()) return false;
    const std::string a(address->via.str.ptr, address->via.str.size);
    if (raft_configuration_add(&c, id, a.c_str(), role) != 0) {
      why = "configuration: duplicate server " + std::to_string(id);
      return false;
    }
  }
  return true;
}

bool decode_entries(const msgpack::object& list, raft_append_entries& a, std::string& why) {
  a.entries = nullptr;
  a.n_entries = 0;
  const uint32_t n = list.via.array.size;
  if (n == 0) return true;
  size_t total = 0;
  for (uint32_t i = 0; i < n; ++i) {
    Fields f(list.via.array.ptr[i], "entry", why);
    f.uint<raft_term>("term");
    f.uint<unsigned short>("type");
    const msgpack::object* data = f.bin("data");
    if (!f.ok()) return false;
    total += data->via.bin.size;
  }
  auto* entries = static_cast<raft_entry*>(raft_calloc(n, sizeof(raft_entry)));
  void* batch = raft_malloc(total > 0 ? total : 1);
  if (entries == nullptr || batch == nullptr) {
    raft_free(entries);
    raft_free(batch);
    why = "out of memory";
    return false;
  }
  char* cursor = static_cast<char*>(batch);
  for (uint32_t i = 0; i < n; ++i) {
    Fields f(list.via.array.ptr[i], "entry", why);
    entries[i].term = f.uint<raft_term>("term");
    entries[i].type = f.uint<unsigned short>("type");
    const msgpack::object* data = f.bin("data");
    if (entries[i].type < RAFT_COMMAND || entries[i].type > RAFT_CHANGE) {
      raft_free(entries);
      raft_free(batch);
      why = "entry: unknown type " + std::to_string(entries[i].type);
      return false;
    }
    std::memcpy(cursor, data->via.bin.ptr, data->via.bin.size);
    entries[i].buf.base = cursor;
    entries[i].buf.len = data->via.bin.size;
    entries[i].batch = batch;
    cursor += data->via.bin.size;
  }
  a.entries = entries;
  a.n_entries = n;
  return true;
}

}  // namespace

std::vector<std::string> encode_rpc(const raft_message& msg, size_t max_entry_bytes) {
  std::vector<std::string> out;
  msgpack::sbuffer buf(64);
  Packer pk(buf);
  switch (msg.type) {
    case RAFT_IO_REQUEST_VOTE: {
      const auto& v = msg.request_vote;
      pk.pack_array(7);
      pk.pack(static_cast<int>(RAFT_IO_REQUEST_VOTE));
      pk.pack(static_cast<uint64_t>(v.term));
      pk.pack(static_cast<uint64_t>(v.candidate_id));
      pk.pack(static_cast<uint64_t>(v.last_log_index));
      pk.pack(static_cast<uint64_t>(v.last_log_term));
      pk.pack(v.disrupt_leader);
      pk.pack(v.pre_vote);
      break;
    }
    case RAFT_IO_REQUEST_VOTE_RESULT: {
      const auto& v = msg.request_vote_result;
      pk.pack_array(4);
      pk.pack(static_cast<int>(RAFT_IO_REQUEST_VOTE_RESULT));
      pk.pack(static_cast<uint64_t>(v.term));
      pk.pack(v.vote_granted);
      pk.pack(static_cast<int>(v.pre_vote));
      break;
    }
    case RAFT_IO_APPEND_ENTRIES: {
      // Runs of entries of at most max_entry_bytes of data (at least one entry each).
      const auto& a = msg.append_entries;
      unsigned from = 0;
      raft_index prev_index = a.prev_log_index;
      raft_term prev_term = a.prev_log_term;
      do {
        unsigned to = from;
        size_t bytes = 0;
        while (to < a.n_entries && (to == from || bytes + a.entries[to].buf.len <= max_entry_bytes)) {
          bytes += a.entries[to].buf.len;
          ++to;
        }
        out.push_back(encode_append(a, prev_index, prev_term, a.entries + from, to - from));
        if (to > from) {
          prev_index += to - from;
          prev_term = a.entries[to - 1].term;
        }
        from = to;
      } while (from < a.n_entries);
      return out;
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT: {
      const auto& r = msg.append_entries_result;
      pk.pack_array(4);
      pk.pack(static_cast<int>(RAFT_IO_APPEND_ENTRIES_RESULT));
      pk.pack(static_cast<uint64_t>(r.term));
      pk.pack(static_cast<uint64_t>(r.rejected));
      pk.pack(static_cast<uint64_t>(r.last_log_index));
      break;
    }
    case RAFT_IO_INSTALL_SNAPSHOT: {
      const auto& s = msg.install_snapshot;
      pk.pack_array(7);
      pk.pack(static_cast<int>(RAFT_IO_INSTALL_SNAPSHOT));
      pk.pack(static_cast<uint64_t>(s.term));
      pk.pack(static_cast<uint64_t>(s.last_index));
      pk.pack(static_cast<uint64_t>(s.last_term));
      pack_configuration(pk, s.conf);
      pk.pack(static_cast<uint64_t>(s.conf_index));
      pack_bin(pk, s.data.base, s.data.len);
      break;
    }
    case RAFT_IO_TIMEOUT_NOW: {
      const auto& t = msg.timeout_now;
      pk.pack_array(4);
      pk.pack(static_cast<int>(RAFT_IO_TIMEOUT_NOW));
      pk.pack(static_cast<uint64_t>(t.term));
      pk.pack(static_cast<uint64_t>(t.last_log_index));
      pk.pack(static_cast<uint64_t>(t.last_log_term));
      break;
    }
    default:
      return out;
  }
  out.push_back(finish(buf));
  return out;
}

bool decode_rpc(std::string_view bytes, raft_message& msg, std::string& why) {
  std::memset(&msg, 0, sizeof msg);
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr,
                             msgpack::unpack_limit(1 << 20, 16, 1 << 30, 1 << 30, 1 << 20, 8));
  } catch (const std::exception& e) {
    why = std::string("not MessagePack: ") + e.what();
    return false;
  }
  const msgpack::object& o = handle.get();
  Fields f(o, "raft message", why);
  const auto type = f.uint<unsigned short>("type");
  if (!f.ok()) return false;
  msg.type = type;
  switch (type) {
    case RAFT_IO_REQUEST_VOTE: {
      Fields v(o, "request_vote", why);
      v.next("type");
      msg.request_vote.term = v.uint<raft_term>("term");
      msg.request_vote.candidate_id = v.uint<raft_id>("candidate_id");
      msg.request_vote.last_log_index = v.uint<raft_index>("last_log_index");
      msg.request_vote.last_log_term = v.uint<raft_index>("last_log_term");
      msg.request_vote.disrupt_leader = v.boolean("disrupt_leader");
      msg.request_vote.pre_vote = v.boolean("pre_vote");
      return v.ok();
    }
    case RAFT_IO_REQUEST_VOTE_RESULT: {
      Fields v(o, "request_vote_result", why);
      v.next("type");
      msg.request_vote_result.term = v.uint<raft_term>("term");
      msg.request_vote_result.vote_granted = v.boolean("vote_granted");
      msg.request_vote_result.pre_vote = static_cast<raft_tribool>(v.uint<int>("pre_vote", raft_tribool_false));
      return v.ok();
    }
    case RAFT_IO_APPEND_ENTRIES: {
      Fields a(o, "append_entries", why);
      a.next("type");
      msg.append_entries.term = a.uint<raft_term>("term");
      msg.append_entries.prev_log_index = a.uint<raft_index>("prev_log_index");
      msg.append_entries.prev_log_term = a.uint<raft_term>("prev_log_term");
      msg.append_entries.leader_commit = a.uint<raft_index>("leader_commit");
      const msgpack::object* entries = a.array("entries");
      if (!a.ok()) return false;
      return decode_entries(*entries, msg.append_entries, why);
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT: {
      Fields r(o, "append_entries_result", why);
      r.next("type");
      msg.append_entries_result.term = r.uint<raft_term>("term");
      msg.append_entries_result.rejected = r.uint<raft_index>("rejected");
      msg.append_entries_result.last_log_index = r.uint<raft_index>("last_log_index");
      return r.ok();
    }
    case RAFT_IO_INSTALL_SNAPSHOT: {
      Fields s(o, "install_snapshot", why);
      s.next("type");
      auto& is = msg.install_snapshot;
      is.term = s.uint<raft_term>("term");
      is.last_index = s.uint<raft_index>("last_index");
      is.last_term = s.uint<raft_term>("last_term");
      const msgpack::object* conf = s.array("conf");
      is.conf_index = s.uint<raft_index>("conf_index");
      const msgpack::object* data = s.bin("data");
      if (!s.ok()) return false;
      if (!decode_configuration(*conf, is.conf, why)) {
        raft_configuration_close(&is.conf);
        return false;
      }
      is.data.len = data->via.bin.size;
      is.data.base = raft_malloc(is.data.len > 0 ? is.data.len : 1);
      if (is.data.base == nullptr) {
        raft_configuration_close(&is.conf);
        why = "out of memory";
        return false;
      }
      std::memcpy(is.data.base, data->via.bin.ptr, is.data.len);
      return true;
    }
    case RAFT_IO_TIMEOUT_NOW: {
      Fields t(o, "timeout_now", why);
      t.next("type");
      msg.timeout_now.term = t.uint<raft_term>("term");
      msg.timeout_now.last_log_index = t.uint<raft_index>("last_log_index");
      msg.timeout_now.last_log_term = t.uint<raft_index>("last_log_term");
      return t.ok();
    }
    default:
      why = "raft message: unknown type " + std::to_string(type);
      return false;
  }
}

void free_rpc(raft_message& msg) {
  if (msg.type == RAFT_IO_APPEND_ENTRIES && msg.append_entries.entries != nullptr) {
    raft_free(msg.append_entries.entries[0].batch);
    raft_free(msg.append_entries.entries);
    msg.append_entries.entries = nullptr;
  } else if (msg.type == RAFT_IO_INSTALL_SNAPSHOT) {
    raft_configuration_close(&msg.install_snapshot.conf);
    raft_free(msg.install_snapshot.data.base);
    msg.install_snapshot.data.base = nullptr;
  }
}

std::string encode_probe(const Probe& p) {
  msgpack::sbuffer buf(16);
  Packer pk(buf);
  pk.pack_array(3);
  pk.pack(p.answer ? kProbeAnswer : kProbe);
  pk.pack(p.term);
  pk.pack(p.seq);
  return finish(buf);
}

bool decode_probe(std::string_view bytes, Probe& p) {
  // A probe is 3 to 21 bytes: the array's tag, the type code, then two unsigned integers.
  if (bytes.size() < 4 || bytes.size() > 21 || static_cast<unsigned char>(bytes[0]) != 0x93) return false;
  const auto code = static_cast<unsigned char>(bytes[1]);
  if (code != kProbe && code != kProbeAnswer) return false;
  try {
    msgpack::object_handle h = msgpack::unpack(bytes.data(), bytes.size());
    const msgpack::object& o = h.get();
    const msgpack::object* a = o.via.array.ptr;
    if (a[1].type != msgpack::type::POSITIVE_INTEGER || a[2].type != msgpack::type::POSITIVE_INTEGER) return false;
    p.answer = code == kProbeAnswer;
    p.term = a[1].via.u64;
    p.seq = a[2].via.u64;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace oly::consensus
