// The tablets' native TCP port (tabletnet/server.h) on real loopback sockets, without a front end:
// frames in become the core's messages from "tcp/<n>" in order and its answers go back in order;
// what protects the loop (an oversized or empty frame: an error frame and the connection closed;
// pending requests capped; a client that does not read cut off; idle connections closed, on a
// virtual clock; a connection limit); answers to a closed connection dropped and connection
// numbers never reused; random bytes from many clients never crash the server nor pass a frame
// over the limit; a shortcut's answers (cache hits) go out at once, never ahead of an earlier
// request's.
#include "tabletnet/server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/codec.h"
#include "common/message.h"
#include "tabletnet/client.h"
#include "tabletnet/frames.h"
#include "tests/support/frame_client.h"

namespace oly::tabletnet {
namespace {

// The front end's own transport, for these tests: nothing arrives on it.
class QuietTransport final : public Transport {
 public:
  const std::string& name() const override { return name_; }
  void send(const std::string& to, std::string) override { others.push_back(to); }
  void publish(const std::string& topic, std::string) override { published.push_back(topic); }
  void subscribe(const std::string&, const std::string&) override {}
  std::optional<Incoming> receive() override { return std::nullopt; }
  std::vector<std::string> others;     // frames sent to endpoints that are not the server's
  std::vector<std::string> published;  // topics published on it

 private:
  std::string name_ = "fe1";
};

using Client = testing::FrameClient;

// Runs the server's loop (the watcher's wait reads, receive() pumps) until `done`, collecting
// what it delivers; false after 2 s of wall time without `done`.
template <class Pred>
bool pump_until(FdWatcher& fds, TabletServer& server, std::vector<Incoming>& got, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    fds.wait(ms(1));
    while (auto in = server.receive()) got.push_back(std::move(*in));
    server.flush();
  }
  return true;
}

std::string request(uint64_t req, const std::string& event) { return encode(Message{req, GetScore{event, std::nullopt, "t1", std::nullopt}}); }
std::string answer(uint64_t req, const std::string& event, uint64_t version) {
  ScoreReply r;
  r.score.event = event;
  r.score.version = version;
  return encode(Message{req, r});
}

struct Fixture {
  explicit Fixture(Limits limits = {}) : server(inner, fds, "127.0.0.1:0", clock, limits) {}
  QuietTransport inner;
  VirtualClock clock;
  FdWatcher fds;
  TabletServer server;
  std::vector<Incoming> got;
};

TEST(TabletServer, PipelinedFramesReachTheCoreInOrderAndItsAnswersGoBackInOrder) {
  Fixture f;
  Client c(f.server.port());
  c.write(frame(request(1, "Curling")) + frame(request(2, "Skiing")) + frame(request(3, "Luge")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 3; }));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(f.got[i].from, "tcp/1");
    EXPECT_FALSE(f.got[i].notice);
    EXPECT_EQ(decode(f.got[i].frame).message.req, i + 1);
  }
  for (uint64_t req = 1; req <= 3; ++req) f.server.send("tcp/1", answer(req, "Curling", 10 + req));
  f.server.send("fe2", "to the inner transport");
  f.server.flush();
  for (uint64_t req = 1; req <= 3; ++req) {
    const auto got = c.read_frame();
    ASSERT_TRUE(got);
    const Decoded d = decode(*got);
    ASSERT_TRUE(d.ok) << d.error.text;
    EXPECT_EQ(d.message.req, req);
    EXPECT_EQ(d.message.as<ScoreReply>().score.version, 10 + req);
  }
  EXPECT_EQ(f.inner.others, std::vector<std::string>{"fe2"});
  EXPECT_EQ(f.server.counts().frames_in, 3u);
  EXPECT_EQ(f.server.counts().frames_out, 3u);
}

