// The ZeroMQ transport over real sockets on 127.0.0.1: servers talk to each other by name, a
// client without a bind gets its replies through the server's ROUTER, notices are filtered by
// topic prefix, a peer that is down never blocks a sender, and a taken port is a clear error.
#include "common/zmq_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/process.h"

namespace oly {
namespace {

using testing::eventually;

std::string tcp(int port) {
  return "tcp://127.0.0.1:" + std::to_string(port);
}

// Options of a server that binds its ROUTER (and PUB, when given) at these addresses.
ZmqOptions server_at(const std::string& router, const std::string& pub = "") {
  ZmqOptions o;
  o.bind = router;
  o.pub_bind = pub;
  return o;
}

// Polls `t` until a frame for which `want` holds arrives (others are skipped), calling `poke`
// before each poll: ZeroMQ connects in the background, so a first frame may be dropped
// (drop_when_disconnected) and must be sent again until one gets through.
std::optional<Incoming> receive_matching(
    ZmqTransport& t, const std::function<bool(const Incoming&)>& want,
    const std::function<void()>& poke = [] {}) {
  std::optional<Incoming> got;
  eventually(
      [&] {
        poke();
        t.wait(ms(20));
        while (auto in = t.receive()) {
          if (want(*in)) {
            got = std::move(in);
            return true;
          }
        }
        return false;
      },
      ms(5000));
  return got;
}

std::function<bool(const Incoming&)> frame_is(const std::string& frame) {
  return [frame](const Incoming& in) { return in.frame == frame; };
}

TEST(ZmqTransport, TwoServersExchangeFramesBothWaysByName) {
  const auto ports = testing::free_ports(2);
  ZmqTransport a("fe1", server_at(tcp(ports[0])));
  ZmqTransport b("fe2", server_at(tcp(ports[1])));
  a.add_peer("fe2", tcp(ports[1]));
  b.add_peer("fe1", tcp(ports[0]));
  EXPECT_TRUE(a.knows("fe2"));
  EXPECT_FALSE(a.knows("fe3"));

  auto at_b = receive_matching(b, frame_is("a to b"), [&] { a.send("fe2", "a to b"); });
  ASSERT_TRUE(at_b.has_value());
  EXPECT_EQ(at_b->from, "fe1");
  EXPECT_FALSE(at_b->notice);

  auto at_a = receive_matching(a, frame_is("b to a"), [&] { b.send("fe1", "b to a"); });
  ASSERT_TRUE(at_a.has_value());
  EXPECT_EQ(at_a->from, "fe2");
}

// Two sockets with frames waiting: receive() takes a run of at most 32 from one before the
// other's turn, so a flood on one never starves the other (and an empty socket is not asked
// after every frame).
TEST(ZmqTransport, FramesWaitingOnTwoSocketsAreTakenInTurnsOfAtMost32) {
  const auto ports = testing::free_ports(2);
  ZmqTransport db("db", server_at(tcp(ports[0])));
  ZmqTransport fe2("fe2", server_at(tcp(ports[1])));
  ZmqTransport client("tablets", ZmqOptions{});
  db.add_peer("fe2", tcp(ports[1]));  // fe2's frames to "db" come back on this DEALER
  client.add_peer("db", tcp(ports[0]));  // the client's on db's ROUTER
  ASSERT_TRUE(receive_matching(fe2, frame_is("hello"), [&] { db.send("fe2", "hello"); }));
  ASSERT_TRUE(receive_matching(db, frame_is("c-ready"), [&] { client.send("db", "c-ready"); }));
  ASSERT_TRUE(receive_matching(db, frame_is("f-ready"), [&] { fe2.send("db", "f-ready"); }));
  // Ready frames sent more than once: drained until 100 ms pass with none.
  for (auto quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
       std::chrono::steady_clock::now() < quiet_until;) {
    db.wait(ms(20));
    while (db.receive()) quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  }
  for (int i = 0; i < 200; ++i) {
    client.send("db", "c");
    fe2.send("db", "f");
  }
  // Let all of them reach db's queues (ZeroMQ's I/O thread) before any is taken.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string order;
  testing::eventually(
      [&] {
        db.wait(ms(20));
        while (auto in = db.receive()) order += in->frame;
        return order.size() >= 400;
      },
      ms(5000));
  ASSERT_EQ(order.size(), 400u) << order.substr(0, 80);
  // Runs of one source while the other still had frames waiting: at most 32 long.
  const size_t last_c = order.rfind('c'), last_f = order.rfind('f');
  size_t run = 0, longest = 0;
  for (size_t i = 0; i < std::min(last_c, last_f); ++i) {
    run = i > 0 && order[i] == order[i - 1] ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 32u) << order;
  EXPECT_NE(order.substr(0, 64).find('c'), std::string::npos) << order;
  EXPECT_NE(order.substr(0, 64).find('f'), std::string::npos) << order;
}

// receive() asks only the sockets wait() announced or that were sent on: a frame arriving on a
// socket that said it had none must wake the next wait() at once, however sends and receives on
// the same socket interleave. The echo answers each frame twice, the second 3 ms later, and the
// sender sends its next frame 5 ms after the first answer: the late answer's signal is then
// taken by libzmq inside that send (it handles its commands there), and the next answer, behind
// the late one on the same pipe, brings no new signal. Each side waits up to 10 s, so one lost
// signal stalls a round trip for the whole wait.
TEST(ZmqTransport, EveryArrivingFrameWakesAWaitingLoop) {
  const auto ports = testing::free_ports(2);
  constexpr int kRounds = 300;
  ZmqTransport a("a", server_at(tcp(ports[0])));
  a.add_peer("b", tcp(ports[1]));
  std::atomic<bool> b_up{false};
  std::thread echo([&] {
    // No peer "a": b answers through its ROUTER, so the answers arrive on the DEALER a sends on.
    ZmqTransport b("b", server_at(tcp(ports[1])));
    b_up = true;
    int echoed = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (echoed < kRounds && std::chrono::steady_clock::now() < deadline) {
      b.wait(ms(10000));
      while (auto in = b.receive()) {
        if (in->frame == "ready?") {
          b.send("a", "ready");
          continue;
        }
        b.send("a", in->frame);
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        b.send("a", in->frame + "-late");
        ++echoed;
      }
    }
  });
  while (!b_up) std::this_thread::yield();
  ASSERT_TRUE(receive_matching(a, frame_is("ready"), [&] { a.send("b", "ready?"); }));
  int longest_ms = 0;
  for (int i = 0; i < kRounds; ++i) {
    const std::string want = std::to_string(i);
    a.send("b", want);
    const auto sent = std::chrono::steady_clock::now();
    bool got = false;
    while (!got && std::chrono::steady_clock::now() - sent < std::chrono::seconds(20)) {
      a.wait(ms(10000));
      while (auto in = a.receive()) got = got || in->frame == want;
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
    longest_ms = std::max(longest_ms, static_cast<int>(took.count()));
    if (!got) {
      ADD_FAILURE() << "round trip " << i << " never came back";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the late answer arrives meanwhile
  }
  echo.join();
  // A lost signal stalls a round trip for a whole 10 s wait; a busy machine, not for seconds.
  EXPECT_LT(longest_ms, 5000);
}

TEST(ZmqTransport, AClientWithoutABindGetsRepliesThroughTheServersRouter) {
  const auto ports = testing::free_ports(1);
  ZmqTransport server("db", server_at(tcp(ports[0])));
  ZmqTransport client("tablets", ZmqOptions{});
  client.add_peer("db", tcp(ports[0]));

  auto request =
      receive_matching(server, frame_is("request"), [&] { client.send("db", "request"); });
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->from, "tablets");

  server.send(request->from, "reply");  // "tablets" is not a peer of the server: via its ROUTER
  auto reply = receive_matching(client, frame_is("reply"));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->from, "db");
  EXPECT_FALSE(reply->notice);
}

TEST(ZmqTransport, NoticesReachSubscribersByTopicPrefix) {
  const auto ports = testing::free_ports(2);
  ZmqTransport server("fe1", server_at(tcp(ports[0]), tcp(ports[1])));
  ZmqTransport client("tablets", ZmqOptions{});
  client.add_peer("fe1", tcp(ports[0]), tcp(ports[1]));
  client.subscribe("fe1", "tablet/t1");

  // A subscription takes effect some time after the connection (the "slow joiner").
  auto first = receive_matching(client, frame_is("go to fe2"),
                                [&] { server.publish("tablet/t1", "go to fe2"); });
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->notice);
  EXPECT_EQ(first->from, "fe1");

