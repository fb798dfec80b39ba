#include "verify/run_dir.h"

#include <fstream>
#include <iterator>

#include "common/codec.h"

namespace oly::verify {

std::optional<std::vector<std::string>> read_argv_file(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> argv;
  for (std::string line; std::getline(in, line);) argv.push_back(line);
  if (argv.empty()) return std::nullopt;
  return argv;
}

std::vector<AddedReplica> read_added_replicas(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<AddedReplica> out;
  for (AddedReplica r; in >> r.name >> r.address;) out.push_back(r);
  return out;
}

std::optional<Stats> read_stats_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string frame{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  Decoded d = decode(frame);
  if (!d.ok || !d.message.is<Stats>()) return std::nullopt;
  return d.message.as<Stats>();
}

}  // namespace oly::verify