// The port serves tablets' reads only: an update, an op between servers and a reply (a forged
// answer to one of the front end's own requests) are each answered unexpected_op with their req,
// naming the op, and never reach the core; a read after them on the same connection does.
TEST(TabletServer, OpsOtherThanATabletsAreRefusedAndNeverReachTheCore) {
  Fixture f;
  Client c(f.server.port());
  ScoreReply forged;
  forged.score = Score{"Curling", 99, 0, 1000, 0};
  c.write(frame(encode(Message{11, SetScore{"Curling", 9, 9, "mallory", 1, "getafix", std::nullopt, {}}})) +
          frame(encode(Message{12, Heartbeat{"fe2", "fe2", 9, 1, true}})) +
          frame(encode(Message{13, forged})) + frame(request(14, "Curling")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 1; }));
  EXPECT_EQ(decode(f.got[0].frame).message.req, 14u);
  EXPECT_EQ(f.server.counts().refused_ops, 3u);
  for (const auto& [req, op] : std::vector<std::pair<uint64_t, std::string>>{{11, "set_score"}, {12, "heartbeat"}, {13, "score"}}) {
    const auto got = c.read_frame();
    ASSERT_TRUE(got) << op;
    const Decoded d = decode(*got);
    ASSERT_TRUE(d.ok && d.message.is<Error>()) << op;
    EXPECT_EQ(d.message.req, req);
    EXPECT_EQ(d.message.as<Error>().code, ErrorCode::kUnexpectedOp);
    EXPECT_TRUE(d.message.as<Error>().error.starts_with(op + ": not served on the tablets' port")) << d.message.as<Error>().error;
  }
  EXPECT_TRUE(f.inner.others.empty());
}

// A shortcut (the front end's cache hits) answers a frame as it is read, and the answer goes out
// before the node's step (no flush() here); a frame with an earlier request of its connection
// unanswered goes to the core even when the shortcut could answer it, so answers keep the
// requests' order; once the core has answered, the shortcut is asked again.
TEST(TabletServer, AShortcutAnswersAtOnceButNeverAheadOfAnEarlierRequest) {
  Fixture f;
  std::vector<uint64_t> asked;
  f.server.set_shortcut([&](std::string_view payload, std::string& out) {
    const Decoded d = decode(payload);
    asked.push_back(d.message.req);
    if (!d.ok || d.message.as<GetScore>().event != "Curling") return false;
    out += answer(d.message.req, "Curling", 100 + d.message.req);
    return true;
  });
  Client c(f.server.port());
  c.write(frame(request(1, "Curling")));
  std::optional<std::string> got1;
  // Only the watcher runs (it reads and answers); never flush().
  for (int i = 0; i < 200 && f.server.counts().answered_on_the_spot == 0; ++i) f.fds.wait(ms(10));
  ASSERT_EQ(f.server.counts().answered_on_the_spot, 1u);
  got1 = c.read_frame();
  ASSERT_TRUE(got1) << "answered without a flush";
  EXPECT_EQ(decode(*got1).message.as<ScoreReply>().score.version, 101u);
  // Pipelined: 2 misses, so 3 (which the shortcut could answer) waits behind it, in order.
  c.write(frame(request(2, "Skiing")) + frame(request(3, "Curling")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 2; }));
  EXPECT_EQ(decode(f.got[0].frame).message.req, 2u);
  EXPECT_EQ(decode(f.got[1].frame).message.req, 3u);
  EXPECT_EQ(asked, (std::vector<uint64_t>{1, 2})) << "3 was not offered to the shortcut";
  f.server.send("tcp/1", answer(2, "Skiing", 7));
  f.server.send("tcp/1", answer(3, "Curling", 8));
  f.server.flush();
  for (uint64_t req = 2; req <= 3; ++req) {
    const auto got = c.read_frame();
    ASSERT_TRUE(got);
    EXPECT_EQ(decode(*got).message.req, req);
  }
  // Nothing unanswered: the shortcut again.
  c.write(frame(request(4, "Curling")));
  for (int i = 0; i < 200 && f.server.counts().answered_on_the_spot < 2; ++i) f.fds.wait(ms(10));
  const auto got4 = c.read_frame();
  ASSERT_TRUE(got4);
  EXPECT_EQ(decode(*got4).message.req, 4u);
  EXPECT_EQ(f.server.counts().frames_in, 4u);
  EXPECT_EQ(f.server.counts().frames_out, 4u);
  EXPECT_EQ(f.server.counts().answered_on_the_spot, 2u);
  EXPECT_EQ(f.got.size(), 2u);
}

