#include "database/command.h"

#include <msgpack.hpp>
#include <type_traits>

namespace oly::database {
namespace {

constexpr uint64_t kFormatVersion = 1;

using Packer = msgpack::packer<msgpack::sbuffer>;

// Every field is packed, an absent optional as nil, so a command's map always has the same keys.
// visit() is non-const so that one field list serves both directions; packing only reads.
template <class C>
void pack_command(Packer& pk, const C& c) {
  uint32_t fields = 0;
  const_cast<C&>(c).visit([&](const char*, const auto&) { ++fields; });
  pk.pack_array(2);
  pk.pack(C::kOp);
  pk.pack_map(fields);
  const_cast<C&>(c).visit([&](const char* name, const auto& field) {
    pk.pack(name);
    pk.pack(field);
  });
}

// The value of `name` in map `o`, or nullptr.
const msgpack::object* find(const msgpack::object& o, std::string_view name) {
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object& key = o.via.map.ptr[i].key;
    if (key.type == msgpack::type::STR &&
        std::string_view(key.via.str.ptr, key.via.str.size) == name)
      return &o.via.map.ptr[i].val;
  }
  return nullptr;
}

template <class T> constexpr bool is_optional = false;
template <class T> constexpr bool is_optional<std::optional<T>> = true;

// Reads command C's fields from map `o`; an error text, empty when all went well. msgpack-c's
// conversions check types and integer ranges (throwing type_error).
template <class C>
std::string read_fields(const msgpack::object& o, C& c) {
  if (o.type != msgpack::type::MAP) return "expected a map of fields";
  std::string why;
  c.visit([&](const char* name, auto& field) {
    if (!why.empty()) return;
    const msgpack::object* v = find(o, name);
    if (v == nullptr) {
      // An optional field added later (SetScore's written_at_us) is absent from what was written
      // before it: nil, as packed.
      if constexpr (is_optional<std::decay_t<decltype(field)>>) return;
      why = std::string("missing field '") + name + "'";
      return;
    }
    try {
      v->convert(field);
    } catch (const msgpack::type_error&) {
      why = std::string("field '") + name + "': wrong type or out of range";
    }
  });
  return why;
}

// Decodes the command named `op` with fields `o` into `out`, walking Command's alternatives.
template <std::size_t I = 0>
std::string read_command(std::string_view op, const msgpack::object& o, Command& out) {
  if constexpr (I == std::variant_size_v<Command>) {
    return "unknown op '" + std::string(op.substr(0, 64)) + "'";
  } else {
    using C = std::variant_alternative_t<I, Command>;
    if (C::kOp != op) return read_command<I + 1>(op, o, out);
    C c;
    std::string why = read_fields(o, c);
    if (why.empty()) out = std::move(c);
    return why;
  }
}

}  // namespace

std::string encode_batch(const CommandBatch& batch) {
  msgpack::sbuffer buf(256);
  Packer pk(buf);
  pk.pack_map(2);
  pk.pack("version");
  pk.pack(kFormatVersion);
  pk.pack("commands");
  pk.pack_array(static_cast<uint32_t>(batch.size()));
  for (const auto& command : batch)
    std::visit([&](const auto& c) { pack_command(pk, c); }, command);
  return std::string(buf.data(), buf.size());
}

DecodedBatch decode_batch(std::string_view bytes) {
  DecodedBatch d;
  msgpack::object_handle oh;
  try {
    // Limits bound what corrupt bytes can make us allocate (elements and nesting depth).
    std::size_t off = 0;
    oh = msgpack::unpack(bytes.data(), bytes.size(), off, nullptr, nullptr,
                         msgpack::unpack_limit(65536, 65536, bytes.size(), bytes.size(), 1024, 8));
    if (off != bytes.size()) {
      d.error = "trailing bytes after the batch";
      return d;
    }
  } catch (const std::exception& e) {
    d.error = std::string("not a MessagePack value: ") + e.what();
    return d;
  }
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::MAP) {
    d.error = "expected a map";
    return d;
  }
  const msgpack::object* version = find(o, "version");
  if (version == nullptr || version->type != msgpack::type::POSITIVE_INTEGER ||
      version->via.u64 != kFormatVersion) {
    d.error = "expected version " + std::to_string(kFormatVersion);
    return d;
  }
  const msgpack::object* commands = find(o, "commands");
  if (commands == nullptr || commands->type != msgpack::type::ARRAY) {
    d.error = "expected an array of commands";
    return d;
  }
  d.batch.resize(commands->via.array.size);
  for (uint32_t i = 0; i < commands->via.array.size; ++i) {
    const msgpack::object& c = commands->via.array.ptr[i];
    std::string why;
    if (c.type != msgpack::type::ARRAY || c.via.array.size != 2 ||
        c.via.array.ptr[0].type != msgpack::type::STR) {
      why = ": expected [op, fields]";
    } else {
      const msgpack::object& op = c.via.array.ptr[0];
      const std::string_view name(op.via.str.ptr, op.via.str.size);
      why = read_command(name, c.via.array.ptr[1], d.batch[i]);
      if (!why.empty()) why = " (" + std::string(name.substr(0, 64)) + "): " + why;
    }
    if (!why.empty()) {
      d.batch.clear();
      d.error = "command " + std::to_string(i) + why;
      return d;
    }
  }
  return d;
}

}  // namespace oly::database
