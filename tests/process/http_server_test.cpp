// The HTTP server wrapper (http/server.h) over real loopback sockets: raw request bytes in, raw
// response bytes out, the server driven from the test thread the way a caller's event loop drives
// it (poll its fd with its timeout, run it, answer). Every wait is bounded by a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/server.h"

namespace oly::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr milliseconds kDeadline(5000);

// A raw, non-blocking TCP client on loopback: writes what it is given, keeps what it reads.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect");
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& bytes) { out_ += bytes; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // "127.0.0.1:<port>" of this end of the connection.
  std::string local_address() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }

  bool open() const { return fd_ >= 0; }
  pollfd poll_entry() const {
    short events = eof_ ? 0 : POLLIN;
    if (!out_.empty()) events |= POLLOUT;
    return pollfd{fd_, events, 0};
  }
  // Writes what the socket takes and reads what it has.
  void pump() {
    if (fd_ < 0) return;
    while (!out_.empty()) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      out_.erase(0, static_cast<size_t>(n));
    }
    char buf[65536];
    while (!eof_) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        eof_ = true;  // closed by the server (or reset)
      } else {
        break;
      }
    }
  }

  const std::string& received() const { return in_; }
  bool closed_by_server() const { return eof_; }
  bool all_sent() const { return out_.empty(); }
  // A whole response: its head and the body its Content-Length announces.
  bool has_response() const {
    size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    size_t at = in_.find("\r\nContent-Length: ");
    if (at == std::string::npos || at > end) return eof_;
    size_t length = std::stoul(in_.substr(at + 18));
    return in_.size() >= end + 4 + length;
  }
  std::string status_line() const { return in_.substr(0, in_.find("\r\n")); }

 private:
  int fd_ = -1;
  std::string out_;
  std::string in_;
  bool eof_ = false;
};

// The caller's event loop in miniature: poll the server's fd (with the server's timeout, capped at
// a few ms) and the clients, run the server, keep what it returns, move the clients' bytes.
class Loop {
 public:
  explicit Loop(Server& server) : server_(server) {}

  std::vector<Request> requests;  // every request run() returned, in order
  int cap_ms = 5;                 // the longest poll
  bool use_timeout = true;        // shorten it to the server's timeout()

  void step(const std::vector<Client*>& clients) {
    std::vector<pollfd> fds{{server_.fd(), POLLIN, 0}};
    for (Client* c : clients) {
      if (c->open()) fds.push_back(c->poll_entry());
    }
    int wait_ms = cap_ms;
    if (auto t = server_.timeout(); t && use_timeout)
      wait_ms = std::min(wait_ms, static_cast<int>(t->count()));
    ::poll(fds.data(), fds.size(), wait_ms);
    for (Request& r : server_.run()) requests.push_back(std::move(r));
    for (Client* c : clients) c->pump();
  }
  // Steps until `done` holds or `limit` passes; says whether it holds.
  bool until(const std::function<bool()>& done, const std::vector<Client*>& clients,
             milliseconds limit = kDeadline) {
    auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      step(clients);
    }
    return true;
  }
  // Steps for `span`: for "nothing happens meanwhile" checks.
  void idle(const std::vector<Client*>& clients, milliseconds span) {
    until([] { return false; }, clients, span);
  }
  // Steps until one more request has arrived (true) or the deadline passed.
  bool next_request(const std::vector<Client*>& clients) {
    size_t before = requests.size();
    return until([&] { return requests.size() > before; }, clients);
  }

 private:
  Server& server_;
};

// Sends `bytes` on a new connection and returns the request the server saw.
Request receive(Loop& loop, Client& client, const std::string& bytes) {
  client.send(bytes);
  if (!loop.next_request({&client})) throw std::runtime_error("no request arrived");
  return loop.requests.back();
}

bool closes(Loop& loop, Client& client) {
  return loop.until([&] { return client.closed_by_server(); }, {&client});
}