TEST(TabletServer, AnOversizedPrefixGetsATooLargeErrorAndTheConnectionIsClosed) {
  Fixture f(Limits{.max_frame = 1000});
  Client c(f.server.port());
  c.write(std::string("\x00\x00\x03\xe9", 4));  // 1001 bytes announced
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.counts().closed_bad_frame == 1; }));
  const auto got = c.read_frame();
  ASSERT_TRUE(got);
  const Decoded d = decode(*got);
  ASSERT_TRUE(d.ok && d.message.is<Error>()) << d.error.text;
  EXPECT_EQ(d.message.as<Error>().code, ErrorCode::kTooLarge);
  EXPECT_EQ(d.message.req, 0u);
  EXPECT_NE(d.message.as<Error>().error.find("1001 bytes"), std::string::npos) << d.message.as<Error>().error;
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(f.got.empty());
  EXPECT_EQ(f.server.connections(), 0u);
}

TEST(TabletServer, AnEmptyFrameGetsAMalformedErrorAndTheConnectionIsClosed) {
  Fixture f;
  Client c(f.server.port());
  c.write(frame(request(1, "Curling")) + std::string(4, '\0') + frame(request(2, "Luge")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.counts().closed_bad_frame == 1; }));
  ASSERT_EQ(f.got.size(), 1u);  // the frame before it, not the one after
  const auto got = c.read_frame();
  ASSERT_TRUE(got);
  EXPECT_EQ(decode(*got).message.as<Error>().code, ErrorCode::kMalformed);
  EXPECT_TRUE(c.closed());
}

TEST(TabletServer, AnswersToAClosedConnectionAreDroppedAndItsNumberIsNeverReused) {
  Fixture f;
  {
    Client c(f.server.port());
    c.write(frame(request(1, "Curling")));
    ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 1; }));
    f.server.send("tcp/1", answer(1, "Curling", 1));
    f.server.flush();
    ASSERT_TRUE(c.read_frame());
  }
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.connections() == 0; }));
  EXPECT_EQ(f.server.counts().closed_by_peer, 1u);
  f.server.send("tcp/1", answer(1, "Curling", 1));  // a late second answer: its connection is gone
  EXPECT_EQ(f.server.counts().answers_dropped, 1u);
  Client next(f.server.port());
  next.write(frame(request(5, "Luge")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 2; }));
  EXPECT_EQ(f.got[1].from, "tcp/2");
}

// A client that sends its requests and shuts down its side (as `nc -N` does) still gets every
// answer, and then the connection is closed.
TEST(TabletServer, AClientThatShutsDownItsSideGetsItsAnswersBeforeTheClose) {
  Fixture f;
  Client c(f.server.port());
  c.write(frame(request(1, "Curling")) + frame(request(2, "Luge")));
  c.shutdown_write();
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 2; }));
  for (int i = 0; i < 20; ++i) {
    while (auto in = f.server.receive()) f.got.push_back(std::move(*in));
  }
  EXPECT_EQ(f.server.connections(), 1u);  // still owed two answers
  f.server.send("tcp/1", answer(1, "Curling", 1));
  f.server.send("tcp/1", answer(2, "Luge", 1));
  f.server.flush();
  for (uint64_t req = 1; req <= 2; ++req) {
    const auto got = c.read_frame();
    ASSERT_TRUE(got) << req;
    EXPECT_EQ(decode(*got).message.req, req);
  }
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.connections() == 0; }));
  EXPECT_TRUE(c.closed());
}

TEST(TabletServer, AConnectionWithPendingRequestsAtTheCapIsNotReadUntilAnswersGoOut) {
  Fixture f(Limits{.max_pending = 2});
  Client c(f.server.port());
  std::string five;
  for (uint64_t req = 1; req <= 5; ++req) five += frame(request(req, "Curling"));
  c.write(five);
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() >= 2; }));
  // Nothing more comes while two are unanswered.
  for (int i = 0; i < 50; ++i) {
    f.fds.wait(ms(1));
    while (auto in = f.server.receive()) f.got.push_back(std::move(*in));
  }
  EXPECT_EQ(f.got.size(), 2u);
  f.server.send("tcp/1", answer(1, "Curling", 1));
  f.server.flush();
  // The frame it let through waits for the node's next step: the loop is woken for it.
  EXPECT_GE(f.fds.wait(ms(0)), 1);
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 3; }));
  EXPECT_EQ(decode(f.got[2].frame).message.req, 3u);
}

