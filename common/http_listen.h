// Where a process's HTTP server listens, from a config address (shell library).
#pragma once

#include <string>

#include "http/server.h"

namespace oly {

// The http::Options that listen on `host_port` ("127.0.0.1:8101", "[::1]:8101"; config validation
// has checked its form), sending `server` as the Server header; `http10` as http::Options says.
http::Options http_listen_options(const std::string& host_port, std::string server, bool http10);

}  // namespace oly
