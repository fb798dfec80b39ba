// A real cluster with `security: curve` (issue 19, part 1): three replicas and two front ends
// whose every ZeroMQ link is CurveZMQ, each node with its own key from the run directory. What a
// hostile insider can reach is judged from outside, with clients holding various keys:
// - a key the cluster does not know, and a client without CURVE, get no answer at all;
// - only the publisher's key publishes: the operator's key, which may read and ask for stats, is
//   answered `unauthorised` when it sends an update, even with the right token;
// - nothing writes to the database without a front end's key, even with the current epoch;
// - replaying the bytes of a publisher's connection, captured on the wire, gains nothing: they
//   never show the token or the update, and sent again on a new connection they reach nothing;
// - a replica that joins later, with a key made after the others started, is let in by it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "common/cluster_curve.h"
#include "common/key_files.h"
#include "common/request.h"
#include "tests/support/cluster.h"

namespace oly {
namespace {

using testing::eventually;
using testing::ProcessCluster;

class SecurityCurve : public ::testing::Test {
 protected:
  SecurityCurve()
      : cluster_([](Config& c) {
          c.security = Security::kCurve;
          testing::replicate(c, 3);
          testing::tolerate_descheduling(c);
        }) {}

  void SetUp() override {
    ASSERT_TRUE(cluster_.start_database());
    ASSERT_TRUE(cluster_.start_frontend("fe1"));
    ASSERT_TRUE(cluster_.start_frontend("fe2"));
  }

  // CurveZMQ options for a client holding the key pair `keys`, knowing the cluster's servers.
  std::optional<CurveOptions> with(const CurveKeys& keys) const {
    return CurveOptions{keys, KeyRing::from_dir(keys_dir(cluster_.config()))};
  }
  CurveKeys key_of(KeyRole role, const std::string& name) const {
    return load_key_pair(keys_dir(cluster_.config()), role, name);
  }
  std::string address(const std::string& node) const {
    if (const auto* f = cluster_.config().frontend(node)) return f->address;
    return cluster_.config().replica(node)->address;
  }
  // One request to `node` from a client with `curve`; nullopt when nothing answers in `timeout`.
  std::optional<Message> ask(const std::optional<CurveOptions>& curve, const std::string& node, Body body,
                             Duration timeout = ms(2000)) const {
    return request_all({{node, address(node), std::move(body)}}, timeout, curve).front();
  }
  // What the operator reads at fe1.
  uint64_t version_at_fe1(const std::string& event) {
    GetScore read;
    read.event = event;
    const auto reply = cluster_.ask("fe1", read);
    if (!reply || !reply->is<ScoreReply>()) {
      ADD_FAILURE() << "fe1 did not answer the operator's read of " << event;
      return 0;
    }
    return reply->as<ScoreReply>().score.version;
  }
  // fe1's updates_received, asked with the operator's key.
  int64_t updates_received_at_fe1() {
    const auto reply = cluster_.ask("fe1", GetStats{});
    if (!reply || !reply->is<Stats>()) {
      ADD_FAILURE() << "fe1 did not answer stats";
      return -1;
    }
    const auto& c = reply->as<Stats>().counters;
    const auto it = c.find("updates_received");
    return it == c.end() ? 0 : it->second;
  }
  // Publishes with the publisher's key until fe1, once master, acknowledges.
  void publish_as_cacofonix(const SetScore& update) {
    const auto bard = with(key_of(KeyRole::kPublisher, "cacofonix"));
    const bool acked = eventually([&] {
      const auto reply = ask(bard, "fe1", update, ms(500));
      return reply && reply->is<Ack>();
    }, ms(10000));
    ASSERT_TRUE(acked) << "fe1 never acknowledged the publisher's update; its log:\n" << cluster_.log_tail("fe1");
  }

