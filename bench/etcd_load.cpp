// bench_etcd_load: the anchor of bench/replicated. Durable puts to an etcd cluster (3.4) through
// its JSON gRPC gateway, `POST /v3/kv/put` with a base64 key and value over HTTP/1.1 keep-alive,
// measured the way bench/update and bench_failover measure the project's replicated tier. Each
// put is acknowledged by etcd once a majority has it in its WAL (fsync, etcd's default). (etcd
// 3.4's gateway answers /v3/... and /v3beta/...; /v3alpha/ is gone. It answers 200 with a body
// of Content-Length, or an error status with a chunked JSON body {"error", "code"} and a trailer.
// A put that a follower forwarded to a leader that died fails after about 7 s: "request timed
// out, possibly due to previous leader failure".)
//
//   --mode closed --connections C --seconds S
//       C connections, each with one put outstanding: when its answer arrives the next goes out
//       (the closed loop; bench/replicated gives it the concurrency of Cacofonix's window).
//       Puts/s over the steady middle of the run (the answers of its first and last fifth are
//       left out, as bench/update does), and the latency of those puts.
//   --mode rate --rate R --seconds S
//       one put every 1/R s, whatever is outstanding (open loop; an idle connection takes it, or
//       a new one is opened). p50/p99/max of answer - send over the puts sent after the first
//       second (bench/update leaves out the same), then up to 5 s for the last answers.
//   --mode failover --kills K --names N1,N2,N3 --pid-dir DIR --restart-cmd CMD
//       a put every 1/R s (default 200/s, one every 5 ms) from a thread of its own, spread
//       round-robin over the members that are up: a put whose connection fails (refused, reset,
//       closed) goes at once to the next member, which is then tried first for 500 ms. The main
//       thread, K times: waits until every member answers /v3/maintenance/status and all name
//       the same leader, lets the stream run --quiet-ms, kill -9s the leader (its pid from
//       DIR/NAME.pid), waits for the next acknowledged put and for a survivor naming a new
//       leader, leaves it down --down-ms, restarts it with CMD ("{name}" replaced by its name,
//       run by /bin/sh; CMD must start the member in the background, write DIR/NAME.pid and
//       return), and waits until every member answers again. The window of a kill is the first
//       acknowledgement after it minus the kill; an answer read from the killed member's own
//       connection to a put sent before the kill does not count (its last words, as
//       verify/windows.h treats the killed front end's). Also measured: the kill to the first
//       acknowledgement of a put first sent after the kill (no last words can count there).
//
// --protocol kv drives the project's replicated tier the same way instead (closed and rate only):
// each put is `GET /oly/0000=vvv...` to the key-value store's HTTP port (docs/kvstore.md), which a
// replica answers once a majority has the set on disk and it is applied; a follower forwards it
// to the leader, as an etcd member forwards a put. It succeeds on a 200 whose body names the key.
//
// --endpoints lists the members' client URLs (http://127.0.0.1:PORT, comma-separated; with
// --names in the same order). closed and rate spread their connections round-robin over them.
// Keys are oly/0000 ... (--keys of them, in turn), values --value-bytes long.
//
// Output, on stdout: per kill (failover) one line as it happens, then one line of key=value:
//   mode=closed endpoints=E connections=C seconds=S puts=N puts_per_s=R p50_us= p99_us= max_us=
//     errors=E failures=F
//   mode=rate endpoints=E rate=R seconds=S puts=N p50_us= p99_us= max_us= errors=E failures=F
//   mode=failover endpoints=E rate=R kills=K window_p50_ms= window_p99_ms= window_max_ms=
//     sent_after_p50_ms= sent_after_p99_ms= sent_after_max_ms= leader_p50_ms= leader_p99_ms=
//     leader_max_ms= settled_p50_ms= errors=E failures=F
// errors: puts etcd answered with an error (an HTTP status other than 200, or an error body);
// failures: puts without an answer (connection refused, reset or closed, or none within
// --timeout-ms). Percentiles are nearest-rank.
//
// Exit status: 0; 1 when a run ended early or a mode's measurement is empty (the line is still
// printed); 2 for bad flags or an endpoint that cannot be reached at the start; 130 when
// interrupted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::duration;
using std::chrono::milliseconds;

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop.store(true);
}

double ms_between(TimePoint a, TimePoint b) {
  return duration<double, std::milli>(b - a).count();
}

// Nearest-rank percentile of sorted values (0 when empty).
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