TEST(TabletServer, AClientThatDoesNotReadItsAnswersIsCutOff) {
  Fixture f(Limits{.max_unsent = 256 * 1024});
  Client c(f.server.port(), 4096);
  c.write(frame(request(1, "Curling")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 1; }));
  ScoreReply big;
  big.score.event = std::string(60'000, 'x');
  const std::string a = encode(Message{1, big});
  for (int i = 0; i < 2000 && f.server.counts().closed_slow == 0; ++i) {
    f.server.send("tcp/1", a);
    f.server.flush();
  }
  EXPECT_EQ(f.server.counts().closed_slow, 1u);
  EXPECT_EQ(f.server.connections(), 0u);
}

// The same with answers made on the spot, which the pending cap does not hold back: a client that
// pipelines hits and never reads is cut off once its answers pass max_unsent.
TEST(TabletServer, AClientThatSendsHitsAndNeverReadsIsCutOff) {
  Fixture f(Limits{.max_unsent = 64 * 1024});
  f.server.set_shortcut([](std::string_view, std::string& out) {
    out.append(1000, 'x');  // not a message: the client never reads it
    return true;
  });
  Client c(f.server.port(), 4096);
  std::string chunk;
  for (int i = 0; i < 400; ++i) chunk += frame(request(static_cast<uint64_t>(i + 1), "Curling"));
  for (int i = 0; i < 500 && f.server.counts().closed_slow == 0; ++i) {
    c.write(chunk);
    for (int j = 0; j < 5; ++j) f.fds.wait(ms(1));
    f.server.flush();
  }
  EXPECT_EQ(f.server.counts().closed_slow, 1u);
  EXPECT_EQ(f.server.connections(), 0u);
  EXPECT_TRUE(f.got.empty()) << "every request was answered on the spot";
}

TEST(TabletServer, AnIdleConnectionIsClosedAfterTheIdleTime) {
  Fixture f(Limits{.idle = ms(10'000)});
  Client quiet(f.server.port());
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.connections() == 1; }));
  // A pass of the loop: its step, then flush() (which times the idle limit).
  auto pass = [&] {
    while (f.server.receive()) {
    }
    f.server.flush();
  };
  f.clock.advance(ms(9'000));
  pass();
  EXPECT_EQ(f.server.connections(), 1u);
  f.clock.advance(ms(2'000));
  pass();
  EXPECT_EQ(f.server.connections(), 0u);
  EXPECT_EQ(f.server.counts().closed_idle, 1u);
  EXPECT_TRUE(quiet.closed());
}

TEST(TabletServer, BeyondTheConnectionLimitANewConnectionIsClosedAtOnce) {
  Fixture f(Limits{.max_connections = 1});
  Client first(f.server.port());
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.connections() == 1; }));
  Client second(f.server.port());
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.counts().refused_full == 1; }));
  EXPECT_TRUE(second.closed());
  first.write(frame(request(1, "Curling")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() == 1; }));
}

// Random bytes from many clients (random length prefixes among them, slowloris halves of frames),
// then one well-behaved client: the server hands the core no frame over the limit, closes what
// broke the framing, and still serves.
TEST(TabletServer, RandomBytesFromManyClientsNeverCrashTheServerNorPassTheLimit) {
  constexpr size_t kMax = 512;
  Fixture f(Limits{.max_frame = kMax});
  std::mt19937_64 rng(3);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<Client>(f.server.port()));
    std::string bytes(1 + rng() % 3000, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng() % 3 == 0 ? rng() % 4 : rng());
    if (i % 4 == 0) bytes = frame(std::string(1 + rng() % kMax, 'm')).substr(0, 2);  // slowloris
    clients.back()->write(bytes);
  }
  const size_t accepted_before = 40;
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.server.counts().accepted == accepted_before; }));
  for (int i = 0; i < 100; ++i) {
    while (auto in = f.server.receive()) f.got.push_back(std::move(*in));
  }
  for (const auto& in : f.got) {
    EXPECT_GE(in.frame.size(), 1u);
    EXPECT_LE(in.frame.size(), kMax);
    (void)decode(in.frame);
  }
  const size_t before = f.got.size();
  Client good(f.server.port());
  good.write(frame(request(9, "Curling")));
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] { return f.got.size() > before; }));
  const std::string from = f.got.back().from;
  f.server.send(from, answer(9, "Curling", 4));
  f.server.flush();
  const auto reply = good.read_frame();
  ASSERT_TRUE(reply);
  EXPECT_EQ(decode(*reply).message.req, 9u);
}

