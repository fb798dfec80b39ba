// The key-value store's client (kvclient/client.h) and the `kv` binary against fake HTTP servers
// on loopback: what goes on the wire (percent-encoding, docs/kvstore.md), how answers are read
// (X-Kv-Found, a stored "NIL"), failover (refused, silent and closed connections, 503), the
// leader learned from X-Leader, errors that are answers (400, never retried elsewhere), limits
// checked before any server is asked, and the binary's output, exit status and servers.txt.
#include "kvclient/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/servers_file.h"
#include "tests/support/process.h"

namespace oly::kv {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// A fake HTTP server: a thread accepting on 127.0.0.1, one connection at a time, reading one
// request's head and writing the handler's canned answer for its request line, then closing (as
// an HTTP/1.0 server does). The handler returning "" closes the connection without an answer.

struct Header {
  std::string name, value;
};

std::string http(int status, const std::string& reason, const std::string& body, const std::vector<Header>& headers = {}) {
  std::string out = "HTTP/1.0 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Server: fake-kv/1.0\r\nContent-Type: text/plain\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  return out + "\r\n" + body;
}

// The target of a request line `GET <target> HTTP/1.1`.
std::string target_of(const std::string& request_line) {
  const size_t a = request_line.find(' '), b = request_line.rfind(' ');
  return request_line.substr(a + 1, b - a - 1);
}

// A socket bound to 127.0.0.1 on a free port of 20000-32767 and listening, or -1.
int listen_on_free_port(int& port) {
  for (int tries = 0; tries < 20; ++tries) {
    port = testing::free_ports(1).front();
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 16) == 0) return fd;
    ::close(fd);  // taken between the check and the bind: another port
  }
  return -1;
}

class FakeServer {
 public:
  using Handler = std::function<std::string(const std::string& request_line)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = listen_on_free_port(port_);
    if (listen_fd_ < 0 || ::pipe(wake_) != 0) throw std::runtime_error("fake server: cannot listen");
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    const char c = 'x';
    (void)!::write(wake_[1], &c, 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t count() const { return requests().size(); }
  void set_handler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

 private:
  void serve() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      const int conn = ::accept(listen_fd_, nullptr, nullptr);
      if (conn < 0) continue;
      answer(conn);
      ::close(conn);
    }
  }

  // Reads the request's head (at most 2 s and 1 MiB) and answers it.
  void answer(int conn) {
    std::string in;
    const auto deadline = SteadyTime::now() + milliseconds(2000);
    while (in.find("\r\n\r\n") == std::string::npos && in.size() < (1 << 20)) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyTime::now()).count();
      if (left <= 0) return;
      pollfd fds[2] = {{conn, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(left)) <= 0 || fds[1].revents != 0) return;
      char buf[4096];
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    const std::string line = in.substr(0, in.find("\r\n"));
    std::string out;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(line);
      out = handler_(line);
    }
    for (size_t sent = 0; sent < out.size();) {
      const ssize_t n = ::send(conn, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
    ::shutdown(conn, SHUT_WR);
  }

  Handler handler_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// A port that accepts connections (the kernel completes the handshake) but never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = listen_on_free_port(port_);
    if (fd_ < 0) throw std::runtime_error("silent server: cannot listen");
  }
  ~SilentServer() { ::close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  int fd_ = -1;
};

// A port nobody listens on: connections are refused.
std::string refused_address() { return "127.0.0.1:" + std::to_string(testing::free_ports(1).front()); }