std::vector<std::string> comma_split(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= s.size()) {
    const size_t comma = s.find(',', from);
    const std::string part =
        s.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

// ---------------------------------------------------------------- endpoints and requests

struct Endpoint {
  std::string url;   // as given
  std::string host;  // 127.0.0.1:2379, for the Host header
  sockaddr_in addr{};
};

Endpoint parse_endpoint(const std::string& url) {
  std::string a = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  while (!a.empty() && a.back() == '/') a.pop_back();
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("endpoint without a port: " + url);
  Endpoint e;
  e.url = url;
  e.host = a;
  e.addr.sin_family = AF_INET;
  e.addr.sin_port = htons(static_cast<uint16_t>(std::stoi(a.substr(colon + 1))));
  if (inet_pton(AF_INET, a.substr(0, colon).c_str(), &e.addr.sin_addr) != 1)
    throw std::runtime_error("not an IPv4 address: " + url);
  return e;
}

std::string base64(std::string_view in) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kDigits[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kDigits[(v >> 18) & 63];
    out += kDigits[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kDigits[(v >> 18) & 63];
    out += kDigits[(v >> 12) & 63];
    out += kDigits[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string http_post(const Endpoint& e, std::string_view path, std::string_view body,
                      bool close = false) {
  std::string r = "POST ";
  r += path;
  r += " HTTP/1.1\r\nHost: " + e.host +
       "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
       "\r\n";
  if (close) r += "Connection: close\r\n";
  r += "\r\n";
  r += body;
  return r;
}

// ---------------------------------------------------------------- HTTP/1.1 responses

enum class Parse { kIncomplete, kDone, kBad };

// Parses one response at the start of `buf`: the status line, the headers, then a body of
// Content-Length bytes or a chunked one (the gateway sends its errors chunked, with a trailer).
// On kDone sets `used` to the response's length, `status` and `body`.
Parse parse_response(std::string_view buf, size_t& used, int& status, std::string& body) {
  const size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos)
    return buf.size() > 65536 ? Parse::kBad : Parse::kIncomplete;
  if (buf.substr(0, 5) != "HTTP/" || buf.size() < 12) return Parse::kBad;
  status = std::atoi(std::string(buf.substr(9, 3)).c_str());
  std::optional<size_t> length;
  bool chunked = false;
  size_t line = buf.find("\r\n") + 2;
  while (line < head_end + 2) {
    const size_t eol = buf.find("\r\n", line);
    std::string header(buf.substr(line, eol - line));
    std::transform(header.begin(), header.end(), header.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (header.rfind("content-length:", 0) == 0)
      length = std::strtoull(header.c_str() + 15, nullptr, 10);
    if (header.rfind("transfer-encoding:", 0) == 0 && header.find("chunked") != std::string::npos)
      chunked = true;
    line = eol + 2;
  }
  size_t pos = head_end + 4;
  body.clear();
  if (chunked) {
    while (true) {
      const size_t eol = buf.find("\r\n", pos);
      if (eol == std::string_view::npos) return Parse::kIncomplete;
      const size_t size =
          std::strtoull(std::string(buf.substr(pos, eol - pos)).c_str(), nullptr, 16);
      pos = eol + 2;
      if (size == 0) {
        while (true) {  // trailers, up to an empty line
          const size_t end = buf.find("\r\n", pos);
          if (end == std::string_view::npos) return Parse::kIncomplete;
          if (end == pos) {
            used = pos + 2;
            return Parse::kDone;
          }
          pos = end + 2;
        }
      }
      if (buf.size() < pos + size + 2) return Parse::kIncomplete;
      body.append(buf.substr(pos, size));
      pos += size + 2;
    }
  }
  if (!length) return Parse::kBad;  // a body up to the close: not what the gateway sends
  if (buf.size() < pos + *length) return Parse::kIncomplete;
  body.assign(buf.substr(pos, *length));
  used = pos + *length;
  return Parse::kDone;
}

// The protocol puts are sent in: etcd's JSON gateway, or the project's key-value store over HTTP
// (docs/kvstore.md: `GET /<key>=<value>`, answered `<key>=<old value>` after the Raft commit), so
// that the replicated tier and etcd are driven by the same generator.
enum class Protocol { etcd, kv };

bool put_succeeded(Protocol protocol, int status, const std::string& body) {
  if (protocol == Protocol::kv) return status == 200 && body.rfind("oly/", 0) == 0;
  return status == 200 && body.find("\"header\"") != std::string::npos &&
         body.find("\"error\"") == std::string::npos;
}

// A put of `key` = `value` (both URL-safe) in `protocol`, on a keep-alive connection.
std::string put_request(Protocol protocol, const Endpoint& e, const std::string& key,
                        const std::string& value) {
  if (protocol == Protocol::etcd)
    return http_post(e, "/v3/kv/put",
                     "{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(value) + "\"}");
  return "GET /" + key + "=" + value + " HTTP/1.1\r\nHost: " + e.host +
         "\r\nConnection: keep-alive\r\n\r\n";
}

// The decimal string after `"field":"` in a gateway JSON answer (uint64s come as strings).
std::string json_string(const std::string& body, const std::string& field) {
  const std::string tag = "\"" + field + "\":\"";
  const size_t at = body.find(tag);
  if (at == std::string::npos) return "";
  const size_t from = at + tag.size();
  return body.substr(from, body.find('"', from) - from);
}

// ---------------------------------------------------------------- the put loop

struct Done {
  TimePoint first_sent;   // when the put was first handed to a connection
  TimePoint sent;         // this attempt
  TimePoint done;         // its answer, or its failure
  size_t endpoint = 0;    // of this attempt
  bool ok = false;        // acknowledged
  bool answered = false;  // etcd answered (ok or an error); false: a failure
};

struct LoopSpec {
  int connections = 0;                      // > 0: closed loop with this many; 0: paced at `rate`
  double rate = 200;                        // puts per second (paced)
  TimePoint until;                          // stop sending then
  Clock::duration drain{};                  // then wait this long for outstanding answers (paced)
  const std::atomic<bool>* stop = nullptr;  // also stop sending when raised
  std::function<void(const Done&)> on_done;
};

class PutLoop {
 public:
  PutLoop(Protocol protocol, std::vector<Endpoint> endpoints, int keys, int value_bytes,
          int timeout_ms)
      : protocol_(protocol),
        endpoints_(std::move(endpoints)),
        timeout_(milliseconds(timeout_ms)),
        down_until_(endpoints_.size()) {
    const std::string value(static_cast<size_t>(value_bytes), 'v');
    requests_.resize(endpoints_.size());
    for (int k = 0; k < keys; ++k) {
      char key[32];
      std::snprintf(key, sizeof key, "oly/%04d", k);
      for (size_t e = 0; e < endpoints_.size(); ++e)
        requests_[e].push_back(put_request(protocol_, endpoints_[e], key, value));
    }
    idle_.resize(endpoints_.size());
  }
  ~PutLoop() {
    for (auto& c : conns_)
      if (c && c->fd >= 0) ::close(c->fd);
    if (timer_ >= 0) ::close(timer_);
    if (epoll_ >= 0) ::close(epoll_);
  }
  PutLoop(const PutLoop&) = delete;
  PutLoop& operator=(const PutLoop&) = delete;

  uint64_t errors() const { return errors_; }
  uint64_t failures() const { return failures_; }

  void run(const LoopSpec& spec) {
    spec_ = &spec;
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    const TimePoint start = Clock::now();
    const bool paced = spec.connections == 0;
    const auto interval =
        std::chrono::duration_cast<Clock::duration>(duration<double>(1.0 / spec.rate));
    TimePoint next_tick = start;
    if (paced) {
      timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (timer_ < 0)
        throw std::runtime_error(std::string("timerfd_create: ") + std::strerror(errno));
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kTimerTag;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);
      arm(next_tick);
    } else {
      for (int i = 0; i < spec.connections; ++i) {
        const size_t slot = open(static_cast<size_t>(i) % endpoints_.size());
        assign(slot, Put{next_key(), start, 0});
      }
    }
    std::vector<epoll_event> events(1024);
    TimePoint next_scan = start + milliseconds(100);
    bool sending = true;
    while (true) {
      const TimePoint now = Clock::now();
      if (sending && (now >= spec.until || (spec.stop && spec.stop->load()) || g_stop.load())) {
        sending = false;
        if (!paced) break;  // the closed loop's outstanding puts are not waited for
      }
      if (!sending && (busy_ == 0 || now >= spec.until + spec.drain || g_stop.load() ||
                       (spec.stop && spec.stop->load())))
        break;
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 20);
      if (n < 0 && errno != EINTR)
        throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      for (int k = 0; k < n; ++k) {
        const epoll_event& ev = events[static_cast<size_t>(k)];
        if (ev.data.u64 == kTimerTag) {
          uint64_t expirations = 0;
          [[maybe_unused]] const ssize_t r = ::read(timer_, &expirations, sizeof expirations);
          const TimePoint t = Clock::now();
          while (sending && next_tick <= t) {
            dispatch(Put{next_key(), t, 0});
            next_tick += interval;
          }
          if (sending) arm(next_tick);
          continue;
        }
        const auto slot = static_cast<size_t>(ev.data.u64);
        if (slot >= conns_.size() || !conns_[slot]) continue;  // closed earlier in this batch
        if (ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(slot);
        if (conns_[slot] && (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(slot);
      }
      if (paced && Clock::now() >= next_scan) {
        next_scan = Clock::now() + milliseconds(100);
        expire(Clock::now());
      }
      // Slots closed in this pass are reused only now: the pass's later events still name them.
      free_.insert(free_.end(), released_.begin(), released_.end());
      released_.clear();
    }
  }

 private:
  static constexpr uint64_t kTimerTag = ~uint64_t{0};

  struct Put {
    size_t key = 0;
    TimePoint first_sent;
    int attempts = 0;
  };

  struct Conn {
    int fd = -1;
    size_t endpoint = 0;
    bool connected = false;
    bool refused = false;  // connect() failed at once
    bool busy = false;
    Put put;
    TimePoint sent;
    std::string out;
    size_t out_off = 0;
    std::string in;
    uint32_t events = 0;
  };

  size_t next_key() {
    const size_t k = key_;
    key_ = (key_ + 1) % requests_[0].size();
    return k;
  }

  void arm(TimePoint at) {
    itimerspec spec{};
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
    spec.it_value.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = std::max<long>(1, ns % 1000000000);
    timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  // A new non-blocking connection to endpoint e; its slot.
  size_t open(size_t e) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->endpoint = e;
    size_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
      conns_[slot] = std::move(c);
    } else {
      slot = conns_.size();
      conns_.push_back(std::move(c));
    }
    Conn& conn = *conns_[slot];
    const int r =
        ::connect(fd, reinterpret_cast<const sockaddr*>(&endpoints_[e].addr), sizeof(sockaddr_in));
    conn.connected = r == 0;
    conn.refused = r != 0 && errno != EINPROGRESS;
    conn.events = EPOLLIN | EPOLLOUT;  // EPOLLOUT: the connect's completion (or failure)
    epoll_event ev{};
    ev.events = conn.events;
    ev.data.u64 = slot;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0)
      throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    return slot;
  }

  // Gives a put to the connection in `slot` and sends it when the connection is up.
  void assign(size_t slot, Put p) {
    Conn& c = *conns_[slot];
    ++p.attempts;
    c.busy = true;
    ++busy_;
    c.put = p;
    c.sent = Clock::now();
    c.out = requests_[c.endpoint][p.key];
    c.out_off = 0;
    if (c.connected) flush(slot);
  }

  // Paced: the next member that is up (round-robin), an idle connection to it or a new one.
  void dispatch(Put p) {
    const TimePoint now = Clock::now();
    size_t e = rr_ % endpoints_.size();
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      const size_t cand = (rr_ + i) % endpoints_.size();
      if (down_until_[cand] <= now) {
        e = cand;
        break;
      }
    }
    rr_ = e + 1;
    size_t slot;
    if (!idle_[e].empty()) {
      slot = idle_[e].back();
      idle_[e].pop_back();
    } else {
      slot = open(e);
    }
    assign(slot, p);
  }

  void flush(size_t slot) {
    Conn& c = *conns_[slot];
    while (c.out_off < c.out.size()) {
      const ssize_t w =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        fail(slot);
        return;
      }
      c.out_off += static_cast<size_t>(w);
    }
    want_out_slot(slot, c.out_off < c.out.size());
  }

  void want_out_slot(size_t slot, bool want) {
    Conn& c = *conns_[slot];
    const uint32_t events = EPOLLIN | (want ? EPOLLOUT : 0u);
    if (events == c.events) return;
    c.events = events;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = slot;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void on_writable(size_t slot) {
    Conn& c = *conns_[slot];
    if (c.refused) {
      fail(slot);
      return;
    }
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        fail(slot);
        return;
      }
      c.connected = true;
    }
    if (c.busy) {
      flush(slot);
    } else {
      want_out_slot(slot, false);
    }
  }

  void on_readable(size_t slot) {
    Conn& c = *conns_[slot];
    char buf[16384];
    while (true) {
      const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r > 0) {
        c.in.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (r < 0 && errno == EINTR) continue;
      fail(slot);  // closed or reset
      return;
    }
    while (!c.in.empty()) {
      size_t used = 0;
      int status = 0;
      std::string body;
      const Parse p = parse_response(c.in, used, status, body);
      if (p == Parse::kIncomplete) break;
      if (p == Parse::kBad || !c.busy) {
        if (!bad_answer_)
          std::fprintf(stderr, "bench_etcd_load: an answer that is not HTTP, or not asked for\n");
        bad_answer_ = true;
        fail(slot);
        return;
      }
      c.in.erase(0, used);
      answered(slot, put_succeeded(protocol_, status, body), body);
      if (conns_[slot].get() != &c) return;  // its next put found the connection broken
    }
  }

  void answered(size_t slot, bool ok, const std::string& body) {
    Conn& c = *conns_[slot];
    const TimePoint now = Clock::now();
    c.busy = false;
    --busy_;
    if (!ok) {
      ++errors_;
      if (errors_ == 1)
        std::fprintf(stderr, "bench_etcd_load: first error answer: %.300s\n", body.c_str());
    }
    if (spec_->on_done) spec_->on_done(Done{c.put.first_sent, c.sent, now, c.endpoint, ok, true});
    if (spec_->connections > 0) {
      if (!g_stop.load() && now < spec_->until) assign(slot, Put{next_key(), now, 0});
    } else {
      idle_[c.endpoint].push_back(slot);
    }
  }

  // The connection in `slot` broke (refused, reset, closed): closed loop, reopen and send its
  // next put; paced, the put goes to the next member at once and this one is avoided for 500 ms.
  void fail(size_t slot) {
    std::unique_ptr<Conn> c = std::move(conns_[slot]);
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    released_.push_back(slot);
    auto& idle = idle_[c->endpoint];
    idle.erase(std::remove(idle.begin(), idle.end(), slot), idle.end());
    if (!c->busy) return;
    --busy_;
    const TimePoint now = Clock::now();
    if (spec_->connections > 0) {
      ++failures_;
      if (spec_->on_done)
        spec_->on_done(Done{c->put.first_sent, c->sent, now, c->endpoint, false, false});
      if (failures_ > 100000) throw std::runtime_error("more than 100,000 connection failures");
      if (!g_stop.load() && now < spec_->until) assign(open(c->endpoint), Put{next_key(), now, 0});
      return;
    }
    down_until_[c->endpoint] = now + milliseconds(500);
    if (c->put.attempts < 2 * static_cast<int>(endpoints_.size())) {
      dispatch(c->put);
      return;
    }
    ++failures_;
    if (spec_->on_done)
      spec_->on_done(Done{c->put.first_sent, c->sent, now, c->endpoint, false, false});
  }

  // Paced: a put unanswered after the timeout fails (its connection is closed, no resend).
  void expire(TimePoint now) {
    for (size_t slot = 0; slot < conns_.size(); ++slot) {
      Conn* c = conns_[slot].get();
      if (c == nullptr || !c->busy || now - c->sent < timeout_) continue;
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
      ::close(c->fd);
      --busy_;
      ++failures_;
      if (spec_->on_done)
        spec_->on_done(Done{c->put.first_sent, c->sent, now, c->endpoint, false, false});
      conns_[slot].reset();
      released_.push_back(slot);
    }
  }

  Protocol protocol_;
  std::vector<Endpoint> endpoints_;
  Clock::duration timeout_;
  std::vector<TimePoint> down_until_;
  std::vector<std::vector<std::string>> requests_;  // [endpoint][key]
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<size_t> free_;               // slots to reuse
  std::vector<size_t> released_;           // slots closed in this pass of the loop
  std::vector<std::vector<size_t>> idle_;  // [endpoint]: connected, nothing outstanding
  const LoopSpec* spec_ = nullptr;
  int epoll_ = -1;
  int timer_ = -1;
  size_t key_ = 0;
  size_t rr_ = 0;
  size_t busy_ = 0;
  uint64_t errors_ = 0;
  uint64_t failures_ = 0;
  bool bad_answer_ = false;
};