  // Notices from one publisher arrive in order, so once the marker is in, anything that matched
  // before it would be in too.
  server.publish("tablet/t2", "not for t1");
  server.publish("score/Curling", "not for t1 either");
  server.publish("tablet/t10", "prefix match");
  server.publish("tablet/t1", "marker");
  std::vector<std::string> got;
  ASSERT_TRUE(receive_matching(client, [&](const Incoming& in) {
                if (in.frame != "go to fe2")
                  got.push_back(in.frame);  // (late copies of the first notice)
                return in.frame == "marker";
              }).has_value());
  EXPECT_EQ(got, (std::vector<std::string>{"prefix match", "marker"}));
}

TEST(ZmqTransport, SendingToAPeerThatIsDownNeitherBlocksNorThrows) {
  const auto ports = testing::free_ports(2);
  ZmqTransport a("fe1", server_at(tcp(ports[0])));
  a.add_peer("fe2", tcp(ports[1]));  // nobody listens there
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_NO_THROW(a.send("fe2", std::string(1000, 'x')));
  EXPECT_EQ(a.frames_dropped(), 1000u);            // dropped at once, not queued for later
  EXPECT_NO_THROW(a.send("no such client", "x"));  // unknown name, through the ROUTER
  // Not a speed figure: a blocking send would hang; this turns a hang into a failure.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));

  ZmqTransport client("tablets",
                      ZmqOptions{});  // no ROUTER: an unknown name is dropped and counted
  EXPECT_NO_THROW(client.send("nobody", "x"));
  EXPECT_EQ(client.frames_dropped(), 1u);
}

TEST(ZmqTransport, SendingToAPeerThatWentDownNeitherBlocksNorThrows) {
  const auto ports = testing::free_ports(2);
  ZmqTransport a("fe1", server_at(tcp(ports[0])));
  a.add_peer("fe2", tcp(ports[1]));
  {
    ZmqTransport b("fe2", server_at(tcp(ports[1])));
    ASSERT_TRUE(
        receive_matching(b, frame_is("hello"), [&] { a.send("fe2", "hello"); }).has_value());
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_NO_THROW(a.send("fe2", std::string(1000, 'x')));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));  // a hang guard, as above
}

