// StringSink: what msgpack::packer writes into when the bytes go straight onto the end of a
// std::string (a frame being built), with no buffer to copy from.
//
// Thread-safety: as the string it holds.
#pragma once

#include <cstddef>
#include <string>

namespace oly {

struct StringSink {
  std::string& out;
  void write(const char* data, std::size_t size) { out.append(data, size); }
};

}  // namespace oly
