// The cluster tool's view of a config: nodes in start order, their command lines, their files,
// and which listening address conflicts.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "olympics/nodes.h"

#include <set>

namespace oly::olympics {
namespace {

LaunchOptions launch() {
  LaunchOptions o;
  o.bin_dir = "/opt/oly/bin";
  o.config_path = "/etc/oly/cluster.yaml";
  o.run_dir = "/var/run/oly";
  return o;
}

TEST(ClusterNodes, StartInOrderDatabaseFrontEndsThenClients) {
  const auto nodes = cluster_nodes(Config{});
  std::vector<std::string> names;
  for (const auto& n : nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"db", "fe1", "fe2", "cacofonix", "tablets"}));
  EXPECT_EQ(nodes[0].address, Config{}.database.address);
  EXPECT_EQ(nodes[2].pub, Config{}.frontends[1].pub);
  EXPECT_TRUE(is_server(nodes[1].kind));
  EXPECT_FALSE(is_server(nodes[3].kind));
  EXPECT_EQ(nodes[3].address, "");
}

TEST(NodeArgv, OnlyTheTraitorGetsItsStrategy) {
  LaunchOptions o = launch();
  o.traitor = "fe3";
  o.strategy = "equivocate";
  const NodeSpec fe3{"fe3", NodeKind::kFrontend, "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113"};
  const NodeSpec fe2{"fe2", NodeKind::kFrontend, "tcp://127.0.0.1:7102", "tcp://127.0.0.1:7112"};
  const auto argv = node_argv(fe3, o);
  ASSERT_GE(argv.size(), 2u);
  EXPECT_EQ(std::vector<std::string>(argv.end() - 2, argv.end()), (std::vector<std::string>{"--traitor", "equivocate"}));
  const auto loyal = node_argv(fe2, o);
  EXPECT_EQ(std::find(loyal.begin(), loyal.end(), "--traitor"), loyal.end());
}

TEST(NodeArgv, FrontEndGetsItsIdTheConfigAndTheRunDirectory) {
  const NodeSpec fe{"fe2", NodeKind::kFrontend, "tcp://127.0.0.1:7102", "tcp://127.0.0.1:7112"};
  EXPECT_EQ(node_argv(fe, launch()),
            (std::vector<std::string>{"/opt/oly/bin/frontend", "--id", "fe2", "--config",
                                      "/etc/oly/cluster.yaml", "--run-dir", "/var/run/oly"}));
}

TEST(NodeArgv, OptionsGoOnlyToTheNodesTheyConcern) {
  LaunchOptions o = launch();
  o.consistency = "pull";
  o.rate = 2.5;
  o.tablets = 100;
  const auto db = node_argv({"db", NodeKind::kDatabase, "tcp://127.0.0.1:7100", ""}, o);
  EXPECT_EQ(db, (std::vector<std::string>{"/opt/oly/bin/database", "--config",
                                          "/etc/oly/cluster.yaml", "--run-dir", "/var/run/oly"}));
  const auto fe = node_argv({"fe1", NodeKind::kFrontend, "a", "p"}, o);
  EXPECT_EQ(std::vector<std::string>(fe.end() - 2, fe.end()),
            (std::vector<std::string>{"--consistency", "pull"}));
  const auto caco = node_argv({"cacofonix", NodeKind::kCacofonix, "", ""}, o);
  EXPECT_EQ(caco.front(), "/opt/oly/bin/cacofonix");
  EXPECT_EQ(std::vector<std::string>(caco.end() - 2, caco.end()),
            (std::vector<std::string>{"--rate", "2.5"}));
  const auto tab = node_argv({"tablets", NodeKind::kTablets, "", ""}, o);
  EXPECT_EQ(tab.front(), "/opt/oly/bin/tablet");
  EXPECT_EQ(std::vector<std::string>(tab.end() - 2, tab.end()),
            (std::vector<std::string>{"--count", "100"}));
}

TEST(NodeArgv, WholeRatesAreWrittenWithoutDecimals) {
  LaunchOptions o = launch();
  o.rate = 20;
  EXPECT_EQ(node_argv({"cacofonix", NodeKind::kCacofonix, "", ""}, o).back(), "20");
}

TEST(RunLayout, FilesOfANodeLiveUnderTheRunDirectory) {
  const RunLayout l{"/r"};
  EXPECT_EQ(l.pid_file("fe1"), "/r/pids/fe1.pid");
  EXPECT_EQ(l.cmd_file("fe1"), "/r/pids/fe1.cmd");
  EXPECT_EQ(l.log_file("fe1"), "/r/fe1.log");
  EXPECT_EQ(l.stats_file("tablets"), "/r/tablets.stats");
}