int hex(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A handler that is a tiny store as docs/kvstore.md describes it (no limits, no local reads),
// its answers naming `leader` in X-Leader when given.
FakeServer::Handler store(std::map<std::string, std::string>& data, std::string leader = "") {
  return [&data, leader](const std::string& line) {
    std::string target = target_of(line);
    if (const size_t q = target.find('?'); q != std::string::npos) target.resize(q);
    const std::string decoded = percent_decode(target.substr(1));
    const size_t eq = decoded.find('=');
    const std::string key = decoded.substr(0, eq);
    const auto it = data.find(key);
    const bool found = it != data.end();
    std::string body = key + "=" + (found ? it->second : "NIL");
    if (eq != std::string::npos) data[key] = decoded.substr(eq + 1);
    std::vector<Header> headers = {{"X-Kv-Found", found ? "yes" : "no"}};
    if (!leader.empty()) headers.push_back({"X-Leader", leader});
    return http(200, "OK", body, headers);
  };
}

FakeServer::Handler always(std::string response) {
  return [response](const std::string&) { return response; };
}

Options quick(int passes = 0) {
  Options o;
  o.request_timeout = milliseconds(300);
  o.total_timeout = milliseconds(3000);
  o.max_passes = passes;
  return o;
}

milliseconds since(SteadyTime::time_point start) {
  return std::chrono::duration_cast<milliseconds>(SteadyTime::now() - start);
}

// ---------------------------------------------------------------------------------------------
// Encoding, limits and server lists.

TEST(KvEncoding, EscapesEveryByteButUnreservedAscii) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a=b?c#d%e/f g+h&i"), "a%3Db%3Fc%23d%25e%2Ff%20g%2Bh%26i");
  EXPECT_EQ(percent_encode("Liège"), "Li%C3%A8ge");
  EXPECT_EQ(percent_encode(std::string("\x7f\x01", 2)), "%7F%01");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(KvLimits, KeysAndValuesBreakingTheStoreLimitsAreNamed) {
  EXPECT_EQ(check_key("medal"), "");
  EXPECT_EQ(check_key("ville é"), "");
  EXPECT_EQ(check_key(std::string(1024, 'k')), "");
  EXPECT_NE(check_key(""), "");
  EXPECT_NE(check_key(std::string(1025, 'k')), "");
  EXPECT_NE(check_key("a=b"), "");
  EXPECT_NE(check_key("a\nb"), "");
  EXPECT_NE(check_key("a\x7f"), "");
  EXPECT_NE(check_key("\xC3"), "");      // truncated UTF-8
  EXPECT_NE(check_key("\xC0\xAF"), "");  // overlong
  EXPECT_EQ(check_value(""), "");
  EXPECT_EQ(check_value("a=b\nc\t?"), "");
  EXPECT_EQ(check_value(std::string(65536, 'v')), "");
  EXPECT_NE(check_value(std::string(65537, 'v')), "");
  EXPECT_NE(check_value(std::string("a\0b", 3)), "");
  EXPECT_NE(check_value("\xFF"), "");
}

TEST(KvLimits, ClientRefusesBadKeysAndValuesWithoutAskingAnyServer) {
  std::map<std::string, std::string> data;
  FakeServer server(store(data));
  KvClient client({server.address()}, quick());
  for (const std::string& key : {std::string(""), std::string("a=b"), std::string("a\tb"), std::string(1025, 'k'),
                                 std::string("\xE2\x82")}) {
    const Result r = client.get(key);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("key"), std::string::npos) << r.error;
  }
  const Result big = client.set("k", std::string(65537, 'v'));
  EXPECT_FALSE(big.ok);
  EXPECT_NE(big.error.find("65536"), std::string::npos) << big.error;
  EXPECT_FALSE(client.set("k", std::string("\0", 1)).ok);
  EXPECT_FALSE(client.set("k", "\xC3\x28").ok);
  EXPECT_EQ(server.count(), 0u);
}