// A plain request answered 200 "ok": the server still serves.
void expect_serves(Server& server, Loop& loop) {
  Client c(server.port());
  Request r = receive(loop, c, "GET /still HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.target, "/still");
  EXPECT_TRUE(server.respond(r.id, Response{200, {}, "ok"}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 200 OK\r\nConnection: close\r\nServer: olympics/1.0\r\nContent-Length: "
            "2\r\n\r\nok");
}

TEST(HttpServer, AnswersAnHttp10GetWithExactlyTheseBytes) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /abc HTTP/1.0\r\n\r\n");
  EXPECT_NE(r.id, 0u);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/abc");
  EXPECT_EQ(r.version, "HTTP/1.0");
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(r.peer, c.local_address());
  EXPECT_EQ(server.waiting(), 1u);

  EXPECT_TRUE(server.respond(
      r.id, Response{200, {{"Content-Type", "text/plain"}, {"X-Kv-Found", "yes"}}, "abc=NIL\n"}));
  EXPECT_EQ(server.waiting(), 0u);
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 200 OK\r\n"
            "Connection: close\r\n"
            "Server: olympics/1.0\r\n"
            "Content-Type: text/plain\r\n"
            "X-Kv-Found: yes\r\n"
            "Content-Length: 8\r\n"
            "\r\n"
            "abc=NIL\n");
  EXPECT_TRUE(loop.until([&] { return server.in_flight() == 0; }, {}));
}

TEST(HttpServer, PassesTheRawTargetUndecodedAndAnswersHttp11WithHttp10) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /a%3Db?local HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.target, "/a%3Db?local");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_EQ(r.headers, (Headers{{"Host", "x"}}));

  EXPECT_TRUE(server.respond(r.id, Response{404, {}, "no\n"}));
  ASSERT_TRUE(closes(loop, c));  // HTTP/1.0 responses close unless the client asked for Keep-Alive
  EXPECT_EQ(c.received(),
            "HTTP/1.0 404 Not Found\r\nConnection: close\r\nServer: "
            "olympics/1.0\r\nContent-Length: 3\r\n\r\nno\n");
}

TEST(HttpServer, AcceptsATargetWithoutALeadingSlash) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET abc=def HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.target, "abc=def");
  EXPECT_TRUE(server.respond(r.id, Response{200, {}, "abc=NIL\n"}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.status_line(), "HTTP/1.0 200 OK");
}

TEST(HttpServer, HoldsARequestUntilItIsAnswered) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /later HTTP/1.0\r\n\r\n");
  loop.idle({&c}, milliseconds(200));
  EXPECT_EQ(c.received(), "");
  EXPECT_FALSE(c.closed_by_server());
  EXPECT_EQ(server.waiting(), 1u);
  EXPECT_EQ(server.timeout(), std::nullopt);  // a held request has no timeout

  EXPECT_TRUE(server.respond(r.id, Response{200, {}, "now"}));
  pollfd p{server.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1);  // the answer wakes fd()
  EXPECT_EQ(server.timeout(), milliseconds(0));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_TRUE(c.has_response());
  EXPECT_EQ(c.status_line(), "HTTP/1.0 200 OK");
  EXPECT_NE(server.timeout(), milliseconds(0));
}

