// The IPv4 socket address of a "host:port" (a name is resolved), for the tablet port's server and
// client alike.
//
// Thread-safety: a pure function (getaddrinfo is thread-safe).
#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>

namespace oly::tabletnet {

// `host_port` as an IPv4 address; nullopt with `why` set ("expected host:port, got '...'" or
// "no IPv4 address for '<host>'") when it is not one. Port 0 is accepted only with `any_port`
// (a server asking the kernel for a free port).
std::optional<sockaddr_in> ipv4_address(const std::string& host_port, bool any_port, std::string& why);

}  // namespace oly::tabletnet
