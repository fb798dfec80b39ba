// A small HTTP/1.0 client over raw loopback sockets for process tests: one GET, or a server-sent
// event stream read event by event. Every wait has a deadline; nothing throws.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace oly::testing {

struct HttpAnswer {
  int status = 0;                             // 0: no answer (refused, timed out, malformed)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// GET `target` from host:port as HTTP/1.0 with `headers`; reads until the server closes.
HttpAnswer http_get(const std::string& host_port, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    const std::string& method = "GET", std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

struct SseEvent {
  std::string event;  // "message" when the server named none
  std::string id;
  std::string data;
};

// GET /api/stream (or `target`) held open, its events read one by one.
class EventStreamClient {
 public:
  EventStreamClient(const std::string& host_port, const std::string& target = "/api/stream",
                    const std::optional<std::string>& last_event_id = std::nullopt);
  ~EventStreamClient();
  EventStreamClient(const EventStreamClient&) = delete;
  EventStreamClient& operator=(const EventStreamClient&) = delete;

  // Whether the response head said 200 with Content-Type text/event-stream (read on the first
  // next() or head_ok() call, waiting up to `timeout`).
  bool head_ok(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  const std::map<std::string, std::string>& head() const { return head_; }
  // The next event (comments and retry lines skipped), or nullopt when none came in `timeout` or
  // the server closed.
  std::optional<SseEvent> next(std::chrono::milliseconds timeout);
  bool closed() const { return closed_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buf_;
  bool head_read_ = false, head_good_ = false, closed_ = false;
  std::map<std::string, std::string> head_;
};

}  // namespace oly::testing