  ProcessCluster cluster_;
};

SetScore score(const std::string& event, int64_t gauls, int64_t romans, const std::string& publisher, uint64_t seq,
               std::optional<std::string> token, std::optional<uint64_t> epoch = std::nullopt) {
  return SetScore{event, gauls, romans, publisher, seq, std::move(token), epoch, {}};
}

TEST_F(SecurityCurve, AKeyThatIsNotTheClustersGetsNoAnswer) {
  GetScore read;
  read.event = "Curling";
  // The operator's key is answered (the cluster works, and a refusal below is the key's doing).
  const auto known = ask(with(key_of(KeyRole::kOperator, kOperatorName)), "fe1", read);
  ASSERT_TRUE(known && known->is<ScoreReply>());
  // A key of its own: its handshake is refused, nothing comes back from a front end or a replica.
  EXPECT_FALSE(ask(with(curve_keypair()), "fe1", read, ms(1000)));
  EXPECT_FALSE(ask(with(curve_keypair()), "db1", GetMaster{}, ms(1000)));
  // No CURVE at all: the same.
  EXPECT_FALSE(testing::request(address("fe1"), Message{1, read}, ms(1000)));
}

TEST_F(SecurityCurve, OnlyThePublishersKeyPublishes) {
  publish_as_cacofonix(score("Curling", 2, 1, "cacofonix-1", 1, "getafix"));
  EXPECT_EQ(version_at_fe1("Curling"), 1u);
  // The operator's key, with the right token: refused, and told why.
  const auto refused = ask(with(key_of(KeyRole::kOperator, kOperatorName)), "fe1",
                           score("Skating", 3, 1, "spy-1", 1, "getafix"));
  ASSERT_TRUE(refused && refused->is<Error>());
  EXPECT_EQ(refused->as<Error>().code, ErrorCode::kUnauthorised);
  EXPECT_NE(refused->as<Error>().error.find("'set_score'"), std::string::npos) << refused->as<Error>().error;
  EXPECT_NE(refused->as<Error>().error.find("operator key 'olympics'"), std::string::npos) << refused->as<Error>().error;
  // A key of its own, with the right token: nothing.
  EXPECT_FALSE(ask(with(curve_keypair()), "fe1", score("Skating", 4, 1, "spy-2", 1, "getafix"), ms(1000)));
  EXPECT_EQ(version_at_fe1("Skating"), 0u) << "an update from a key other than the publisher's was applied";
}

TEST_F(SecurityCurve, NothingWritesTheDatabaseWithoutAFrontEndsKey) {
  publish_as_cacofonix(score("Curling", 1, 0, "cacofonix-1", 1, "getafix"));
  const std::string leader = cluster_.db_leader();
  ASSERT_FALSE(leader.empty());
  const auto master = cluster_.ask(leader, GetMaster{});
  ASSERT_TRUE(master && master->is<MasterInfo>());
  const uint64_t epoch = master->as<MasterInfo>().epoch;
  ASSERT_GT(epoch, 0u);
  // The publisher's and the operator's keys, with the current epoch: refused by the leader.
  for (const auto& [role, name] : {std::pair{KeyRole::kPublisher, std::string("cacofonix")},
                                   std::pair{KeyRole::kOperator, std::string(kOperatorName)}}) {
    const auto reply = ask(with(key_of(role, name)), leader, score("Skiing", 9, 9, name + "-1", 1, std::nullopt, epoch));
    ASSERT_TRUE(reply && reply->is<Error>()) << name;
    EXPECT_EQ(reply->as<Error>().code, ErrorCode::kUnauthorised) << name;
  }
  // The master's own key writes (so the refusals above were the keys' doing, not the write's),
  // and its write is Skiing's first: none of the refused ones was applied.
  const auto written = ask(with(key_of(KeyRole::kFrontend, "fe1")), leader,
                           score("Skiing", 1, 2, "fe1-direct", 1, std::nullopt, epoch));
  ASSERT_TRUE(written && written->is<Ack>()) << (written && written->is<Error>() ? written->as<Error>().error : "no answer");
  EXPECT_EQ(written->as<Ack>().version, 1u) << "a write from a key other than a front end's was applied";
}

TEST_F(SecurityCurve, AReplicaThatJoinsLaterIsLetInByItsNewKey) {
  // db4's key is made after the others started (their key rings read it when db4 connects), and
  // db4 finds which replica listens at its --join address by the key that answers.
  ASSERT_TRUE(cluster_.join_replica("db4", "db2"));
  const bool voter = eventually([&] {
    const std::string leader = cluster_.db_leader();
    const auto m = leader.empty() ? std::nullopt : cluster_.ask(leader, GetMembers{}, ms(500));
    if (!m || !m->is<Members>()) return false;
    for (const auto& r : m->as<Members>().members) {
      if (r.id == "db4" && r.role == "voter") return true;
    }
    return false;
  }, ms(15000));
  ASSERT_TRUE(voter) << "db4 never became a voter; its log:\n" << cluster_.log_tail("db4");
  // And it serves with its key: the operator asks it.
  EXPECT_TRUE(cluster_.ask("db4", GetStats{}));
}

// Forwards one TCP connection at a time from a port of its own to `upstream_port`, keeping every
// byte the client sent.
class RecordingProxy {
 public:
  explicit RecordingProxy(int upstream_port) : upstream_(upstream_port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 4);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RecordingProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  int port() const { return port_; }
  std::string sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listen_, nullptr, nullptr);
      if (client < 0) continue;
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loopback(upstream_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) pump(client, server);
      ::close(server);
      ::close(client);
    }
  }
  void pump(int client, int server) {
    char buf[65536];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) return;
        if (i == 0) {
          std::lock_guard lock(mu_);
          sent_.append(buf, static_cast<size_t>(n));
        }
        if (::write(p[1 - i].fd, buf, static_cast<size_t>(n)) != n) return;
      }
    }
  }

  int upstream_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string sent_;
  std::thread thread_;
};

