#include "common/http_listen.h"

#include "common/servers_file.h"

namespace oly {

http::Options http_listen_options(const std::string& host_port, std::string server, bool http10) {
  const kv::HostPort hp = kv::parse_host_port(host_port);
  http::Options options;
  options.host = hp.host.starts_with('[') ? hp.host.substr(1, hp.host.size() - 2) : hp.host;
  options.port = hp.port;
  options.server = std::move(server);
  options.http10 = http10;
  return options;
}

}  // namespace oly