// The tablet process's side (tabletnet/client.h) against the server: a request and its answer by
// front-end name, and the notices tablets follow, sent on every connection and marked as notices.
TEST(TabletServer, TheClientTransportGetsAnswersByFrontEndNameAndNoticesOnItsConnection) {
  Fixture f;
  VirtualClock client_clock;
  TcpClientTransport client("tablets-1", client_clock);
  client.add_peer("fe1", "127.0.0.1:" + std::to_string(f.server.port()));
  client.send("fe1", request(4, "Curling"));
  client.send("nobody", request(5, "Curling"));
  EXPECT_EQ(client.frames_dropped(), 1u);
  ASSERT_TRUE(pump_until(f.fds, f.server, f.got, [&] {
    (void)client.receive();  // completes the connection and writes what waited for it
    return f.got.size() == 1;
  }));
  EXPECT_EQ(decode(f.got[0].frame).message.req, 4u);
  f.server.send(f.got[0].from, answer(4, "Curling", 9));
  f.server.publish("serving", encode(Message{0, Serving{2, 7, {"fe1", "fe2"}}}));
  f.server.publish("publisher", encode(Message{0, MasterChanged{"fe1", "tcp://127.0.0.1:1", 2}}));  // not for tablets
  f.server.flush();
  std::vector<Incoming> in;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (in.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    client.wait(ms(10));
    while (auto i = client.receive()) in.push_back(std::move(*i));
  }
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].from, "fe1");
  EXPECT_FALSE(in[0].notice);
  EXPECT_EQ(decode(in[0].frame).message.req, 4u);
  EXPECT_TRUE(in[1].notice);
  EXPECT_EQ(decode(in[1].frame).message.as<Serving>().seq, 7u);
  EXPECT_EQ(f.server.counts().notices_out, 1u);
  // Serving notices go to the tablets' connections only; other topics to the inner transport.
  EXPECT_EQ(f.inner.published, std::vector<std::string>{"publisher"});
}

// When a front end goes away, the tablet process hears it at once (a lost report, so that reads
// waiting on it fail over without waiting for their timeout), once per report taken; and a frame
// sent while it cannot reconnect is reported the same way.
TEST(TabletServer, TheClientTransportReportsAFrontEndThatWentAway) {
  auto f = std::make_unique<Fixture>();
  VirtualClock client_clock;
  TcpClientTransport client("tablets-1", client_clock);
  client.add_peer("fe1", "127.0.0.1:" + std::to_string(f->server.port()));
  client.send("fe1", request(4, "Curling"));
  ASSERT_TRUE(pump_until(f->fds, f->server, f->got, [&] {
    EXPECT_FALSE(client.receive().has_value());
    return f->got.size() == 1;
  }));
  f.reset();  // the front end dies: its port and connections close

  std::vector<Incoming> in;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (in.empty() && std::chrono::steady_clock::now() < deadline) {
    client.wait(ms(10));
    while (auto i = client.receive()) in.push_back(std::move(*i));
  }
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].from, "fe1");
  EXPECT_TRUE(in[0].lost);
  EXPECT_TRUE(in[0].frame.empty());

  // Within the reconnect back-off a frame is dropped, and reported; two drops, one report.
  client.send("fe1", request(5, "Curling"));
  client.send("fe1", request(6, "Curling"));
  EXPECT_EQ(client.frames_dropped(), 2u);
  auto report = client.receive();
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->lost);
  EXPECT_FALSE(client.receive().has_value());
}

TEST(TabletServer, AnAddressThatIsNotHostPortIsRefusedByName) {
  QuietTransport inner;
  VirtualClock clock;
  FdWatcher fds;
  for (const std::string bad : {"localhost", "127.0.0.1:port", "no-such-host.invalid:7201"}) {
    try {
      TabletServer s(inner, fds, bad, clock);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const std::runtime_error& e) {
      const std::string named = bad.starts_with("no-such") ? "'no-such-host.invalid'" : "'" + bad + "'";
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  }
  TabletServer by_name(inner, fds, "localhost:0", clock);
  EXPECT_GT(by_name.port(), 0);
}

}  // namespace
}  // namespace oly::tabletnet
