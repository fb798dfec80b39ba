// libmicrohttpd in external-loop mode with epoll. Each request is an Exchange that libmicrohttpd
// carries as the request's context: created by the URI callback (the only place that sees the raw
// target), handed to the caller and suspended once complete, resumed by respond() so that the
// access handler is called again and queues the answer, forgotten by the completion callback.
//
// Why fd() is not libmicrohttpd's epoll fd itself: in 0.9.75 neither a resumed connection nor
// data it has not read yet (it reads a bounded amount per pass, and its epoll registrations are
// edge-triggered) makes that fd readable; only MHD_get_timeout() says 0. fd() is an epoll set of
// that fd and an eventfd we make readable in those two cases, so a caller that only polls fd()
// never waits for a timeout to be served.
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

namespace oly::http {
namespace {

// One request, from its request line (the URI callback) to the end of its answer (the
// completion callback). libmicrohttpd keeps a pointer to it as the request's context.
struct Exchange {
  enum class Stage {
    kReading,    // line, headers and body arriving; not yet seen by the caller
    kWaiting,    // returned by run(); connection suspended until respond()
    kAnswering,  // respond() stored the answer and resumed the connection
    kAnswered,   // the answer is queued in libmicrohttpd
  };
  uint64_t id = 0;
  Stage stage = Stage::kReading;
  bool suspended = false;
  bool headers_seen = false;  // the access handler was called once (line and headers parsed)
  size_t body_bytes = 0;      // of the request's body, read and dropped
  MHD_Connection* connection = nullptr;
  Request request;
  Response response;  // valid in kAnswering
  // A stream (start_stream): its body so far, from `sent` on not yet handed to libmicrohttpd.
  bool stream = false;
  bool stream_ended = false;
  std::string stream_buf;
  size_t sent = 0;
};


bool iequals(const std::string& a, const char* b) {
  return strcasecmp(a.c_str(), b) == 0;
}

// Headers that the server or libmicrohttpd writes itself.
bool reserved(const std::string& name) {
  for (const char* r : {"Server", "Content-Length", "Connection", "Date", "Transfer-Encoding"}) {
    if (iequals(name, r)) return true;
  }
  return false;
}

// An HTTP token (RFC 9110 5.6.2): what a header name may be made of.
bool is_token(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c) == 0 && std::strchr("!#$%&'*+-.^_`|~", c) == nullptr) return false;
  }
  return true;
}

bool has_line_break(const std::string& s) {
  return s.find_first_of(std::string("\r\n\0", 3)) != std::string::npos;
}

// "1.2.3.4:80" or "[::1]:80".
std::string address_text(const sockaddr* sa) {
  if (sa == nullptr) return "";
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) !=
      0) {
    return "";
  }
  return sa->sa_family == AF_INET6 ? "[" + std::string(host) + "]:" + serv
                                   : std::string(host) + ":" + serv;
}