int port_of(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

TEST_F(SecurityCurve, ReplayingACapturedConnectionGainsNothing) {
  publish_as_cacofonix(score("Curling", 1, 0, "cacofonix-1", 1, "getafix"));
  RecordingProxy proxy(port_of(address("fe1")));
  // The publisher sends one update through the proxy (the spy's tap on the wire).
  const auto acked = request_all({{"fe1", "tcp://127.0.0.1:" + std::to_string(proxy.port()),
                                   score("Skating", 7, 5, "cacofonix-tapped", 1, "getafix")}},
                                 ms(3000), with(key_of(KeyRole::kPublisher, "cacofonix")))
                         .front();
  ASSERT_TRUE(acked && acked->is<Ack>());
  const std::string captured = proxy.sent();
  ASSERT_GT(captured.size(), 200u) << "the proxy saw no handshake";
  // Encrypted: neither the token nor the update shows on the wire.
  EXPECT_EQ(captured.find("getafix"), std::string::npos);
  EXPECT_EQ(captured.find("Skating"), std::string::npos);
  EXPECT_EQ(captured.find("cacofonix-tapped"), std::string::npos);
  const uint64_t version = version_at_fe1("Skating");
  EXPECT_EQ(version, 1u);
  const int64_t received = updates_received_at_fe1();
  // The spy sends the captured bytes again, twice, each time on a new connection to fe1.
  for (int i = 0; i < 2; ++i) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = RecordingProxy::loopback(port_of(address("fe1")));
    ASSERT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::write(s, captured.data(), captured.size()), static_cast<ssize_t>(captured.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::close(s);
  }
  // A plain cluster would have taken the frame again (updates_received + 1, answered as a
  // duplicate); this one never got past the handshake.
  EXPECT_EQ(updates_received_at_fe1(), received);
  EXPECT_EQ(version_at_fe1("Skating"), version);
}

}  // namespace
}  // namespace oly
