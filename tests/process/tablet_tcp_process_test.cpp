// A real front end's native TCP port for tablets (frontends[].tcp; docs/protocol.md, section 8):
// pipelined reads answered in order with the database's values, through the same cache as
// every other read; a frame that is not a valid message gets an error and the connection goes on; an
// oversized frame gets an error and its connection is closed; and many half-sent frames
// (slowloris) and garbage connections neither stop other clients' reads nor the front end. And the
// tablet simulator over TCP, notices included, keeps every guarantee the
// checker judges while the master is killed and comes back.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "common/codec.h"
#include "common/message.h"
#include "tabletnet/frames.h"
#include "tests/support/cluster.h"
#include "tests/support/frame_client.h"
#include "tests/support/http_client.h"
#include "tests/support/judge.h"

namespace oly::testing {
namespace {

using tabletnet::frame;

ProcessCluster tcp_cluster() {
  return ProcessCluster([](Config& c) {
    tolerate_descheduling(c);
    c.frontends[0].http = "127.0.0.1:" + std::to_string(free_ports(1).at(0));  // for /metrics
  });
}

int port_of(const std::string& host_port) { return std::stoi(host_port.substr(host_port.rfind(':') + 1)); }

std::string get_score(uint64_t req, const std::string& event) {
  return frame(encode(Message{req, GetScore{event, std::nullopt, "tcp-tablet", std::nullopt}}));
}

// The database's version of every event.
std::map<std::string, uint64_t> database_versions(ProcessCluster& cluster) {
  std::map<std::string, uint64_t> v;
  const auto reply = cluster.ask("db", GetScoreboard{});
  EXPECT_TRUE(reply && reply->is<Scoreboard>());
  if (reply && reply->is<Scoreboard>()) {
    for (const auto& s : reply->as<Scoreboard>().scores) v[s.event] = s.version;
  }
  return v;
}

class TabletTcp : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster.start_database());
    ASSERT_TRUE(cluster.start_frontend("fe1"));
    ASSERT_TRUE(cluster.start_frontend("fe2"));
    cluster.start_cacofonix({"--count", "60", "--rate", "200"});
    ASSERT_EQ(cluster.wait("cacofonix", ms(30000)), 0) << cluster.log_tail("cacofonix");
  }
  ProcessCluster cluster = tcp_cluster();
};

TEST_F(TabletTcp, PipelinedReadsAreAnsweredInOrderWithTheDatabasesValuesOnEveryFrontEnd) {
  const auto want = database_versions(cluster);
  const auto& events = cluster.config().events;
  for (const auto& fe : cluster.config().frontends) {
    FrameClient c(port_of(fe.tcp));
    std::string all;
    for (size_t i = 0; i < events.size(); ++i) all += get_score(100 + i, events[i]);
    c.write(all);  // every request in one write: pipelined
    for (size_t i = 0; i < events.size(); ++i) {
      const auto got = c.read_frame();
      ASSERT_TRUE(got) << fe.id << ": no answer to request " << i << "; " << cluster.log_tail(fe.id);
      const Decoded d = decode(*got);
      ASSERT_TRUE(d.ok) << d.error.text;
      EXPECT_EQ(d.message.req, 100 + i) << fe.id;
      ASSERT_TRUE(d.message.is<ScoreReply>()) << fe.id << ": " << op_name(d.message.body);
      EXPECT_EQ(d.message.as<ScoreReply>().score.event, events[i]);
      EXPECT_EQ(d.message.as<ScoreReply>().score.version, want.at(events[i])) << fe.id << " " << events[i];
    }
  }
  // Through the same cache as every read: the reads count among fe1's.
  const auto stats = cluster.ask("fe1", GetStats{});
  ASSERT_TRUE(stats && stats->is<Stats>());
  EXPECT_GE(stats->as<Stats>().counters.at("reads"), static_cast<int64_t>(events.size()));
  // The master's cache is written through: its hits were answered as the port read them.
  const HttpAnswer metrics = http_get(cluster.config().frontends[0].http, "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  const std::string name = "\noly_tcp_answered_on_the_spot_total{node=\"fe1\"} ";
  const auto at = metrics.body.find(name);
  ASSERT_NE(at, std::string::npos) << metrics.body;
  EXPECT_GE(std::stoll(metrics.body.substr(at + name.size())), static_cast<int64_t>(events.size()));
}

// docs/examples/tablet.py, the third-party client that docs/protocol.md (section 7) offers, written
// from the docs alone: it registers and reads over the TCP port, and reads what the database holds.
TEST_F(TabletTcp, ThePythonExampleFromTheProtocolDocsReads) {
  const auto want = database_versions(cluster);
  std::vector<std::string> argv = {"/usr/bin/python3", std::string(OLY_SOURCE_DIR) + "/docs/examples/tablet.py",
                                   "--tablet", "py-t1", "--event", "Curling", "--reads", "3", "--interval", "0.1"};
  for (const auto& fe : cluster.config().frontends) argv.push_back(fe.tcp);
  TempDir dir;
  const Finished run = run_to_end(argv, dir.file("tablet.py.out"), ms(30000));
  ASSERT_EQ(run.status, 0) << run.output;
  std::istringstream lines(run.output);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line)) << run.output;
  EXPECT_TRUE(line == "home fe1" || line == "home fe2") << run.output;
  int reads = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string event, fe;
    int64_t gauls = -1, romans = -1;
    uint64_t version = 0;
    ASSERT_TRUE(fields >> event >> gauls >> romans >> version >> fe) << line;
    EXPECT_EQ(event, "Curling");
    EXPECT_EQ(version, want.at("Curling")) << line;  // nothing is published meanwhile
    EXPECT_TRUE(fe == "fe1" || fe == "fe2") << line;
    ++reads;
  }
  EXPECT_EQ(reads, 3) << run.output;
  // The registration went through to the database's registry, with the home the tablet printed.
  const auto registry = cluster.ask("db", ListRegistry{});
  ASSERT_TRUE(registry && registry->is<Registry>());
  const auto& entries = registry->as<Registry>().entries;
  const auto it = std::find_if(entries.begin(), entries.end(), [](const RegistryEntry& e) { return e.tablet == "py-t1"; });
  ASSERT_NE(it, entries.end());
  EXPECT_EQ("home " + it->home, run.output.substr(0, run.output.find('\n')));
}