// ---------------------------------------------------------------- member status (blocking)

struct Status {
  std::string member;  // this member's id
  std::string leader;  // the leader it knows ("0": none)
};

// POST /v3/maintenance/status to one member on a fresh connection, within timeout_ms.
std::optional<Status> member_status(const Endpoint& e, int timeout_ms) {
  const TimePoint deadline = Clock::now() + milliseconds(timeout_ms);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const auto left_ms = [&] {
    return std::max(0, static_cast<int>(ms_between(Clock::now(), deadline)));
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), sizeof(sockaddr_in)) != 0) {
    if (errno != EINPROGRESS) return std::nullopt;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, left_ms()) != 1) return std::nullopt;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return std::nullopt;
  }
  const std::string req = http_post(e, "/v3/maintenance/status", "{}", true);
  size_t off = 0;
  while (off < req.size()) {
    const ssize_t w = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN) return std::nullopt;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, left_ms()) != 1) return std::nullopt;
  }
  std::string in;
  while (true) {
    size_t used = 0;
    int status = 0;
    std::string body;
    const Parse parsed = parse_response(in, used, status, body);
    if (parsed == Parse::kBad) return std::nullopt;
    if (parsed == Parse::kDone) {
      if (status != 200) return std::nullopt;
      Status s{json_string(body, "member_id"), json_string(body, "leader")};
      if (s.member.empty()) return std::nullopt;
      if (s.leader.empty()) s.leader = "0";
      return s;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left_ms()) != 1) return std::nullopt;
    char buf[8192];
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) return std::nullopt;
    in.append(buf, static_cast<size_t>(r));
  }
}