TEST(KvServers, ConstructorNamesTheBadEntry) {
  for (const std::string bad : {"nohost", ":8101", "h:0", "h:65536", "h:12ab", "h:", "a b:1", "h/x:1", "::1:80"}) {
    try {
      KvClient client({"127.0.0.1:8101", bad});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'" + bad + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(KvClient(std::vector<std::string>{}), std::invalid_argument);
  EXPECT_NO_THROW(KvClient({"localhost:1", "[::1]:65535", "10.0.0.1:8101"}));
}

TEST(KvServers, ServersTextAllowsSpacesNewlinesAndCommentLines) {
  const auto servers = parse_servers_text("# the tier\n  127.0.0.1:8101   127.0.0.1:8102\n\n\t# db3 below\n127.0.0.1:8103\n",
                                          "servers.txt");
  EXPECT_EQ(servers, (std::vector<std::string>{"127.0.0.1:8101", "127.0.0.1:8102", "127.0.0.1:8103"}));
  try {
    parse_servers_text("a:1\nb:2 # not a comment\n", "servers.txt");
    ADD_FAILURE() << "accepted a '#' inside a line";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("servers.txt:2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_server_list("a:1, b:2"), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_THROW(parse_server_list("a:1,,b:2"), std::invalid_argument);
}

TEST(KvServers, MissingOrEmptyServersFileIsAnErrorNamingIt) {
  testing::TempDir dir;
  const std::string missing = dir.file("servers.txt");
  try {
    read_servers_file(missing);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  std::ofstream(missing) << "\n# only a comment\n   \n";
  try {
    read_servers_file(missing);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Requests and answers.

TEST(KvClient, RequestLineCarriesThePercentEncodedKeyAndValue) {
  std::map<std::string, std::string> data;
  FakeServer server(store(data));
  KvClient client({server.address()}, quick());
  const std::string key = "b?c d%é#/", value = "x=y?z #%ü/";
  const Result set = client.set(key, value);
  ASSERT_TRUE(set.ok) << set.error;
  ASSERT_TRUE(client.get(key).ok);
  ASSERT_TRUE(client.get(key, true).ok);
  ASSERT_TRUE(client.set("..", "").ok);
  const auto lines = server.requests();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(target_of(lines[0]), "/b%3Fc%20d%25%C3%A9%23%2F=x%3Dy%3Fz%20%23%25%C3%BC%2F");
  EXPECT_EQ(lines[0].substr(0, 4), "GET ");
  EXPECT_EQ(target_of(lines[1]), "/b%3Fc%20d%25%C3%A9%23%2F");
  EXPECT_EQ(target_of(lines[2]), "/b%3Fc%20d%25%C3%A9%23%2F?local");
  EXPECT_EQ(target_of(lines[3]), "/..=");  // not squashed as a dot segment
  EXPECT_EQ(data.at(key), value);
}

TEST(KvClient, GetReturnsTheValueOrNoneAndSetReturnsTheOldValue) {
  std::map<std::string, std::string> data;
  FakeServer server(store(data));
  KvClient client({server.address()}, quick());
  const Result none = client.get("medal");
  ASSERT_TRUE(none.ok) << none.error;
  EXPECT_EQ(none.value, std::nullopt);
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.server, server.address());

  const Result first = client.set("medal", "bronze=3");
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.value, std::nullopt);
  const Result second = client.set("medal", "");
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.value, "bronze=3");
  const Result empty = client.get("medal");
  ASSERT_TRUE(empty.ok) << empty.error;
  EXPECT_EQ(empty.value, "");  // the empty string is a value, not none
}

TEST(KvClient, FoundHeaderTellsAStoredNilFromNoValue) {
  FakeServer server(always(http(200, "OK", "k=NIL", {{"X-Kv-Found", "no"}})));
  KvClient client({server.address()}, quick());
  const Result none = client.get("k");
  ASSERT_TRUE(none.ok) << none.error;
  EXPECT_EQ(none.value, std::nullopt);

  server.set_handler(always(http(200, "OK", "k=NIL", {{"X-Kv-Found", "yes"}})));
  const Result nil = client.get("k");
  ASSERT_TRUE(nil.ok) << nil.error;
  EXPECT_EQ(nil.value, "NIL");
}

TEST(KvClient, LocalReadReportsHowStaleItMayBe) {
  FakeServer server(always(http(200, "OK", "k=v", {{"X-Kv-Found", "yes"}, {"X-Applied-Index", "42"}, {"X-Behind-Ms", "unknown"}})));
  KvClient client({server.address()}, quick());
  const Result r = client.get("k", true);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "v");
  EXPECT_EQ(r.applied_index, "42");
  EXPECT_EQ(r.behind_ms, "unknown");
}

TEST(KvClient, AnswerForAnotherKeyIsAnError) {
  FakeServer server(always(http(200, "OK", "other=v", {{"X-Kv-Found", "yes"}})));
  KvClient client({server.address()}, quick());
  const Result r = client.get("k");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("unexpected answer"), std::string::npos) << r.error;
  EXPECT_EQ(server.count(), 1u);
}

TEST(KvClient, BadRequestIsTheAnswerAndNeverFailsOver) {
  FakeServer first(always(http(400, "Bad Request", "value is not valid UTF-8\n")));
  std::map<std::string, std::string> data;
  FakeServer second(store(data));
  KvClient client({first.address(), second.address()}, quick());
  const Result r = client.set("k", "v");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error, "value is not valid UTF-8");
  EXPECT_EQ(r.server, first.address());
  EXPECT_EQ(second.count(), 0u);

  first.set_handler(always(http(507, "Insufficient Storage", "the store is full\n")));
  const Result full = client.set("k", "v");
  EXPECT_EQ(full.status, 507);
  EXPECT_EQ(full.error, "the store is full");
  EXPECT_EQ(second.count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Failover and the leader.

TEST(KvClient, FailsOverFromARefusedConnection) {
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer up(store(data));
  KvClient client({refused_address(), up.address()}, quick());
  const Result r = client.get("k");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "v");
  EXPECT_EQ(r.server, up.address());
}

TEST(KvClient, FailsOverFromAServerThatNeverAnswers) {
  SilentServer silent;
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer up(store(data));
  KvClient client({silent.address(), up.address()}, quick());
  const auto start = SteadyTime::now();
  const Result r = client.set("k", "w");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "v");
  EXPECT_EQ(r.server, up.address());
  EXPECT_GE(since(start), milliseconds(250));   // it waited for the silent one...
  EXPECT_LT(since(start), milliseconds(2500));  // ...about one request timeout (300 ms)
}

TEST(KvClient, FailsOverFromAConnectionClosedWithoutAnswer) {
  FakeServer closing(always(""));
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer up(store(data));
  KvClient client({closing.address(), up.address()}, quick());
  const Result r = client.get("k");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.server, up.address());
  EXPECT_EQ(closing.count(), 1u);
}