// report_lost_peers: a peer whose sockets close (as its kernel does when its process dies) is
// reported once as lost; without the option nothing is.
TEST(ZmqTransport, APeerWhoseConnectionClosesIsReportedLostWhenAsked) {
  const auto ports = testing::free_ports(3);
  ZmqOptions watching = server_at(tcp(ports[0]));
  watching.report_lost_peers = true;
  ZmqTransport a("db1", watching);
  ZmqTransport quiet("db3", server_at(tcp(ports[2])));
  a.add_peer("db2", tcp(ports[1]));
  quiet.add_peer("db2", tcp(ports[1]));
  {
    ZmqTransport b("db2", server_at(tcp(ports[1])));
    ASSERT_TRUE(receive_matching(b, frame_is("from a"), [&] { a.send("db2", "from a"); }).has_value());
    ASSERT_TRUE(receive_matching(b, frame_is("from quiet"), [&] { quiet.send("db2", "from quiet"); }).has_value());
    // Nothing is lost while it is up.
    a.wait(ms(50));
    while (auto in = a.receive()) EXPECT_FALSE(in->lost) << in->from;
  }
  const auto lost = receive_matching(a, [](const Incoming& in) { return in.lost; });
  ASSERT_TRUE(lost.has_value()) << "db2's closed connection was not reported";
  EXPECT_EQ(lost->from, "db2");
  EXPECT_TRUE(lost->frame.empty());
  quiet.wait(ms(200));
  while (auto in = quiet.receive()) EXPECT_FALSE(in->lost) << "reported without report_lost_peers";
}

TEST(ZmqTransport, BindingATakenPortThrowsNamingTheAddress) {
  const auto ports = testing::free_ports(1);
  ZmqTransport first("fe1", server_at(tcp(ports[0])));
  try {
    ZmqTransport second("fe2", server_at(tcp(ports[0])));
    FAIL() << "bound a taken port";
  } catch (const std::runtime_error& e) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, tcp(ports[0]), e.what());
  }
  try {
    ZmqTransport bad("fe3", server_at("tcp://127.0.0.1:notaport"));
    FAIL() << "bound a bad address";
  } catch (const std::runtime_error& e) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "tcp://127.0.0.1:notaport", e.what());
  }
}

}  // namespace
}  // namespace oly