// ---------------------------------------------------------------- the modes

struct Options {
  std::string mode = "closed";
  Protocol protocol = Protocol::etcd;
  std::vector<std::string> endpoints;
  int connections = 64;
  double seconds = 10;
  double rate = 200;
  int keys = 1000;
  int value_bytes = 32;
  int timeout_ms = 10000;
  // failover
  int kills = 20;
  std::vector<std::string> names;
  std::string pid_dir;
  std::string restart_cmd;
  int down_ms = 500;
  int quiet_ms = 1000;
  int settle_timeout_s = 60;
};

struct Latencies {
  std::vector<double> us;
  void sort() { std::sort(us.begin(), us.end()); }
  std::string text() const {
    char b[160];
    std::snprintf(b, sizeof b, "p50_us=%.0f p99_us=%.0f max_us=%.0f", percentile(us, 0.5),
                  percentile(us, 0.99), us.empty() ? 0.0 : us.back());
    return b;
  }
};

int run_closed(const Options& o, std::vector<Endpoint> eps) {
  std::vector<Done> done;
  done.reserve(1 << 18);
  PutLoop loop(o.protocol, eps, o.keys, o.value_bytes, o.timeout_ms);
  LoopSpec spec;
  spec.connections = o.connections;
  const TimePoint start = Clock::now();
  spec.until = start + std::chrono::duration_cast<Clock::duration>(duration<double>(o.seconds));
  spec.on_done = [&](const Done& d) { done.push_back(d); };
  loop.run(spec);
  // The steady middle: the answers of the first and last fifth of the run are left out.
  const TimePoint lo = start + (spec.until - start) / 5;
  const TimePoint hi = start + (spec.until - start) * 4 / 5;
  uint64_t n = 0;
  Latencies lat;
  for (const Done& d : done) {
    if (!d.ok || d.done < lo || d.done >= hi) continue;
    ++n;
    lat.us.push_back(duration<double, std::micro>(d.done - d.sent).count());
  }
  lat.sort();
  const double window_s = duration<double>(hi - lo).count();
  std::printf(
      "mode=closed endpoints=%zu connections=%d seconds=%.1f puts=%llu puts_per_s=%.0f %s "
      "errors=%llu failures=%llu\n",
      eps.size(), o.connections, o.seconds, static_cast<unsigned long long>(n),
      window_s > 0 ? static_cast<double>(n) / window_s : 0.0, lat.text().c_str(),
      static_cast<unsigned long long>(loop.errors()),
      static_cast<unsigned long long>(loop.failures()));
  return g_stop.load() ? 130 : n > 0 ? 0 : 1;
}