TEST(HttpServer, FdAloneSignalsEveryPieceOfWork) {
  Options options;
  options.max_request_bytes = 1024 * 1024;
  Server server(options);
  Loop loop(server);
  loop.use_timeout = false;  // a caller that polls fd() only, with a long timeout
  loop.cap_ms = 3000;
  Client c(server.port());
  std::string target = "/" + std::string(900 * 1024, 't');
  c.send("GET " + target + " HTTP/1.0\r\n\r\n");
  // As much of the request as the socket takes is there before the server reads any of it:
  // libmicrohttpd reads it in many bounded passes that no new network event announces.
  c.pump();
  // Each missed wake-up would cost a 3 s poll (the client's socket stays quiet meanwhile).
  auto start = Clock::now();
  ASSERT_TRUE(loop.until([&] { return !loop.requests.empty(); }, {&c}));
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(loop.requests.back().target, target);
  start = Clock::now();
  EXPECT_TRUE(
      server.respond(loop.requests.back().id, Response{200, {}, std::string(300 * 1024, 'b')}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_TRUE(c.has_response());
  EXPECT_EQ(c.received().size(), c.received().find("\r\n\r\n") + 4 + 300 * 1024);
}

TEST(HttpServer, AnswersTwoConnectionsInTheOppositeOrder) {
  Server server(Options{});
  Loop loop(server);
  Client first(server.port());
  Client second(server.port());
  Request r1 = receive(loop, first, "GET /first HTTP/1.0\r\n\r\n");
  Request r2 = receive(loop, second, "GET /second HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r1.target, "/first");
  EXPECT_EQ(r2.target, "/second");
  EXPECT_NE(r1.id, r2.id);
  EXPECT_EQ(server.waiting(), 2u);

  EXPECT_TRUE(server.respond(r2.id, Response{200, {}, "2"}));
  ASSERT_TRUE(closes(loop, second));
  EXPECT_TRUE(second.has_response());
  EXPECT_EQ(second.received().back(), '2');
  EXPECT_EQ(first.received(), "");
  EXPECT_EQ(server.waiting(), 1u);

  EXPECT_TRUE(server.respond(r1.id, Response{200, {}, "1"}));
  ASSERT_TRUE(closes(loop, first));
  EXPECT_EQ(first.received().back(), '1');
  EXPECT_EQ(server.waiting(), 0u);
}

TEST(HttpServer, ForgetsARequestWhoseClientLeftOnceItIsAnswered) {
  Server server(Options{});
  Loop loop(server);
  auto c = std::make_unique<Client>(server.port());
  Request r = receive(loop, *c, "GET /gone HTTP/1.0\r\n\r\n");
  c.reset();  // the client closes while its request waits
  loop.idle({}, milliseconds(50));
  // libmicrohttpd does not watch a held connection: the request still waits...
  EXPECT_EQ(server.waiting(), 1u);
  // ...and is answered into the closed connection (a body too big for one write: no SIGPIPE),
  // which is then freed.
  EXPECT_TRUE(server.respond(r.id, Response{200, {}, std::string(4 * 1024 * 1024, 'x')}));
  EXPECT_EQ(server.waiting(), 0u);
  EXPECT_TRUE(loop.until([&] { return server.in_flight() == 0; }, {}));
  EXPECT_FALSE(server.respond(r.id, Response{}));
  expect_serves(server, loop);
}

TEST(HttpServer, ForgetsRequestsWhoseClientLeftBeforeTheyWereComplete) {
  Server server(Options{});
  Loop loop(server);
  for (const char* part :
       {"GET /x HTTP/1.0\r\nHost: x\r\n", "POST /x HTTP/1.0\r\nContent-Length: 10\r\n\r\nabc"}) {
    Client c(server.port());
    c.send(part);
    ASSERT_TRUE(loop.until([&] { return server.in_flight() == 1; }, {&c})) << part;
    c.close();
    EXPECT_TRUE(loop.until([&] { return server.in_flight() == 0; }, {})) << part;
  }
  EXPECT_TRUE(loop.requests.empty());
  expect_serves(server, loop);
}

TEST(HttpServer, RespondToAnUnknownOrAnsweredIdReturnsFalse) {
  Server server(Options{});
  Loop loop(server);
  EXPECT_FALSE(server.respond(0, Response{}));
  EXPECT_FALSE(server.respond(12345, Response{}));
  Client c(server.port());
  Request r = receive(loop, c, "GET /once HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(server.respond(r.id, Response{200, {}, "first"}));
  EXPECT_FALSE(server.respond(r.id, Response{500, {}, "second"}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.received().substr(c.received().size() - 5), "first");
}

TEST(HttpServer, RefusesMalformedRequestLinesAndKeepsServing) {
  Server server(Options{});
  Loop loop(server);
  {  // no space at all: libmicrohttpd closes the connection without a word
    Client c(server.port());
    c.send("HELLO\r\n\r\n");
    ASSERT_TRUE(closes(loop, c));
    EXPECT_EQ(c.received(), "");
  }
  for (const char* line : {"GET /x\r\n\r\n", "GET /x FOO/1.0\r\n\r\n", "GET  HTTP/1.0\r\n\r\n",
                           "GET /x HTTP/1.0\r\nno colon\r\n\r\n"}) {
    Client c(server.port());
    c.send(line);
    ASSERT_TRUE(closes(loop, c)) << line;
    EXPECT_EQ(c.status_line(), "HTTP/1.1 400 Bad Request") << line;
    EXPECT_NE(c.received().find("\r\nConnection: close\r\n"), std::string::npos) << line;
  }
  {
    Client c(server.port());
    c.send("GET /x HTTP/2.0\r\n\r\n");
    ASSERT_TRUE(closes(loop, c));
    EXPECT_EQ(c.status_line(), "HTTP/1.1 505 HTTP Version Not Supported");
  }
  EXPECT_TRUE(loop.requests.empty());
  EXPECT_EQ(server.in_flight(), 0u);
  expect_serves(server, loop);
}

TEST(HttpServer, RefusesAnOverLongTargetWith414AndKeepsServing) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  c.send("GET /" + std::string(400 * 1024, 'a') + " HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.status_line(), "HTTP/1.1 414 URI Too Long");
  EXPECT_TRUE(loop.requests.empty());
  EXPECT_EQ(server.in_flight(), 0u);
  expect_serves(server, loop);
}

TEST(HttpServer, RefusesOverLargeHeadersWith431) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  c.send("GET /x HTTP/1.0\r\nX-Big: " + std::string(400 * 1024, 'a') + "\r\n\r\n");
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.status_line(), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_TRUE(loop.requests.empty());
  EXPECT_EQ(server.in_flight(), 0u);  // its request line had been seen: forgotten all the same
  expect_serves(server, loop);
}

TEST(HttpServer, AcceptsARequestOfMaxRequestBytes) {
  Options options;
  Server server(options);
  Loop loop(server);
  Client c(server.port());
  std::string head = "GET /";
  std::string tail = " HTTP/1.0\r\nHost: x\r\nUser-Agent: test\r\n\r\n";
  std::string target(options.max_request_bytes - head.size() - tail.size(), 'k');
  ASSERT_EQ((head + target + tail).size(), options.max_request_bytes);
  Request r = receive(loop, c, head + target + tail);
  EXPECT_EQ(r.target, "/" + target);
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_TRUE(server.respond(r.id, Response{414, {}, "too long\n"}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.status_line(), "HTTP/1.0 414 URI Too Long");

  // The same size in a thousand headers.
  std::string headers;
  for (int i = 0; i < 1000; ++i) headers += "X-H" + std::to_string(1000 + i) + ": v\r\n";
  std::string line =
      "GET /" + std::string(options.max_request_bytes - headers.size() - 18, 'k') + " HTTP/1.0\r\n";
  std::string bytes = line + headers + "\r\n";
  ASSERT_EQ(bytes.size(), options.max_request_bytes);
  Client many(server.port());
  Request r2 = receive(loop, many, bytes);
  EXPECT_EQ(r2.headers.size(), 1000u);
  EXPECT_TRUE(server.respond(r2.id, Response{}));
  ASSERT_TRUE(closes(loop, many));
  EXPECT_EQ(many.status_line(), "HTTP/1.0 200 OK");
}

TEST(HttpServer, ReturnsAPostOnceItsBodyIsReadAndSends405) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "POST /k=v HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/k=v");
  EXPECT_EQ(r.headers, (Headers{{"Content-Length", "5"}}));
  EXPECT_TRUE(server.respond(r.id, Response{405, {{"Allow", "GET"}}, "only GET\n"}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 405 Method Not Allowed\r\nConnection: close\r\nServer: "
            "olympics/1.0\r\nAllow: GET\r\n"
            "Content-Length: 9\r\n\r\nonly GET\n");
}

TEST(HttpServer, SendsContinueBeforeReadingABodyThatExpectsIt) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  c.send("POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(loop.until([&] { return c.received() == "HTTP/1.1 100 Continue\r\n\r\n"; }, {&c}));
  EXPECT_TRUE(loop.requests.empty());
  c.send("hello");
  ASSERT_TRUE(loop.next_request({&c}));
  EXPECT_EQ(loop.requests.back().method, "POST");
  EXPECT_TRUE(server.respond(loop.requests.back().id, Response{405, {{"Allow", "GET"}}, ""}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_NE(c.received().find("\r\n\r\nHTTP/1.0 405 Method Not Allowed\r\n"), std::string::npos);
}

TEST(HttpServer, ClosesAConnectionWhoseBodyIsOverTheLimit) {
  Options options;
  options.max_request_bytes = 16 * 1024;
  Server server(options);
  Loop loop(server);
  Client c(server.port());
  c.send("POST /p HTTP/1.0\r\nContent-Length: 65536\r\n\r\n" + std::string(65536, 'b'));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.received(), "");
  EXPECT_TRUE(loop.requests.empty());
  EXPECT_EQ(server.in_flight(), 0u);
  expect_serves(server, loop);
}

TEST(HttpServer, KeepsAConnectionOnlyWhenTheClientAsksForKeepAlive) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r1 = receive(loop, c, "GET /one HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(server.respond(r1.id, Response{200, {}, "1"}));
  ASSERT_TRUE(loop.until([&] { return c.has_response(); }, {&c}));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nServer: olympics/1.0\r\nContent-Length: "
            "1\r\n\r\n1");
  Request r2 = receive(loop, c, "GET /two HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r2.target, "/two");
  EXPECT_NE(r2.id, r1.id);
  EXPECT_TRUE(server.respond(r2.id, Response{200, {}, "2"}));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(
      c.received().substr(c.received().find("1HTTP/") + 1),
      "HTTP/1.0 200 OK\r\nConnection: close\r\nServer: olympics/1.0\r\nContent-Length: 1\r\n\r\n2");
}

TEST(HttpServer, KeepsAnHttp11ConnectionAliveWhenAskedToo) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r1 = receive(loop, c, "GET /one HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(server.respond(r1.id, Response{200, {}, "1"}));
  ASSERT_TRUE(loop.until([&] { return c.has_response(); }, {&c}));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nServer: olympics/1.0\r\nContent-Length: "
            "1\r\n\r\n1");
  EXPECT_FALSE(c.closed_by_server());
}

TEST(HttpServer, DropsResponseHeadersThatBelongToTheServerOrAreInvalid) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /h HTTP/1.0\r\n\r\n");
  Response response{42,
                    {{"Server", "other"},
                     {"content-length", "99"},
                     {"Connection", "keep-alive"},
                     {"Bad Name", "x"},
                     {"X-Split", "a\r\nInjected: yes"},
                     {"X-Ok", "fine"}},
                    "body"};
  EXPECT_TRUE(server.respond(r.id, response));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 500 Internal Server Error\r\nConnection: close\r\nServer: "
            "olympics/1.0\r\nX-Ok: fine\r\n"
            "Content-Length: 4\r\n\r\nbody");
}

TEST(HttpServer, ClosesAnIdleConnectionButNeverAWaitingRequest) {
  Options options;
  options.idle_timeout_s = 1;
  Server server(options);
  Loop loop(server);
  Client idle(server.port());
  Client held(server.port());
  idle.send("GET /slow HTTP/1.0\r\n");  // never finished
  Request r = receive(loop, held, "GET /held HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(loop.until([&] { return idle.closed_by_server(); }, {&idle, &held}));
  EXPECT_EQ(idle.received(), "");
  loop.idle({&held}, milliseconds(300));  // well past the timeout by now
  EXPECT_FALSE(held.closed_by_server());
  EXPECT_TRUE(server.respond(r.id, Response{200, {}, "held"}));
  ASSERT_TRUE(closes(loop, held));
  EXPECT_EQ(held.status_line(), "HTTP/1.0 200 OK");
  EXPECT_EQ(loop.requests.size(), 1u);
}

TEST(HttpServer, LeavesConnectionsBeyondTheLimitWaitingUntilOneCloses) {
  Options options;
  options.max_connections = 2;
  Server server(options);
  Loop loop(server);
  Client a(server.port());
  Client b(server.port());
  Request ra = receive(loop, a, "GET /a HTTP/1.0\r\n\r\n");
  Request rb = receive(loop, b, "GET /b HTTP/1.0\r\n\r\n");
  Client extra(server.port());  // accepted by the kernel, not yet by the server
  extra.send("GET /extra HTTP/1.0\r\n\r\n");
  loop.idle({&a, &b, &extra}, milliseconds(200));
  EXPECT_EQ(loop.requests.size(), 2u);
  EXPECT_FALSE(extra.closed_by_server());
  EXPECT_TRUE(server.respond(ra.id, Response{}));
  ASSERT_TRUE(closes(loop, a));
  ASSERT_TRUE(loop.next_request({&b, &extra}));
  EXPECT_EQ(loop.requests.back().target, "/extra");
  EXPECT_TRUE(server.respond(rb.id, Response{}));
  EXPECT_TRUE(server.respond(loop.requests.back().id, Response{}));
  ASSERT_TRUE(closes(loop, b));
  ASSERT_TRUE(closes(loop, extra));
  EXPECT_EQ(extra.status_line(), "HTTP/1.0 200 OK");
}

TEST(HttpServer, DestroyingTheServerClosesWaitingConnections) {
  auto server = std::make_unique<Server>(Options{});
  Loop loop(*server);
  Client c(server->port());
  receive(loop, c, "GET /held HTTP/1.0\r\n\r\n");
  server.reset();
  auto deadline = Clock::now() + kDeadline;
  while (!c.closed_by_server() && Clock::now() < deadline) {
    pollfd p = c.poll_entry();
    ::poll(&p, 1, 5);
    c.pump();
  }
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(c.received(), "");
}

TEST(HttpServer, StreamsWritesAsTheyComeAndEndsTheStream) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /events HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(server.start_stream(r.id, Response{200, {{"Content-Type", "text/event-stream"}}, "a\n"}));
  EXPECT_TRUE(server.streaming(r.id));
  EXPECT_EQ(server.streams(), 1u);
  EXPECT_FALSE(server.respond(r.id, Response{}));  // answered already
  ASSERT_TRUE(loop.until([&] { return c.received().ends_with("\r\n\r\na\n"); }, {&c}));
  EXPECT_EQ(c.received(),
            "HTTP/1.0 200 OK\r\nConnection: close\r\nServer: olympics/1.0\r\n"
            "Content-Type: text/event-stream\r\n\r\na\n");  // no Content-Length
  loop.idle({&c}, milliseconds(100));  // nothing to send: the stream waits, open
  EXPECT_FALSE(c.closed_by_server());
  EXPECT_EQ(server.timeout(), std::nullopt);

  EXPECT_TRUE(server.write(r.id, "b\n"));
  EXPECT_TRUE(server.write(r.id, "c\n"));
  ASSERT_TRUE(loop.until([&] { return c.received().ends_with("a\nb\nc\n"); }, {&c}));
  EXPECT_EQ(server.unsent(r.id), 0u);
  EXPECT_TRUE(server.end_stream(r.id));
  EXPECT_FALSE(server.write(r.id, "d\n"));
  ASSERT_TRUE(closes(loop, c));
  EXPECT_TRUE(c.received().ends_with("a\nb\nc\n"));
  EXPECT_TRUE(loop.until([&] { return server.in_flight() == 0; }, {}));
  EXPECT_EQ(server.streams(), 0u);
  EXPECT_FALSE(server.streaming(r.id));
}

TEST(HttpServer, StreamsChunkedToAnHttp11ClientWhenNotHttp10) {
  Options options;
  options.http10 = false;
  Server server(options);
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(server.start_stream(r.id, Response{200, {}, ""}));
  EXPECT_TRUE(server.write(r.id, "hello\n"));
  ASSERT_TRUE(loop.until([&] { return c.received().find("6\r\nhello\n\r\n") != std::string::npos; }, {&c})) << c.received();
  EXPECT_NE(c.received().find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_TRUE(server.end_stream(r.id));
  ASSERT_TRUE(loop.until([&] { return c.received().ends_with("0\r\n\r\n"); }, {&c}));
}

TEST(HttpServer, NoticesAStreamWhoseClientLeftAtTheNextWrite) {
  Server server(Options{});
  Loop loop(server);
  Client c(server.port());
  Request r = receive(loop, c, "GET /events HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(server.start_stream(r.id, Response{200, {}, "first\n"}));
  ASSERT_TRUE(loop.until([&] { return c.received().ends_with("first\n"); }, {&c}));
  c.close();
  // The first write after the close may still be taken by the kernel; a later one finds the reset.
  ASSERT_TRUE(loop.until(
      [&] {
        server.write(r.id, "ping\n");
        return !server.streaming(r.id);
      },
      {}));
  EXPECT_TRUE(loop.until([&] { return server.in_flight() == 0 && server.streams() == 0; }, {}));
}

TEST(HttpServer, KeepsWhatAClientDoesNotReadInTheStreamsBufferAndSaysHowMuch) {
  Server server(Options{});
  Loop loop(server);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string get = "GET /events HTTP/1.0\r\n\r\n";
  ASSERT_EQ(::send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  ASSERT_TRUE(loop.until([&] { return !loop.requests.empty(); }, {}));
  const uint64_t id = loop.requests.back().id;
  ASSERT_TRUE(server.start_stream(id, Response{200, {}, ""}));
  const std::string block(64 * 1024, 'x');
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(server.write(id, block));  // 16 MiB, never read
  loop.idle({}, milliseconds(300));
  EXPECT_TRUE(server.streaming(id));
  EXPECT_GT(server.unsent(id), 8u * 1024 * 1024);  // the kernel holds a few MiB at most
  ::close(fd);
}

TEST(HttpServer, ASecondServerOnTheSamePortThrowsNamingTheAddress) {
  Server server(Options{});
  Options same;
  same.port = server.port();
  std::string address = "127.0.0.1:" + std::to_string(server.port());
  try {
    Server second(same);
    FAIL() << "a second server listened on " << address;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen for HTTP on " + address + ": "),
              std::string::npos)
        << e.what();
  }
  Loop loop(server);
  expect_serves(server, loop);
}

TEST(HttpServer, AnUnusableHostThrowsNamingIt) {
  Options options;
  options.host = "no-such-host.invalid";
  EXPECT_THROW(Server server(options), std::runtime_error);
  options.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
  try {
    Server server(options);
    FAIL() << "listened on 192.0.2.1";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen for HTTP on 192.0.2.1:0: "),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace oly::http
