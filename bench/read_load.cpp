// bench_read_load: a closed-loop load generator for the read path, the same client for both
// targets so that the client's own cost is the same in every comparison.
//
//   --target frontend --address H:P  C non-blocking TCP connections to a front end's native TCP
//                                    port for tablets (docs/protocol.md, section 8), each sending
//                                    `get_score` for the keys in turn, framed as tablets frame it:
//                                    a 4-byte big-endian length and one MessagePack map with a
//                                    fresh non-zero `req`, the client's `tablet` id and the
//                                    highest `min_version` it has seen for that event.
//   --target redis --address H:P     C non-blocking TCP connections speaking RESP, each sending
//                                    `GET <key>` and parsing the bulk-string reply.
//   --list-keys                      prints the keys, one a line, and exits.
//
// Each client does what a lean client of its protocol must, no more. Its requests are made once
// per key: a Redis GET as it is, a front end's with req and min_version patched in per request
// (frontend_request). A front end's score reply is read in place (codec_reads.h,
// parse_simple_reply: req, op, version and every field checked, no message built), a Redis
// reply's RESP parsed. The clock is read once per receive, for both targets.
//
// One thread and one epoll loop drive every client, so that a pass costs the clients that are
// ready, not all of them. Each client has exactly one request outstanding; when its reply arrives
// the latency is recorded and the next request goes out. The total request budget (--warmup +
// --requests) is shared by the clients: whichever is free takes the next request. The first
// --warmup replies are not measured; the window runs from the last of them to the last reply.
//
// Keys are the events of --config (default config/cluster.yaml) or --keys "a,b,c"; client i
// starts at key i and goes round-robin.
//
// Output: one line of key=value pairs on stdout:
//   target=frontend clients=C requests=N seconds=S rps=R p50_us=.. p99_us=.. max_us=.. mean_us=..
//   p10_us=.. p90_us=.. errors=E late=L request_bytes=.. reply_bytes=.. finished=yes
// (request_bytes: the last request's size; reply_bytes: the mean reply size, both as on the wire.)
// rps counts successful replies. An `error` reply from the front end and a Redis error or nil
// reply (missing key) count as errors (the first is described on stderr); a front end's frame
// that answers no outstanding request (a notice) is counted as late and ignored. Nothing is
// resent: TCP delivers or the run fails. The whole run is abandoned after --max-seconds.
//
// Exit status: 0 every measured request succeeded, 1 errors or an abandoned run (the line is
// still printed), 2 bad flags or a target that cannot be reached.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <msgpack.hpp>
#include <algorithm>
#include <numeric>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/cli.h"
#include "common/codec.h"
#include "common/codec_reads.h"
#include "common/config.h"
#include "common/config_file.h"
#include "common/message.h"
#include "common/string_sink.h"
#include "tabletnet/frames.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration;

enum class Target { kFrontend, kRedis };

struct Options {
  Target target = Target::kFrontend;
  std::string address;
  int clients = 1;
  uint64_t requests = 20000;
  uint64_t warmup = 1000;
  std::vector<std::string> keys;
  double max_seconds = 120;
};

// ---------------------------------------------------------------- RESP (Redis) replies

enum class Resp { kIncomplete, kValue, kNil, kError };

// Parses one reply at the start of `buf`: a bulk string ($n\r\n...\r\n or $-1\r\n) or an error
// (-...\r\n). Sets `used` to its length when complete; anything else is an error.
Resp parse_resp(std::string_view buf, size_t& used, std::string& error) {
  const size_t eol = buf.find("\r\n");
  if (eol == std::string_view::npos) return Resp::kIncomplete;
  if (buf[0] == '$') {
    const long n = std::strtol(std::string(buf.substr(1, eol - 1)).c_str(), nullptr, 10);
    if (n < 0) {
      used = eol + 2;
      return Resp::kNil;
    }
    const size_t total = eol + 2 + static_cast<size_t>(n) + 2;
    if (buf.size() < total) return Resp::kIncomplete;
    used = total;
    return Resp::kValue;
  }
  used = eol + 2;
  error = std::string(buf.substr(0, eol));
  return Resp::kError;
}

std::string resp_get(const std::string& key) {
  return "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
}