int run_rate(const Options& o, std::vector<Endpoint> eps) {
  std::vector<Done> done;
  PutLoop loop(o.protocol, eps, o.keys, o.value_bytes, o.timeout_ms);
  LoopSpec spec;
  spec.rate = o.rate;
  const TimePoint start = Clock::now();
  spec.until = start + std::chrono::duration_cast<Clock::duration>(duration<double>(o.seconds));
  spec.drain = std::chrono::seconds(5);
  spec.on_done = [&](const Done& d) { done.push_back(d); };
  loop.run(spec);
  Latencies lat;
  for (const Done& d : done)
    if (d.ok && d.first_sent >= start + std::chrono::seconds(1))
      lat.us.push_back(duration<double, std::micro>(d.done - d.first_sent).count());
  lat.sort();
  std::printf(
      "mode=rate endpoints=%zu rate=%.0f seconds=%.1f puts=%zu %s errors=%llu failures=%llu\n",
      eps.size(), o.rate, o.seconds, lat.us.size(), lat.text().c_str(),
      static_cast<unsigned long long>(loop.errors()),
      static_cast<unsigned long long>(loop.failures()));
  return g_stop.load() ? 130 : lat.us.empty() ? 1 : 0;
}

// Sleeps `d`, waking early when interrupted; false when interrupted.
bool pause_for(Clock::duration d) {
  const TimePoint until = Clock::now() + d;
  while (Clock::now() < until) {
    if (g_stop.load()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(10), until - Clock::now()));
  }
  return !g_stop.load();
}

