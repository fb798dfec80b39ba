#include "olympics/nodes.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <set>
#include <stdexcept>
#include <sstream>
#include <utility>

namespace oly::olympics {

namespace {
// The binary and the description of each NodeKind, in the enum's order.
constexpr std::pair<const char*, const char*> kKindNames[] = {{"database", "database"},
                                                              {"frontend", "frontend"},
                                                              {"cacofonix", "publisher"},
                                                              {"tablet", "tablets"}};
}  // namespace

const char* binary_name(NodeKind k) {
  return kKindNames[static_cast<size_t>(k)].first;
}
const char* kind_name(NodeKind k) {
  return kKindNames[static_cast<size_t>(k)].second;
}

std::vector<NodeSpec> cluster_nodes(const Config& c) {
  std::vector<NodeSpec> nodes;
  auto present = [](std::initializer_list<std::string> addresses) {
    std::vector<std::string> out;
    for (const auto& a : addresses) {
      if (!a.empty()) out.push_back(a);
    }
    return out;
  };
  for (const auto& d : c.database_nodes()) {
    const std::string metrics = c.replicated() ? d.metrics : c.database.metrics;
    nodes.push_back({d.id, NodeKind::kDatabase, d.address, "", present({d.http, metrics})});
  }
  for (const auto& f : c.frontends) nodes.push_back({f.id, NodeKind::kFrontend, f.address, f.pub, present({f.http, f.tcp})});
  nodes.push_back({kCacofonixNode, NodeKind::kCacofonix, "", "", present({c.cacofonix.metrics})});
  nodes.push_back({kTabletsNode, NodeKind::kTablets, "", "", {}});
  return nodes;
}

std::vector<std::string> node_argv(const NodeSpec& node, const LaunchOptions& o) {
  std::vector<std::string> argv = {
      (std::filesystem::path(o.bin_dir) / binary_name(node.kind)).string()};
  if (node.kind == NodeKind::kFrontend || (node.kind == NodeKind::kDatabase && o.replicated)) {
    argv.insert(argv.end(), {"--id", node.name});
  }
  argv.insert(argv.end(), {"--config", o.config_path, "--run-dir", o.run_dir});
  if (o.log_level) argv.insert(argv.end(), {"--log-level", *o.log_level});
  switch (node.kind) {
    case NodeKind::kFrontend:
      if (o.consistency) argv.insert(argv.end(), {"--consistency", *o.consistency});
      if (!o.traitor.empty() && node.name == o.traitor) argv.insert(argv.end(), {"--traitor", o.strategy});
      break;
    case NodeKind::kCacofonix:
      if (o.rate) {
        std::ostringstream rate;
        rate << *o.rate;  // shortest form: 20, 2.5
        argv.insert(argv.end(), {"--rate", rate.str()});
      }
      break;
    case NodeKind::kTablets:
      if (o.tablets) argv.insert(argv.end(), {"--count", std::to_string(*o.tablets)});
      break;
    case NodeKind::kDatabase:
      break;
  }
  return argv;
}

std::optional<TcpEndpoint> parse_tcp_endpoint(const std::string& address) {
  const std::string scheme = "tcp://";
  if (address.rfind(scheme, 0) != 0) return std::nullopt;
  const std::string rest = address.substr(scheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
  std::string host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  for (char ch : rest.substr(colon + 1)) {
    if (ch < '0' || ch > '9' || port > 65535) return std::nullopt;
    port = port * 10 + (ch - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return TcpEndpoint{host, port};
}

bool tcp_port_in_use(const TcpEndpoint& e) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const char* host = (e.host == "*" || e.host.empty()) ? nullptr : e.host.c_str();
  if (::getaddrinfo(host, std::to_string(e.port).c_str(), &hints, &found) != 0) return false;
  bool in_use = false;
  for (addrinfo* a = found; a != nullptr && !in_use; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 && errno == EADDRINUSE) in_use = true;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return in_use;
}

std::optional<PortConflict> find_port_conflict(const std::vector<NodeSpec>& nodes,
                                               const PortProbe& in_use) {
  for (const auto& n : nodes) {
    std::vector<std::string> addresses = {n.address, n.pub};
    for (const auto& h : n.http) addresses.push_back("tcp://" + h);
    for (const std::string& address : addresses) {
      const auto e = parse_tcp_endpoint(address);
      if (e && in_use(*e)) return PortConflict{n.name, address};
    }
  }
  return std::nullopt;
}

FreePorts::FreePorts(PortProbe in_use) : in_use_(std::move(in_use)) {
  std::random_device seed;
  rng_.seed(seed() ^ static_cast<unsigned>(::getpid()));
}

std::string FreePorts::next() {
  std::uniform_int_distribution<int> pick(20000, 32767);
  for (int tries = 0; tries < 10000; ++tries) {
    const int p = pick(rng_);
    if (taken_.count(p) || in_use_(TcpEndpoint{"127.0.0.1", p})) continue;
    taken_.insert(p);
    return "tcp://127.0.0.1:" + std::to_string(p);
  }
  throw std::runtime_error("no free port found on 127.0.0.1 in 20000-32767");
}

Config with_free_ports(Config c, const PortProbe& in_use) {
  FreePorts ports(in_use);
  c.database.address = ports.next();
  for (auto& r : c.database.replicas) {
    r.address = ports.next();
    if (!r.http.empty()) r.http = ports.next().substr(6);  // host:port, without tcp://
    if (!r.metrics.empty()) r.metrics = ports.next().substr(6);
  }
  for (auto& f : c.frontends) {
    f.address = ports.next();
    f.pub = ports.next();
    if (!f.http.empty()) f.http = ports.next().substr(6);
    if (!f.tcp.empty()) f.tcp = ports.next().substr(6);
  }
  if (!c.database.metrics.empty()) c.database.metrics = ports.next().substr(6);
  if (!c.cacofonix.metrics.empty()) c.cacofonix.metrics = ports.next().substr(6);
  return c;
}

}  // namespace oly::olympics