TEST_F(TabletTcp, AFrameThatIsNotAMessageGetsAnErrorAndTheConnectionGoesOn) {
  FrameClient c(port_of(cluster.config().frontends[0].tcp));
  c.write(frame("\xc1 not MessagePack") + get_score(7, cluster.config().events[0]));
  const auto bad = c.read_frame();
  ASSERT_TRUE(bad);
  const Decoded e = decode(*bad);
  ASSERT_TRUE(e.ok && e.message.is<Error>());
  EXPECT_EQ(e.message.as<Error>().code, ErrorCode::kMalformed);
  // Nothing of the bad bytes is echoed back.
  EXPECT_EQ(e.message.as<Error>().error.find("not MessagePack"), std::string::npos);
  const auto good = c.read_frame();
  ASSERT_TRUE(good);
  EXPECT_EQ(decode(*good).message.req, 7u);
  EXPECT_TRUE(decode(*good).message.is<ScoreReply>());
}

// A registration whose tablet id is not valid UTF-8, or is over the limit for a name, is refused
// (malformed, naming the field, echoing none of its bytes) and never stored: registrations of
// others on the same connection and the registry as the database lists it go on as before.
TEST_F(TabletTcp, ABadRegistrationIsRefusedNeverStoredAndTheRegistryServesEveryoneElse) {
  FrameClient c(port_of(cluster.config().frontends[0].tcp));
  const std::string not_utf8 = "tab\xff\xfelet", too_long(kMaxNameBytes + 1, 'x');
  c.write(frame(encode(Message{1, Register{not_utf8}})) + frame(encode(Message{2, Register{too_long}})) +
          frame(encode(Message{3, Register{"good-tablet"}})));
  std::map<uint64_t, Message> got;
  for (int i = 0; i < 3; ++i) {
    const auto f = c.read_frame();
    ASSERT_TRUE(f) << "answer " << i << " missing";
    Decoded d = decode(*f);
    ASSERT_TRUE(d.ok) << d.error.text;
    got[d.message.req] = std::move(d.message);
  }
  for (const uint64_t req : {1u, 2u}) {
    ASSERT_TRUE(got[req].is<Error>()) << req;
    EXPECT_EQ(got[req].as<Error>().code, ErrorCode::kMalformed);
    EXPECT_NE(got[req].as<Error>().error.find("field 'tablet'"), std::string::npos) << got[req].as<Error>().error;
  }
  EXPECT_EQ(got[1].as<Error>().error.find("\xff"), std::string::npos);
  EXPECT_EQ(got[2].as<Error>().error.find(too_long), std::string::npos);
  ASSERT_TRUE(got[3].is<Registered>()) << op_name(got[3].body);
  EXPECT_EQ(got[3].as<Registered>().tablet, "good-tablet");
  const auto registry = cluster.ask("db", ListRegistry{});
  ASSERT_TRUE(registry && registry->is<Registry>());
  bool good = false;
  for (const auto& e : registry->as<Registry>().entries) {
    EXPECT_NE(e.tablet, not_utf8);
    EXPECT_LE(e.tablet.size(), kMaxNameBytes);
    good = good || e.tablet == "good-tablet";
  }
  EXPECT_TRUE(good) << "the good registration is not in the registry";
}