class Failover {
 public:
  Failover(const Options& o, std::vector<Endpoint> eps) : o_(o), eps_(std::move(eps)) {}

  int run() {
    stream_ = std::thread([this] { stream(); });
    std::string aborted;
    try {
      aborted = kills();
    } catch (const std::exception& e) {
      aborted = e.what();
    }
    stop_.store(true);
    stream_.join();
    if (!stream_error_.empty() && aborted.empty())
      aborted = "the put stream failed: " + stream_error_;
    std::vector<double> windows, sent_after, leaders, settled;
    for (const auto& k : results_) {
      if (k.window_ms) windows.push_back(*k.window_ms);
      if (k.sent_after_ms) sent_after.push_back(*k.sent_after_ms);
      if (k.leader_ms) leaders.push_back(*k.leader_ms);
      if (k.settled_ms) settled.push_back(*k.settled_ms);
    }
    std::sort(windows.begin(), windows.end());
    std::sort(sent_after.begin(), sent_after.end());
    std::sort(leaders.begin(), leaders.end());
    std::sort(settled.begin(), settled.end());
    if (!aborted.empty()) std::printf("run ended early: %s\n", aborted.c_str());
    std::printf(
        "mode=failover endpoints=%zu rate=%.0f kills=%zu window_p50_ms=%.1f window_p99_ms=%.1f "
        "window_max_ms=%.1f "
        "sent_after_p50_ms=%.1f sent_after_p99_ms=%.1f sent_after_max_ms=%.1f "
        "leader_p50_ms=%.1f leader_p99_ms=%.1f leader_max_ms=%.1f settled_p50_ms=%.1f errors=%llu "
        "failures=%llu\n",
        eps_.size(), o_.rate, windows.size(), percentile(windows, 0.5), percentile(windows, 0.99),
        windows.empty() ? 0.0 : windows.back(), percentile(sent_after, 0.5),
        percentile(sent_after, 0.99), sent_after.empty() ? 0.0 : sent_after.back(),
        percentile(leaders, 0.5), percentile(leaders, 0.99), leaders.empty() ? 0.0 : leaders.back(),
        percentile(settled, 0.5), static_cast<unsigned long long>(errors_),
        static_cast<unsigned long long>(failures_));
    std::fflush(stdout);
    if (g_stop.load()) return 130;
    return aborted.empty() && !windows.empty() ? 0 : 1;
  }

 private:
  struct Kill {
    std::optional<double> window_ms;
    std::optional<double> sent_after_ms;  // to the first ack of a put first sent after the kill
    std::optional<double> leader_ms;
    std::optional<double> settled_ms;
  };

  void stream() {
    try {
      PutLoop loop(o_.protocol, eps_, o_.keys, o_.value_bytes, o_.timeout_ms);
      LoopSpec spec;
      spec.rate = o_.rate;
      spec.until = TimePoint::max() - std::chrono::hours(24);
      spec.stop = &stop_;
      spec.on_done = [this](const Done& d) {
        std::lock_guard lock(mu_);
        if (d.ok)
          acks_.push_back(d);
        else if (d.answered)
          ++errors_;
        else
          ++failures_;
      };
      loop.run(spec);
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      stream_error_ = e.what();
    }
  }