// "127.0.0.1:6379" or "tcp://127.0.0.1:6379" -> a connected, non-blocking, TCP_NODELAY socket.
int connect_tcp(const std::string& address) {
  std::string a = address.rfind("tcp://", 0) == 0 ? address.substr(6) : address;
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("address without a port: " + address);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(a.substr(colon + 1))));
  if (inet_pton(AF_INET, a.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    throw std::runtime_error("not an IPv4 address: " + address);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot connect to " + address + ": " + why);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// ---------------------------------------------------------------- the load generator

// frontend: a framed get_score with req and min_version written as 8-byte integers (MessagePack uint64;
// any width is valid) at req_at and min_at, so that a request only patches them (a Redis client's
// requests are made once too). min_version 0 asks for no more than no min_version does.
struct FrontendRequest {
  std::string bytes;
  size_t req_at = 0;
  size_t min_at = 0;
};

struct Client {
  int fd = -1;                       // its connection
  std::vector<uint64_t> seen;        // frontend: highest version seen per key
  size_t next_key = 0;
  bool busy = false;
  uint64_t req = 0;                  // frontend: the outstanding request's id
  size_t key = 0;                    // the outstanding request's key
  Clock::time_point sent_at;
  std::string inbuf;                 // redis: bytes received, not yet parsed
  oly::tabletnet::FrameReader frames;  // frontend: the replies' frames
  std::vector<FrontendRequest> requests;  // frontend: per key, the framed request (frontend_request)
};

// Client `tablet`'s request of `event`.
FrontendRequest frontend_request(const std::string& event, const std::string& tablet) {
  FrontendRequest r;
  std::string& f = r.bytes;
  const size_t at = oly::tabletnet::open_frame(f);
  oly::StringSink sink{f};
  msgpack::packer<oly::StringSink> pk(sink);
  pk.pack_map(5);
  pk.pack("op");
  pk.pack("get_score");
  pk.pack("req");
  r.req_at = f.size() + 1;  // after the uint64's type byte
  pk.pack_fix_uint64(0);
  pk.pack("event");
  pk.pack(event);
  pk.pack("min_version");
  r.min_at = f.size() + 1;
  pk.pack_fix_uint64(0);
  pk.pack("tablet");
  pk.pack(tablet);
  oly::tabletnet::close_frame(f, at);
  return r;
}

void put_u64(std::string& s, size_t at, uint64_t v) {
  for (size_t b = 0; b < 8; ++b) s[at + b] = static_cast<char>(v >> (8 * (7 - b)));
}

class Load {
 public:
  explicit Load(const Options& o) : o_(o), clients_(static_cast<size_t>(o.clients)) {
    total_ = o.warmup + o.requests;
    latencies_us_.reserve(o.requests);
    for (const auto& k : o.keys) redis_requests_.push_back(resp_get(k));
  }
  ~Load() {
    for (auto& c : clients_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_ >= 0) ::close(epoll_);
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // Opens every client's connection. Throws std::runtime_error when the target is unreachable.
  void connect() {
    epoll_ = epoll_create1(0);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& c = clients_[i];
      c.next_key = i % o_.keys.size();
      c.fd = connect_tcp(o_.address);
      if (o_.target == Target::kFrontend) {
        c.seen.assign(o_.keys.size(), 0);
        const std::string tablet = "b" + std::to_string(i);
        for (const auto& k : o_.keys) c.requests.push_back(frontend_request(k, tablet));
      }
      epoll_event ev{};
      ev.data.u64 = i;
      ev.events = EPOLLIN;
      if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }

  // Runs the whole budget. Returns false when the run was abandoned after --max-seconds.
  bool run() {
    const auto start = Clock::now();
    window_start_ = start;
    for (size_t i = 0; i < clients_.size(); ++i) issue(i, start);
    const auto deadline = start + duration<double>(o_.max_seconds);
    std::vector<epoll_event> events(clients_.size());
    while (done_ < total_) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 50);
      if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      for (int k = 0; k < n; ++k) {
        const auto i = static_cast<size_t>(events[static_cast<size_t>(k)].data.u64);
        if (o_.target == Target::kRedis) {
          read_redis(i);
        } else {
          read_frontend(i);
        }
      }
      if (Clock::now() >= deadline) return false;
    }
    return true;
  }

  void print(bool finished) {
    const double seconds = duration<double>(window_end_ - window_start_).count();
    std::vector<double>& l = latencies_us_;
    std::sort(l.begin(), l.end());
    const auto pct = [&l](double p) {
      if (l.empty()) return 0.0;
      return l[std::min(l.size() - 1, static_cast<size_t>(p * static_cast<double>(l.size())))];
    };
    const char* target = o_.target == Target::kFrontend ? "frontend" : "redis";
    std::printf(
        "target=%s clients=%d requests=%llu seconds=%.3f rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f "
        "mean_us=%.1f p10_us=%.1f p90_us=%.1f errors=%llu late=%llu request_bytes=%zu reply_bytes=%zu finished=%s\n",
        target, o_.clients, static_cast<unsigned long long>(measured_), seconds,
        seconds > 0 ? static_cast<double>(ok_) / seconds : 0.0, pct(0.50), pct(0.99),
        l.empty() ? 0.0 : l.back(), l.empty() ? 0.0 : std::accumulate(l.begin(), l.end(), 0.0) / static_cast<double>(l.size()),
        pct(0.10), pct(0.90), static_cast<unsigned long long>(errors_), static_cast<unsigned long long>(late_),
        request_bytes_, done_ > 0 ? static_cast<size_t>(reply_bytes_ / done_) : size_t{0}, finished ? "yes" : "no");
    std::fflush(stdout);
  }

  bool clean() const { return errors_ == 0; }

 private:
  // Sends client i's next request, if the budget has one left.
  void issue(size_t i, Clock::time_point now) {
    Client& c = clients_[i];
    c.busy = false;
    if (issued_ >= total_) return;
    ++issued_;
    c.busy = true;
    c.key = c.next_key;
    c.next_key = (c.next_key + 1) % o_.keys.size();
    c.sent_at = now;
    if (o_.target == Target::kRedis) {
      const std::string& r = redis_requests_[c.key];
      request_bytes_ = r.size();
      const ssize_t w = ::send(c.fd, r.data(), r.size(), MSG_NOSIGNAL);
      // A few dozen bytes into an empty socket buffer: a short write means the connection broke.
      if (w != static_cast<ssize_t>(r.size())) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      return;
    }
    c.req = ++next_req_;
    FrontendRequest& r = c.requests[c.key];
    std::string& f = r.bytes;
    put_u64(f, r.req_at, c.req);
    put_u64(f, r.min_at, c.seen[c.key]);
    request_bytes_ = f.size();
    // One frame outstanding per connection, into an empty socket buffer: a short write means the
    // connection broke.
    const ssize_t w = ::send(c.fd, f.data(), f.size(), MSG_NOSIGNAL);
    if (w != static_cast<ssize_t>(f.size())) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
  }

  // Client i's request is answered (ok or not): record it, send the next.
  void complete(size_t i, bool ok, Clock::time_point now) {
    Client& c = clients_[i];
    ++done_;
    if (done_ > o_.warmup) {
      ++measured_;
      if (ok) {
        ++ok_;
        latencies_us_.push_back(duration<double, std::micro>(now - c.sent_at).count());
      } else {
        ++errors_;
      }
      window_end_ = now;
    } else if (done_ == o_.warmup) {
      window_start_ = now;
    }
    issue(i, now);
  }

  void error(const std::string& what) {
    if (errors_ == 0 && done_ >= o_.warmup) std::fprintf(stderr, "first error: %s\n", what.c_str());
    if (done_ < o_.warmup && !warned_) {
      std::fprintf(stderr, "error during warm-up: %s\n", what.c_str());
      warned_ = true;
    }
  }

  // A front end's frame to client i.
  void on_frame(size_t i, std::string_view frame, Clock::time_point now) {
    Client& c = clients_[i];
    // A score, read in place (as a lean client would, building no message); anything else (an
    // error, a notice) fully decoded.
    oly::SimpleReply r;
    if (oly::parse_simple_reply(frame, r)) {
      if (!c.busy || r.req != c.req) {
        ++late_;
        return;
      }
      reply_bytes_ += frame.size();
      if (!r.score) {
        error("unexpected reply op medal_tally");
        complete(i, false, now);
        return;
      }
      c.seen[c.key] = std::max(c.seen[c.key], r.version);
      complete(i, true, now);
      return;
    }
    oly::Decoded d = oly::decode(frame);
    const uint64_t req = d.ok ? d.message.req : d.error.req;
    if (!c.busy || req != c.req) {  // a notice
      ++late_;
      return;
    }
    reply_bytes_ += frame.size();
    if (!d.ok) {
      error("undecodable reply: " + d.error.text);
      complete(i, false, now);
    } else if (const auto* s = std::get_if<oly::ScoreReply>(&d.message.body)) {
      c.seen[c.key] = std::max(c.seen[c.key], s->score.version);
      complete(i, true, now);
    } else if (const auto* e = std::get_if<oly::Error>(&d.message.body)) {
      error(std::string(oly::error_code_name(e->code)) + ": " + e->error);
      complete(i, false, now);
    } else {
      error(std::string("unexpected reply op ") + std::string(oly::op_name(d.message.body)));
      complete(i, false, now);
    }
  }

  void read_frontend(size_t i) {
    Client& c = clients_[i];
    char buf[16384];
    while (true) {
      const size_t room = std::min(sizeof buf, c.frames.room());
      if (room == 0) throw std::runtime_error("a reply frame over the limit");
      const ssize_t n = ::recv(c.fd, buf, room, 0);
      if (n > 0) {
        c.frames.feed(std::string_view(buf, static_cast<size_t>(n)));
        std::string_view frame;
        oly::tabletnet::FrameReader::Status s;
        const auto now = Clock::now();  // once per recv, as for Redis
        while ((s = c.frames.next(frame)) == oly::tabletnet::FrameReader::Status::kFrame) {
          reply_bytes_ += oly::tabletnet::kFramePrefix;
          on_frame(i, frame, now);
        }
        if (s != oly::tabletnet::FrameReader::Status::kNeedMore) throw std::runtime_error("a bad reply frame");
        continue;
      }
      if (n == 0) throw std::runtime_error("the front end closed the connection");
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    }
  }

  void read_redis(size_t i) {
    Client& c = clients_[i];
    char buf[16384];
    while (true) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.inbuf.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) throw std::runtime_error("redis closed the connection");
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    }
    const auto now = Clock::now();
    while (!c.inbuf.empty()) {
      size_t used = 0;
      std::string what;
      const Resp r = parse_resp(c.inbuf, used, what);
      if (r == Resp::kIncomplete) return;
      reply_bytes_ += used;
      c.inbuf.erase(0, used);
      if (r == Resp::kNil) error("nil reply (no such key): " + o_.keys[c.key]);
      if (r == Resp::kError) error("redis: " + what);
      complete(i, r == Resp::kValue, now);
    }
  }

  const Options& o_;
  std::vector<Client> clients_;
  int epoll_ = -1;
  std::vector<std::string> redis_requests_;  // redis: GET <key> per key, ready to send
  uint64_t total_ = 0;
  uint64_t issued_ = 0;
  uint64_t done_ = 0;       // replies received, warm-up included
  uint64_t measured_ = 0;   // replies after the warm-up
  uint64_t ok_ = 0;
  uint64_t errors_ = 0;
  uint64_t late_ = 0;
  uint64_t next_req_ = 0;
  bool warned_ = false;
  size_t request_bytes_ = 0;
  uint64_t reply_bytes_ = 0;  // all replies together
  std::vector<double> latencies_us_;
  Clock::time_point window_start_;
  Clock::time_point window_end_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_read_load: closed-loop read load against a front end's TCP port or Redis"};
  Options o;
  std::string target = "frontend";
  std::string keys;
  std::string config = "config/cluster.yaml";
  app.add_option("--target", target, "frontend (a front end's native TCP port for tablets) or redis")
      ->check(CLI::IsMember({"frontend", "redis"}))
      ->capture_default_str();
  app.add_option("--address", o.address, "HOST:PORT");
  app.add_option("--clients", o.clients, "concurrent clients, one request outstanding each")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--requests", o.requests, "measured requests, all clients together")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "requests before the measurement starts")->capture_default_str();
  app.add_option("--keys", keys, "comma-separated keys (event names) instead of the config's events");
  app.add_option("--config", config, "cluster config whose events are the keys")->capture_default_str();
  app.add_option("--max-seconds", o.max_seconds, "abandon the run after this long")
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  bool list_keys = false;
  app.add_flag("--list-keys", list_keys, "print the keys, one a line, and exit");
  if (const auto rc = oly::cli::parse(app, argc, argv, "bench_read_load")) return *rc;

  if (o.address.empty() && !list_keys) {
    std::fprintf(stderr, "error: --address is required\n");
    return 2;
  }
  o.target = target == "frontend" ? Target::kFrontend : Target::kRedis;
  try {
    o.keys = keys.empty() ? oly::load_config(config).events : oly::comma_split(keys);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  if (o.keys.empty()) {
    std::fprintf(stderr, "error: no keys\n");
    return 2;
  }
  if (list_keys) {
    for (const auto& k : o.keys) std::printf("%s\n", k.c_str());
    return 0;
  }
  Load load(o);
  try {
    load.connect();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  bool finished = false;
  try {
    finished = load.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    load.print(false);
    return 1;
  }
  if (!finished) std::fprintf(stderr, "error: abandoned after %.0f s\n", o.max_seconds);
  load.print(finished);
  return finished && load.clean() ? 0 : 1;
}
