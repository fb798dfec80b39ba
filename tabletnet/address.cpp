#include "tabletnet/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>

namespace oly::tabletnet {

std::optional<sockaddr_in> ipv4_address(const std::string& host_port, bool any_port, std::string& why) {
  const auto colon = host_port.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const char* first = host_port.data() + colon + 1;
    const char* last = host_port.data() + host_port.size();
    if (std::from_chars(first, last, port).ptr != last) port = -1;
  }
  if (colon == std::string::npos || port < (any_port ? 0 : 1) || port > 65535) {
    why = "expected host:port, got '" + host_port + "'";
    return std::nullopt;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  const std::string host = host_port.substr(0, colon);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1) return a;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    why = "no IPv4 address for '" + host + "'";
    return std::nullopt;
  }
  a.sin_addr = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
  ::freeaddrinfo(found);
  return a;
}

}  // namespace oly::tabletnet