  // The first acknowledgement after `t`, not counting the killed member's last words (or, with
  // sent_after, of a put first sent after `t`).
  std::optional<TimePoint> first_ack_after(TimePoint t, std::optional<size_t> killed,
                                           bool sent_after = false) {
    std::lock_guard lock(mu_);
    auto it = std::upper_bound(acks_.begin(), acks_.end(), t,
                               [](TimePoint v, const Done& d) { return v < d.done; });
    for (; it != acks_.end(); ++it) {
      if (killed && it->endpoint == *killed && it->sent <= t) continue;
      if (sent_after && it->first_sent <= t) continue;
      return it->done;
    }
    return std::nullopt;
  }

  struct Leader {
    size_t index = 0;
    std::string id;
  };

  // The leader when every member answers and all name the same one of them.
  std::optional<Leader> healthy_leader() {
    std::vector<Status> all;
    for (const auto& e : eps_) {
      auto s = member_status(e, 500);
      if (!s) return std::nullopt;
      all.push_back(*s);
    }
    for (const auto& s : all)
      if (s.leader == "0" || s.leader != all[0].leader) return std::nullopt;
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i].member == all[0].leader) return Leader{i, all[i].member};
    return std::nullopt;
  }

  // Waits until healthy and acknowledging puts; the leader, or nullopt after `limit`.
  std::optional<Leader> wait_healthy(Clock::duration limit) {
    const TimePoint deadline = Clock::now() + limit;
    while (Clock::now() < deadline && !g_stop.load() && stream_ok()) {
      const TimePoint asked = Clock::now();
      if (auto leader = healthy_leader();
          leader && first_ack_after(asked - milliseconds(200), std::nullopt))
        return leader;
      pause_for(milliseconds(20));
    }
    return std::nullopt;
  }

  bool stream_ok() {
    std::lock_guard lock(mu_);
    return stream_error_.empty();
  }

  std::string read_pid(const std::string& name) {
    std::ifstream f(o_.pid_dir + "/" + name + ".pid");
    std::string pid;
    f >> pid;
    return pid;
  }

  // The kills; returns why the run ended early ("" when it did not).
  std::string kills() {
    const TimePoint t0 = Clock::now();
    const auto settle = std::chrono::seconds(o_.settle_timeout_s);
    if (!wait_healthy(settle))
      return "etcd not healthy (every member answering, one leader, puts acknowledged) at the "
             "start";
    for (int i = 0; i < o_.kills; ++i) {
      if (!pause_for(milliseconds(o_.quiet_ms))) return "interrupted";
      const auto leader = wait_healthy(settle);
      if (!leader) return "etcd not healthy before kill " + std::to_string(i + 1);
      const size_t victim = leader->index;
      const std::string& old_id = leader->id;
      const std::string name = o_.names[victim];
      const std::string pid_text = read_pid(name);
      const pid_t pid = static_cast<pid_t>(std::atol(pid_text.c_str()));
      if (pid <= 1) return "no pid in " + o_.pid_dir + "/" + name + ".pid";
      const TimePoint killed = Clock::now();
      if (::kill(pid, SIGKILL) != 0)
        return "cannot kill " + name + " (pid " + pid_text + "): " + std::strerror(errno);
      Kill k;
      std::string new_leader = "none";
      const TimePoint give_up = killed + std::chrono::seconds(30);
      while ((!k.window_ms || !k.sent_after_ms || !k.leader_ms) && Clock::now() < give_up &&
             !g_stop.load()) {
        if (!k.window_ms)
          if (const auto a = first_ack_after(killed, victim)) k.window_ms = ms_between(killed, *a);
        if (!k.sent_after_ms)
          if (const auto a = first_ack_after(killed, victim, true))
            k.sent_after_ms = ms_between(killed, *a);
        if (!k.leader_ms) {
          for (size_t m = 0; m < eps_.size(); ++m) {
            if (m == victim) continue;
            const auto s = member_status(eps_[m], 100);
            if (s && s->leader != "0" && s->leader != old_id) {
              k.leader_ms = ms_between(killed, Clock::now());
              for (size_t j = 0; j < eps_.size(); ++j) {
                const auto sj = j == victim ? std::nullopt : member_status(eps_[j], 100);
                if (sj && sj->member == s->leader) new_leader = o_.names[j];
              }
              break;
            }
          }
        }
        pause_for(milliseconds(5));
      }
      if (!pause_for(milliseconds(o_.down_ms))) return "interrupted";
      std::string cmd = o_.restart_cmd;
      for (size_t at; (at = cmd.find("{name}")) != std::string::npos;) cmd.replace(at, 6, name);
      const TimePoint restarted = Clock::now();
      if (const int rc = std::system(cmd.c_str()); rc != 0)
        return "the restart command failed (status " + std::to_string(rc) + "): " + cmd;
      const bool again = wait_healthy(settle).has_value();
      if (again) k.settled_ms = ms_between(restarted, Clock::now());
      const auto text = [](const std::optional<double>& v) {
        char b[32];
        if (!v) return std::string("-");
        std::snprintf(b, sizeof b, "%.1f ms", *v);
        return std::string(b);
      };
      std::printf(
          "kill %d/%d: %s (leader, pid %s) at +%.1f s; next ack after %s (of a put sent after the "
          "kill: %s); %s leads "
          "after %s; restarted; %s\n",
          i + 1, o_.kills, name.c_str(), pid_text.c_str(), ms_between(t0, killed) / 1000,
          text(k.window_ms).c_str(), text(k.sent_after_ms).c_str(), new_leader.c_str(),
          text(k.leader_ms).c_str(),
          again ? ("healthy again " + text(k.settled_ms) + " after the restart").c_str()
                : "NOT healthy again");
      std::fflush(stdout);
      results_.push_back(k);
      if (!k.window_ms) return "no acknowledged put within 30 s of kill " + std::to_string(i + 1);
      if (!again)
        return "not healthy " + std::to_string(o_.settle_timeout_s) + " s after restarting " + name;
    }
    return "";
  }

  const Options& o_;
  std::vector<Endpoint> eps_;
  std::thread stream_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Done> acks_;  // in the order of their answers (one thread appends)
  uint64_t errors_ = 0;
  uint64_t failures_ = 0;
  std::string stream_error_;
  std::vector<Kill> results_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench_etcd_load: durable puts to etcd through its JSON gateway: a closed loop, a fixed "
      "rate, or "
      "leader kills",
      "bench_etcd_load"};
  Options o;
  std::string endpoints, names;
  app.add_option("--mode", o.mode, "closed, rate or failover")
      ->check(CLI::IsMember({"closed", "rate", "failover"}))
      ->capture_default_str();
  std::string protocol = "etcd";
  app.add_option("--protocol", protocol,
                 "etcd (its JSON gateway) or kv (the replicated tier's key-value store over "
                 "HTTP, docs/kvstore.md; closed and rate only)")
      ->check(CLI::IsMember({"etcd", "kv"}))
      ->capture_default_str();
  app.add_option("--endpoints", endpoints,
                 "the members' client URLs, comma-separated (http://127.0.0.1:PORT)")
      ->required();
  app.add_option("--connections", o.connections, "closed: puts in flight, one per connection")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "closed, rate: how long")
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  app.add_option("--rate", o.rate, "rate, failover: puts per second")
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  app.add_option("--keys", o.keys, "distinct keys, used in turn")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--value-bytes", o.value_bytes, "bytes per value")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--timeout-ms", o.timeout_ms, "rate, failover: a put unanswered this long fails")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  app.add_option("--kills", o.kills, "failover: how many kills of the leader")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--names", names,
                 "failover: the members' names, comma-separated, in --endpoints' order");
  app.add_option("--pid-dir", o.pid_dir, "failover: where NAME.pid holds each member's pid");
  app.add_option(
      "--restart-cmd", o.restart_cmd,
      "failover: starts a killed member in the background ({name} is replaced), via /bin/sh");
  app.add_option("--down-ms", o.down_ms,
                 "failover: how long a killed leader stays down after the next ack")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--quiet-ms", o.quiet_ms, "failover: how long etcd runs healthy before each kill")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--settle-timeout-s", o.settle_timeout_s,
                 "failover: give up when not healthy this long")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  if (const auto rc = oly::cli::parse(app, argc, argv, "bench_etcd_load")) return *rc;

  o.protocol = protocol == "kv" ? Protocol::kv : Protocol::etcd;
  if (o.protocol == Protocol::kv && o.mode == "failover") {
    std::fprintf(stderr, "bench_etcd_load: --protocol kv runs closed and rate only\n");
    return 2;
  }
  o.endpoints = comma_split(endpoints);
  o.names = comma_split(names);
  std::vector<Endpoint> eps;
  try {
    for (const auto& e : o.endpoints) eps.push_back(parse_endpoint(e));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_etcd_load: %s\n", e.what());
    return 2;
  }
  if (eps.empty()) {
    std::fprintf(stderr, "bench_etcd_load: no endpoints\n");
    return 2;
  }
  if (o.mode == "failover" &&
      (o.names.size() != eps.size() || o.pid_dir.empty() || o.restart_cmd.empty())) {
    std::fprintf(stderr,
                 "bench_etcd_load: failover needs --names (one per endpoint), --pid-dir and "
                 "--restart-cmd\n");
    return 2;
  }
  for (const auto& e : eps) {
    if (o.protocol == Protocol::etcd && !member_status(e, 2000)) {
      std::fprintf(stderr, "bench_etcd_load: %s does not answer /v3/maintenance/status\n",
                   e.url.c_str());
      return 2;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    if (o.mode == "closed") return run_closed(o, eps);
    if (o.mode == "rate") return run_rate(o, eps);
    return Failover(o, eps).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_etcd_load: %s\n", e.what());
    return 1;
  }
}