TEST(ParseTcpEndpoint, ReadsHostAndPort) {
  const auto e = parse_tcp_endpoint("tcp://127.0.0.1:7100");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 7100);
  EXPECT_EQ(parse_tcp_endpoint("tcp://*:80")->host, "*");
  EXPECT_EQ(parse_tcp_endpoint("tcp://[::1]:9000")->host, "::1");
}

TEST(ParseTcpEndpoint, RejectsOtherTransportsAndBadPorts) {
  EXPECT_FALSE(parse_tcp_endpoint("ipc:///tmp/x"));
  EXPECT_FALSE(parse_tcp_endpoint("tcp://127.0.0.1"));
  EXPECT_FALSE(parse_tcp_endpoint("tcp://127.0.0.1:"));
  EXPECT_FALSE(parse_tcp_endpoint("tcp://127.0.0.1:http"));
  EXPECT_FALSE(parse_tcp_endpoint("tcp://127.0.0.1:0"));
  EXPECT_FALSE(parse_tcp_endpoint("tcp://127.0.0.1:70000"));
  EXPECT_FALSE(parse_tcp_endpoint("tcp://:7100"));
}

TEST(FindPortConflict, NamesTheFirstServerWhosePortIsTaken) {
  const auto nodes = cluster_nodes(Config{});
  const auto taken = [](int port) {
    return [port](const TcpEndpoint& e) { return e.port == port; };
  };
  EXPECT_FALSE(find_port_conflict(nodes, [](const TcpEndpoint&) { return false; }));
  auto c = find_port_conflict(nodes, taken(7112));  // fe2's pub
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node, "fe2");
  EXPECT_EQ(c->address, "tcp://127.0.0.1:7112");
  c = find_port_conflict(nodes, [](const TcpEndpoint&) { return true; });
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node, "db");
}

TEST(FindPortConflict, ClientsHaveNoPortsToCheck) {
  std::vector<TcpEndpoint> probed;
  find_port_conflict(cluster_nodes(Config{}), [&](const TcpEndpoint& e) {
    probed.push_back(e);
    return false;
  });
  EXPECT_EQ(probed.size(), 7u);  // database, and address, pub and tablets' tcp of two front ends
}

TEST(FindPortConflict, ChecksHttpAndMetricsPortsToo) {
  Config c;
  c.frontends[1].http = "127.0.0.1:8102";
  c.database.metrics = "127.0.0.1:9100";
  c.cacofonix.metrics = "127.0.0.1:9130";
  for (const auto& [port, node] : std::vector<std::pair<int, std::string>>{{8102, "fe2"}, {9100, "db"}, {9130, "cacofonix"}}) {
    const auto conflict = find_port_conflict(cluster_nodes(c), [port](const TcpEndpoint& e) { return e.port == port; });
    ASSERT_TRUE(conflict) << port;
    EXPECT_EQ(conflict->node, node);
    EXPECT_EQ(conflict->address, "tcp://127.0.0.1:" + std::to_string(port));
  }
}

TEST(FreePorts, EveryServerMovesToADistinctLoopbackPortThatTheProbeFoundFree) {
  std::set<int> refused;
  std::map<int, bool> answered;  // a port is taken or free, whenever it is probed again
  int probes = 0;
  const auto probe = [&](const TcpEndpoint& e) {
    ++probes;
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_GE(e.port, 20000);
    EXPECT_LE(e.port, 32767);
    if (auto it = answered.find(e.port); it != answered.end()) return it->second;
    const bool taken = answered.size() % 2 == 0;  // every other new port is "taken"
    answered[e.port] = taken;
    if (taken) refused.insert(e.port);
    return taken;
  };
  const Config c = with_free_ports(Config{}, probe);
  std::set<std::string> used;
  for (const std::string& a : {c.database.address, c.frontends[0].address, c.frontends[0].pub,
                               "tcp://" + c.frontends[0].tcp, c.frontends[1].address, c.frontends[1].pub,
                               "tcp://" + c.frontends[1].tcp}) {
    const auto e = parse_tcp_endpoint(a);
    ASSERT_TRUE(e.has_value()) << a;
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(refused.count(e->port), 0u) << a << " was reported taken";
    used.insert(a);
  }
  EXPECT_EQ(used.size(), 7u);
  // Each new port probed once taken and once free: 14, and more only when the random pick came
  // back to a port found taken (which must then still be refused, as above).
  EXPECT_GE(probes, 14);
  EXPECT_EQ(answered.size(), 14u);
}

TEST(FreePorts, NoFreePortIsAnErrorNotALoop) {
  EXPECT_THROW(with_free_ports(Config{}, [](const TcpEndpoint&) { return true; }),
               std::runtime_error);
}

}  // namespace
}  // namespace oly::olympics