TEST_F(TabletTcp, AnOversizedFrameGetsAnErrorAndItsConnectionIsClosed) {
  FrameClient c(port_of(cluster.config().frontends[0].tcp));
  c.write(std::string("\x7f\xff\xff\xff", 4));
  const auto got = c.read_frame();
  ASSERT_TRUE(got);
  const Decoded d = decode(*got);
  ASSERT_TRUE(d.ok && d.message.is<Error>());
  EXPECT_EQ(d.message.as<Error>().code, ErrorCode::kTooLarge);
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(cluster.ask("fe1", GetStats{}).has_value()) << "fe1 stopped answering";
}

TEST_F(TabletTcp, HalfSentFramesAndGarbageNeitherStopOtherClientsNorTheFrontEnd) {
  const int port = port_of(cluster.config().frontends[0].tcp);
  std::mt19937_64 rng(7);
  std::vector<std::unique_ptr<FrameClient>> hostile;
  for (int i = 0; i < 200; ++i) {
    hostile.push_back(std::make_unique<FrameClient>(port));
    if (i % 2 == 0) {
      hostile.back()->write(get_score(1, "Curling").substr(0, 3));  // a frame begun, never finished
    } else {
      std::string junk(1 + rng() % 200, '\0');
      for (auto& b : junk) b = static_cast<char>(rng());
      hostile.back()->write(junk);
    }
  }
  FrameClient good(port);
  for (uint64_t req = 1; req <= 20; ++req) {
    good.write(get_score(req, cluster.config().events[req % cluster.config().events.size()]));
    const auto got = good.read_frame();
    ASSERT_TRUE(got) << "read " << req << " unanswered beside the hostile connections; " << cluster.log_tail("fe1");
    EXPECT_EQ(decode(*got).message.req, req);
  }
  EXPECT_TRUE(cluster.ask("fe1", GetStats{}).has_value()) << "fe1 stopped answering";
  EXPECT_TRUE(cluster.child("fe1")->alive()) << cluster.log_tail("fe1");
}

// The counters of a stats file a client writes (common/shell.h write_stats_file).
std::map<std::string, int64_t> stats_file_counters(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const Decoded d = decode(bytes.str());
  if (!d.ok || !d.message.is<Stats>()) return {};
  return d.message.as<Stats>().counters;
}

TEST(TabletsOverTcp, KeepEveryGuaranteeAndFollowTheNoticesWhileTheMasterIsKilledAndComesBack) {
  ProcessCluster cluster([](Config& c) {
    tolerate_descheduling(c);
    c.tablets.read_interval_ms = 200;
  });
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  cluster.start_cacofonix({"--rate", "100", "--duration", "9"});
  cluster.start_tablets({"--count", "50", "--duration", "10"});
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  cluster.signal("fe1", SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_EQ(cluster.wait("cacofonix", ms(30000)), 0) << cluster.log_tail("cacofonix");
  ASSERT_EQ(cluster.wait("tablets", ms(30000)), 0) << cluster.log_tail("tablets");
  for (const char* fe : {"fe1", "fe2"}) {
    cluster.child(fe)->signal(SIGTERM);
    ASSERT_TRUE(cluster.child(fe)->wait(ms(5000)).has_value());
  }

  const JudgedRun run = judge_run(cluster.config());
  expect_data_guarantees(run.report);
  size_t ok = 0;
  for (const auto& r : run.records.reads) ok += r.outcome == "ok";
  EXPECT_GT(ok, 5000u);
  // The serving notices came over the tablets' TCP connections (there is no other way here):
  // the takeover's and the return's moved tablets.
  const auto tablets = stats_file_counters(cluster.run_file("tablets.stats"));
  EXPECT_GT(tablets.count("serving_notices") ? tablets.at("serving_notices") : 0, 1);
  EXPECT_GT(tablets.count("serving_moves") ? tablets.at("serving_moves") : 0, 0) << cluster.log_tail("tablets");
  // The kill closed fe1's connections: the reads sent to it until the notice came were retried on
  // fe2 as the connection's loss was seen, not at their timeouts.
  EXPECT_GT(tablets.count("lost") ? tablets.at("lost") : 0, 0) << cluster.log_tail("tablets");
}

}  // namespace
}  // namespace oly::testing