TEST(KvClient, GoesToTheLeaderA503NamesAndRemembersIt) {
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer leader(store(data));  // not in the client's list: learned, added
  leader.set_handler(store(data, leader.address()));
  FakeServer follower(always(http(503, "Service Unavailable", "the leader did not answer in time\n",
                                  {{"X-Leader", leader.address()}})));
  KvClient client({follower.address()}, quick());
  const Result r = client.get("k");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "v");
  EXPECT_EQ(r.server, leader.address());
  EXPECT_EQ(client.leader(), leader.address());
  EXPECT_EQ(client.servers(), (std::vector<std::string>{follower.address(), leader.address()}));

  const Result again = client.set("k", "w");  // straight to the leader
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(follower.count(), 1u);
  EXPECT_EQ(leader.count(), 2u);
}

TEST(KvClient, LearnsTheLeaderFromAnyAnswer) {
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer leader(store(data));
  leader.set_handler(store(data, leader.address()));
  FakeServer follower(store(data, leader.address()));  // answers, and names the leader
  KvClient client({follower.address(), leader.address()}, quick());
  ASSERT_TRUE(client.get("k").ok);
  ASSERT_TRUE(client.get("k").ok);
  EXPECT_EQ(follower.count(), 1u);
  EXPECT_EQ(leader.count(), 1u);
}

TEST(KvClient, RetriesThroughAnElectionUntilALeaderAnswers) {
  std::atomic<int> asked{0};
  FakeServer server([&asked](const std::string&) {
    if (++asked < 3) return http(503, "Service Unavailable", "no leader\n");
    const std::vector<Header> found = {{"X-Kv-Found", "yes"}};
    return http(200, "OK", "k=v", found);
  });
  KvClient client({server.address()}, quick());
  const Result r = client.get("k");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "v");
  EXPECT_EQ(server.count(), 3u);
}

TEST(KvClient, AllServersDownIsAnErrorAfterTheGivenPasses) {
  const std::string a = refused_address(), b = refused_address();
  KvClient client({a, b}, quick(2));
  const auto start = SteadyTime::now();
  const Result r = client.get("k");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("no server answered (4 attempts"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(a), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(b), std::string::npos) << r.error;
  EXPECT_LT(since(start), milliseconds(2000));
}

TEST(KvClient, AllServersDownIsAnErrorAtTheTotalTimeout) {
  SilentServer silent;
  Options o = quick();
  o.total_timeout = milliseconds(700);
  KvClient client({refused_address(), silent.address()}, o);
  const auto start = SteadyTime::now();
  const Result r = client.set("k", "v");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no server answered"), std::string::npos) << r.error;
  EXPECT_GE(since(start), milliseconds(650));
  EXPECT_LT(since(start), milliseconds(2000));
}

// ---------------------------------------------------------------------------------------------
// The kv binary.

// Runs `kv args...` in `dir` to its end (10 s at most): its exit status and its stdout; its
// stderr goes to `stderr_text`.
testing::Finished run_kv(const testing::TempDir& dir, const std::vector<std::string>& args, std::string* stderr_text = nullptr) {
  static int runs = 0;
  const std::string out = dir.file("stdout-" + std::to_string(++runs)), err = dir.file("stderr-" + std::to_string(runs));
  std::vector<std::string> argv = {"/bin/sh", "-c", "cd \"$1\" || exit 99; shift; exec \"$@\" 2>\"$0\"", err, dir.path(),
                                   testing::bin("kv")};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Finished f = testing::run_to_end(argv, out, milliseconds(10000));
  if (stderr_text != nullptr) *stderr_text = testing::read_text_file(err);
  return f;
}