std::string vformat(const char* fmt, va_list ap) {
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return "";
  std::string s(buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

struct Server::Impl {
  // run() makes at most this many passes while libmicrohttpd asks to be run again at once (it
  // reads a bounded amount per connection and pass); then it leaves fd() readable.
  static constexpr int kPassesPerRun = 8;

  Options options;
  MHD_Daemon* daemon = nullptr;
  int port = 0;
  int poll_fd = -1;  // fd(): an epoll set of libmicrohttpd's epoll fd and wake_fd
  int wake_fd = -1;  // an eventfd: made readable when run() has work libmicrohttpd's fd misses
  uint64_t next_id = 1;
  std::map<uint64_t, std::unique_ptr<Exchange>> exchanges;  // every request libmicrohttpd holds
  std::vector<Request> arrived;                             // complete, not yet returned by run()
  size_t waiting = 0;                                       // exchanges in kWaiting
  size_t answering = 0;  // exchanges in kAnswering: run() has work even if fd() is not readable
  size_t streams = 0;    // exchanges answered with a stream, not yet completed
  bool starting = true;
  std::string start_log;  // what libmicrohttpd logged while starting, for the constructor's error

  ~Impl() {
    if (daemon != nullptr) {
      // libmicrohttpd must not be stopped with suspended connections: resume them; stopping then
      // closes every connection and reports each request as completed (emptying `exchanges`).
      for (auto& [id, ex] : exchanges) resume(*ex);
      MHD_stop_daemon(daemon);
    }
    if (poll_fd >= 0) ::close(poll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);  // full counter: already awake
  }

  void drain() {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(wake_fd, &count, sizeof count);  // EAGAIN: nothing to drain
  }

  // Whether libmicrohttpd should run again now: answers to queue, or data it has not read yet
  // (its epoll registrations are edge-triggered, so that data will not wake its fd).
  bool due_now() const {
    if (answering > 0) return true;
    MHD_UNSIGNED_LONG_LONG ms = 1;
    return MHD_get_timeout(daemon, &ms) == MHD_YES && ms == 0;
  }

  Exchange& open(MHD_Connection* connection, const char* uri) {
    auto ex = std::make_unique<Exchange>();
    ex->id = next_id++;
    ex->connection = connection;
    ex->request.id = ex->id;
    ex->request.target = uri != nullptr ? uri : "";
    Exchange& ref = *ex;
    exchanges.emplace(ref.id, std::move(ex));
    return ref;
  }

  void suspend(Exchange& ex) {
    MHD_suspend_connection(ex.connection);
    ex.suspended = true;
  }

  void resume(Exchange& ex) {
    if (!ex.suspended) return;
    ex.suspended = false;
    MHD_resume_connection(ex.connection);
  }

  static constexpr size_t kStreamBlock = 16 * 1024;

  // What a stream's content reader is given: the stream's exchange is found by id at every call,
  // since the exchange may be gone (completed) before libmicrohttpd frees the response.
  struct StreamContext {
    Impl* impl;
    uint64_t id;
  };

  MHD_Response* stream_response(Exchange& ex) {
    auto* context = new StreamContext{this, ex.id};
    MHD_Response* resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, kStreamBlock, &Impl::on_stream_read,
                                                           context, &Impl::on_stream_free);
    if (resp == nullptr) delete context;
    return resp;
  }

  // A stream's content reader: the buffered bytes, the end, or nothing yet (the connection is
  // suspended until write() or end_stream() resumes it).
  static ssize_t on_stream_read(void* cls, uint64_t /*pos*/, char* buf, size_t max) {
    auto* context = static_cast<StreamContext*>(cls);
    Impl& self = *context->impl;
    auto it = self.exchanges.find(context->id);
    if (it == self.exchanges.end()) return MHD_CONTENT_READER_END_WITH_ERROR;
    Exchange& ex = *it->second;
    const size_t left = ex.stream_buf.size() - ex.sent;
    if (left > 0) {
      const size_t n = std::min(left, max);
      std::memcpy(buf, ex.stream_buf.data() + ex.sent, n);
      ex.sent += n;
      if (ex.sent == ex.stream_buf.size()) {
        ex.stream_buf.clear();
        ex.sent = 0;
      } else if (ex.sent > kStreamBlock && ex.sent * 2 > ex.stream_buf.size()) {
        ex.stream_buf.erase(0, ex.sent);
        ex.sent = 0;
      }
      return static_cast<ssize_t>(n);
    }
    if (ex.stream_ended) return MHD_CONTENT_READER_END_OF_STREAM;
    self.suspend(ex);
    return 0;
  }

  static void on_stream_free(void* cls) { delete static_cast<StreamContext*>(cls); }

  MHD_Result queue_answer(Exchange& ex) {
    Response& r = ex.response;
    MHD_Response* resp =
        ex.stream ? stream_response(ex)
                  : MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
    if (resp == nullptr) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, options.server.c_str());
    for (const auto& [name, value] : r.headers) {
      if (!is_token(name) || reserved(name) || has_line_break(value)) continue;
      MHD_add_response_header(resp, name.c_str(), value.c_str());
    }
    if (options.http10) MHD_set_response_options(resp, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
    unsigned status = r.status >= 200 && r.status <= 599 ? static_cast<unsigned>(r.status) : 500u;
    MHD_Result queued = MHD_queue_response(ex.connection, status, resp);
    MHD_destroy_response(resp);  // libmicrohttpd keeps its own reference
    --answering;
    ex.stage = Exchange::Stage::kAnswered;
    ex.response = Response{};
    return queued;
  }

  // Called for every request line libmicrohttpd parses, with the target as sent: the request's
  // context from then on.
  static void* on_uri(void* cls, const char* uri, MHD_Connection* connection) {
    return &static_cast<Impl*>(cls)->open(connection, uri);
  }

  static MHD_Result on_access(void* cls, MHD_Connection* connection, const char* /*url*/,
                              const char* method, const char* version, const char* /*upload_data*/,
                              size_t* upload_data_size, void** context) {
    Impl& self = *static_cast<Impl*>(cls);
    if (*context == nullptr)
      *context = &self.open(connection, nullptr);  // no URI callback: cannot happen
    Exchange& ex = *static_cast<Exchange*>(*context);
    ex.connection = connection;
    switch (ex.stage) {
      case Exchange::Stage::kReading:
        if (!ex.headers_seen) {
          ex.headers_seen = true;
          ex.request.method = method != nullptr ? method : "";
          ex.request.version = version != nullptr ? version : "";
          MHD_get_connection_values(connection, MHD_HEADER_KIND, &Impl::on_header,
                                    &ex.request.headers);
          const MHD_ConnectionInfo* info =
              MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
          if (info != nullptr) ex.request.peer = address_text(info->client_addr);
          return MHD_YES;  // libmicrohttpd reads the body (if any), then calls again
        }
        if (*upload_data_size != 0) {  // a body: read and dropped, up to a bound
          ex.body_bytes += *upload_data_size;
          *upload_data_size = 0;
          return ex.body_bytes <= self.options.max_request_bytes ? MHD_YES : MHD_NO;
        }
        ex.stage = Exchange::Stage::kWaiting;
        ++self.waiting;
        self.arrived.push_back(ex.request);
        self.suspend(ex);
        return MHD_YES;
      case Exchange::Stage::kWaiting:  // resumed without an answer: cannot happen; hold it again
        self.suspend(ex);
        return MHD_YES;
      case Exchange::Stage::kAnswering:
        return self.queue_answer(ex);
      case Exchange::Stage::kAnswered:
        break;
    }
    return MHD_NO;
  }

  static MHD_Result on_header(void* cls, MHD_ValueKind /*kind*/, const char* key,
                              const char* value) {
    static_cast<Headers*>(cls)->emplace_back(key != nullptr ? key : "",
                                             value != nullptr ? value : "");
    return MHD_YES;
  }

  static void on_completed(void* cls, MHD_Connection* /*connection*/, void** context,
                           MHD_RequestTerminationCode /*why*/) {
    Impl& self = *static_cast<Impl*>(cls);
    if (*context == nullptr) return;
    auto* ex = static_cast<Exchange*>(*context);
    *context = nullptr;
    if (ex->stage == Exchange::Stage::kWaiting) --self.waiting;
    if (ex->stage == Exchange::Stage::kAnswering) --self.answering;
    if (ex->stream) --self.streams;
    self.exchanges.erase(ex->id);
  }

  static void on_log(void* cls, const char* fmt, va_list ap) {
    Impl& self = *static_cast<Impl*>(cls);
    std::string line = vformat(fmt, ap);
    if (self.starting) {
      if (!self.start_log.empty()) self.start_log += "; ";
      self.start_log += line;
    }
    spdlog::debug("http: {}", line);
  }
};

Server::Server(Options options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = std::move(options);
  const Options& o = m.options;
  bool v6 = o.host.find(':') != std::string::npos;
  std::string where = (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
  auto fail = [&](const std::string& why) {
    throw std::runtime_error("cannot listen for HTTP on " + where + ": " + why);
  };
  if (o.port < 0 || o.port > 65535) fail("port out of range");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(o.port);
  int rc = getaddrinfo(o.host.empty() ? nullptr : o.host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) fail(gai_strerror(rc));
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);

  unsigned flags =
      MHD_USE_ERROR_LOG | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_SUPPRESS_DATE_NO_CLOCK;
  if (address.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  // The pool holds the request line and headers (plus libmicrohttpd's records of them) and then
  // the response's head: max_request_bytes must fit with room to spare.
  size_t memory = o.max_request_bytes + 64 * 1024;
  // clang-format off
  m.daemon = MHD_start_daemon(
      flags, static_cast<uint16_t>(o.port), nullptr, nullptr, &Impl::on_access, &m,
      MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_log, &m,  // first, to hear about the start itself
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<const sockaddr*>(&address),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(o.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(o.idle_timeout_s),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
      MHD_OPTION_URI_LOG_CALLBACK, &Impl::on_uri, &m,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, &m,
      MHD_OPTION_END);
  // clang-format on
  m.starting = false;
  if (m.daemon == nullptr)
    fail(m.start_log.empty() ? "libmicrohttpd could not start" : m.start_log);
  const MHD_DaemonInfo* info = MHD_get_daemon_info(m.daemon, MHD_DAEMON_INFO_BIND_PORT);
  m.port = info != nullptr && info->port != 0 ? info->port : o.port;
  info = MHD_get_daemon_info(m.daemon, MHD_DAEMON_INFO_EPOLL_FD);
  if (info == nullptr) fail("libmicrohttpd has no epoll fd");
  int mhd_fd = info->epoll_fd;

  m.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m.wake_fd < 0) fail(std::string("eventfd: ") + std::strerror(errno));
  m.poll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (m.poll_fd < 0) fail(std::string("epoll_create1: ") + std::strerror(errno));
  for (int fd : {mhd_fd, m.wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(m.poll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      fail(std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

Server::~Server() = default;

int Server::port() const {
  return impl_->port;
}

int Server::fd() const {
  return impl_->poll_fd;
}

std::vector<Request> Server::run() {
  Impl& m = *impl_;
  m.drain();
  for (int pass = 0; pass < Impl::kPassesPerRun; ++pass) {
    MHD_run(m.daemon);
    if (!m.due_now()) break;
  }
  if (m.due_now()) m.wake();
  return std::exchange(m.arrived, {});
}

bool Server::respond(uint64_t id, Response response) {
  Impl& m = *impl_;
  auto it = m.exchanges.find(id);
  if (it == m.exchanges.end() || it->second->stage != Exchange::Stage::kWaiting) return false;
  Exchange& ex = *it->second;
  ex.response = std::move(response);
  ex.stage = Exchange::Stage::kAnswering;
  --m.waiting;
  ++m.answering;
  // A resumed connection wakes neither libmicrohttpd's fd nor its timeout: wake ours.
  m.resume(ex);
  m.wake();
  return true;
}

bool Server::start_stream(uint64_t id, Response head) {
  Impl& m = *impl_;
  auto it = m.exchanges.find(id);
  if (it == m.exchanges.end() || it->second->stage != Exchange::Stage::kWaiting) return false;
  it->second->stream = true;
  it->second->stream_buf = std::exchange(head.body, {});
  ++m.streams;
  return respond(id, std::move(head));
}

namespace {

// The open stream `id` of `exchanges`, or nullptr.
template <class Map>
auto* open_stream(Map& exchanges, uint64_t id) {
  auto it = exchanges.find(id);
  if (it == exchanges.end() || !it->second->stream || it->second->stream_ended) {
    return static_cast<decltype(it->second.get())>(nullptr);
  }
  return it->second.get();
}

}  // namespace

bool Server::write(uint64_t id, std::string_view bytes) {
  Impl& m = *impl_;
  Exchange* ex = open_stream(m.exchanges, id);
  if (ex == nullptr) return false;
  ex->stream_buf.append(bytes);
  if (ex->stage == Exchange::Stage::kAnswered && ex->suspended) {
    m.resume(*ex);
    m.wake();
  }
  return true;
}

bool Server::streaming(uint64_t id) const {
  return open_stream(impl_->exchanges, id) != nullptr;
}

size_t Server::unsent(uint64_t id) const {
  const Exchange* ex = open_stream(impl_->exchanges, id);
  return ex == nullptr ? 0 : ex->stream_buf.size() - ex->sent;
}

bool Server::end_stream(uint64_t id) {
  Impl& m = *impl_;
  Exchange* ex = open_stream(m.exchanges, id);
  if (ex == nullptr) return false;
  ex->stream_ended = true;
  if (ex->stage == Exchange::Stage::kAnswered && ex->suspended) {
    m.resume(*ex);
    m.wake();
  }
  return true;
}

size_t Server::streams() const {
  return impl_->streams;
}

size_t Server::waiting() const {
  return impl_->waiting;
}

size_t Server::in_flight() const {
  return impl_->exchanges.size();
}

std::optional<std::chrono::milliseconds> Server::timeout() const {
  if (impl_->answering > 0) return std::chrono::milliseconds(0);
  MHD_UNSIGNED_LONG_LONG ms = 0;
  if (MHD_get_timeout(impl_->daemon, &ms) != MHD_YES) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace oly::http
