#include "common/servers_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace oly::kv {

namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void bad(std::string_view entry, const std::string& why) {
  throw std::invalid_argument("bad server '" + std::string(entry) + "': " + why + " (expected host:port)");
}

// Characters that would change the meaning of the URL built from the host, or that no host has.
bool bad_host_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7F || c == '/' || c == '?' || c == '#' || c == '@' || c == '[' || c == ']' ||
         c == '\\' || c == '%';
}

}  // namespace

HostPort parse_host_port(std::string_view entry) {
  const size_t colon = entry.rfind(':');
  if (colon == std::string_view::npos) bad(entry, "no port");
  const std::string_view host = entry.substr(0, colon), port = entry.substr(colon + 1);
  if (host.empty()) bad(entry, "empty host");
  if (host.front() == '[') {
    // An IPv6 address: hex digits, ':' and '.' (an embedded IPv4) inside the brackets.
    if (host.size() < 3 || host.back() != ']') bad(entry, "unclosed '[' in host");
    for (char c : host.substr(1, host.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
      if (!ok) bad(entry, "bad IPv6 address");
    }
  } else {
    for (char c : host) {
      if (c == ':') bad(entry, "an IPv6 address must be in brackets");
      if (bad_host_char(c)) bad(entry, "bad character in host");
    }
  }
  if (port.empty()) bad(entry, "empty port");
  if (port.size() > 5) bad(entry, "port out of range 1-65535");
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') bad(entry, "port is not a number");
    p = p * 10 + (c - '0');
  }
  if (p < 1 || p > 65535) bad(entry, "port out of range 1-65535");
  return HostPort{std::string(host), p};
}

std::vector<std::string> parse_server_list(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string_view entry = trim(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (entry.empty()) {
      throw std::invalid_argument("bad server list '" + std::string(list) + "': empty entry (expected host:port,host:port,...)");
    }
    out.push_back(parse_host_port(entry).str());
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> parse_servers_text(std::string_view text, const std::string& name) {
  std::vector<std::string> out;
  int line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t nl = text.find('\n', start);
    const std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    ++line_no;
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (const std::string_view t = trim(line); t.empty() || t.front() == '#') continue;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && blank(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !blank(line[j])) ++j;
      if (j > i) {
        try {
          out.push_back(parse_host_port(line.substr(i, j - i)).str());
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(name + ":" + std::to_string(line_no) + ": " + e.what());
        }
      }
      i = j;
    }
  }
  if (out.empty()) throw std::invalid_argument(name + ": no server in the file (expected host:port entries)");
  return out;
}

std::vector<std::string> read_servers_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read servers file " + path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) throw std::invalid_argument("cannot read servers file " + path);
  return parse_servers_text(s.str(), path);
}

}  // namespace oly::kv
