// Server lists of the key-value store: one `host:port` entry, the comma-separated list of
// `kv -h`, and the `servers.txt` file (docs/kvstore.md, "Start-up").
//
// An entry is `host:port`: host non-empty (a name, an IPv4 address, or an IPv6 address in
// brackets: `[::1]:8101`), without whitespace, control characters or any of `/ ? # @ [ ]`
// outside the brackets; port a decimal number 1-65535. Every parser here throws
// std::invalid_argument whose message names the bad entry (and the file, for a file).
//
// servers.txt: entries separated by spaces, tabs or newlines, in order (the first is the replica
// of that directory, the others the rest of the tier); blank lines and extra spaces are fine. A
// line whose first non-blank character is `#` is a comment and ignored; a `#` anywhere else is
// part of an entry and so makes it invalid.
//
// Thread-safety: pure functions (read_servers_file reads the file once).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace oly::kv {

struct HostPort {
  std::string host;  // as written, brackets of an IPv6 address included
  int port = 0;      // 1-65535

  std::string str() const { return host + ":" + std::to_string(port); }
};

// Parses one entry. Throws std::invalid_argument naming `entry` when it is not `host:port`.
HostPort parse_host_port(std::string_view entry);

// Parses a comma-separated list (`a:1,b:2`; spaces around entries are ignored). Throws
// std::invalid_argument on a bad or empty entry, or when the list has no entry at all.
std::vector<std::string> parse_server_list(std::string_view list);

// Parses the text of a servers file (format above); `name` is used in error messages only.
// Throws std::invalid_argument on a bad entry or when there is no entry.
std::vector<std::string> parse_servers_text(std::string_view text, const std::string& name);

// Reads and parses the servers file at `path`. Throws std::invalid_argument naming `path` when
// it is missing, unreadable, empty (no entry) or has a bad entry.
std::vector<std::string> read_servers_file(const std::string& path);

}  // namespace oly::kv