TEST(KvBinary, PrintsNullThenTheValueAndTheOldValue) {
  testing::TempDir dir;
  std::map<std::string, std::string> data;
  FakeServer server(store(data));
  std::string err;
  auto f = run_kv(dir, {"-h", server.address(), "medal"}, &err);
  EXPECT_EQ(f.status, 0);
  EXPECT_EQ(f.output, "NULL\n");
  EXPECT_EQ(err, "");
  f = run_kv(dir, {"-h", server.address(), "medal=gold=1 ?#%"});
  EXPECT_EQ(f.status, 0);
  EXPECT_EQ(f.output, "NULL\n");
  f = run_kv(dir, {"-h", server.address(), "medal"});
  EXPECT_EQ(f.status, 0);
  EXPECT_EQ(f.output, "gold=1 ?#%\n");
  f = run_kv(dir, {"-h", server.address(), "medal=silver"});
  EXPECT_EQ(f.output, "gold=1 ?#%\n");
  f = run_kv(dir, {"--local", "-h", server.address(), "medal"});
  EXPECT_EQ(f.output, "silver\n");
  EXPECT_EQ(target_of(server.requests().back()), "/medal?local");
}

TEST(KvBinary, FailsOverAcrossTheHostList) {
  testing::TempDir dir;
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer server(store(data));
  const auto f = run_kv(dir, {"-h", refused_address() + "," + server.address(), "k"});
  EXPECT_EQ(f.status, 0);
  EXPECT_EQ(f.output, "v\n");
}

TEST(KvBinary, PrintsErrorOnStdoutAndExitsOne) {
  testing::TempDir dir;
  FakeServer server(always(http(400, "Bad Request", "key is longer than 1024 bytes\n")));
  std::string err;
  auto f = run_kv(dir, {"-h", server.address(), "k"}, &err);
  EXPECT_EQ(f.status, 1);
  EXPECT_EQ(f.output, "ERROR: key is longer than 1024 bytes\n");
  EXPECT_EQ(err, "");

  f = run_kv(dir, {"-h", refused_address(), "--timeout", "0.5", "k"});  // nobody answers
  EXPECT_EQ(f.status, 1);
  EXPECT_EQ(f.output.rfind("ERROR: no server answered", 0), 0u) << f.output;

  f = run_kv(dir, {"-h", server.address(), "=v"});  // refused by the client: an empty key
  EXPECT_EQ(f.status, 1);
  EXPECT_EQ(f.output, "ERROR: the key is empty\n");
}

TEST(KvBinary, ReadsServersTxtInItsWorkingDirectory) {
  testing::TempDir dir;
  std::map<std::string, std::string> data = {{"k", "v"}};
  FakeServer server(store(data));
  auto f = run_kv(dir, {"k"});
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.output.find("ERROR: "), std::string::npos);
  EXPECT_NE(f.output.find("servers.txt"), std::string::npos) << f.output;

  std::ofstream(dir.file("servers.txt")) << "";
  f = run_kv(dir, {"k"});
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.output.find("servers.txt"), std::string::npos) << f.output;

  std::ofstream(dir.file("servers.txt")) << "# the tier\n" << refused_address() << "   \n\n  " << server.address() << "\n";
  f = run_kv(dir, {"k"});
  EXPECT_EQ(f.status, 0);
  EXPECT_EQ(f.output, "v\n");
}

TEST(KvBinary, BadUsageExitsTwo) {
  testing::TempDir dir;
  std::map<std::string, std::string> data;
  FakeServer server(store(data));
  const std::string h = server.address();
  for (const auto& args : std::vector<std::vector<std::string>>{{"-h", h},
                                                                {"-h", h, "a", "b"},
                                                                {"-h", h, "-h", h, "k"},
                                                                {"-h", h + ",nohost", "k"},
                                                                {"-h", "h:0", "k"},
                                                                {"--local", "-h", h, "k=v"},
                                                                {"--bogus", "-h", h, "k"}}) {
    const auto f = run_kv(dir, args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(f.status, 2) << joined << "-> " << f.output;
    EXPECT_EQ(f.output.rfind("ERROR: ", 0), 0u) << joined << "-> " << f.output;
  }
  EXPECT_EQ(server.count(), 0u);
  const auto help = run_kv(dir, {"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("NULL"), std::string::npos);
}

}  // namespace
}  // namespace oly::kv
