#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace oly::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;

int connect_to(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads what `fd` has until `deadline`: false at the deadline or when it closed (then *closed).
bool read_until(int fd, std::string& buf, SteadyClock::time_point deadline, bool* closed) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  if (left <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
  char chunk[16384];
  const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) {
    *closed = true;
    return false;
  }
  buf.append(chunk, static_cast<size_t>(n));
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Parses "HTTP/1.x NNN ...\r\nName: value\r\n...": the status and headers.
int parse_head(const std::string& head, std::map<std::string, std::string>& headers) {
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) return 0;
  const int status = std::atoi(status_line.substr(9, 3).c_str());
  while (line_end != std::string::npos && line_end + 2 < head.size()) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    headers[lower(line.substr(0, colon))] = value;
  }
  return status;
}

std::string request_text(const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string r = method + " " + target + " HTTP/1.0\r\n";
  for (const auto& [n, v] : headers) r += n + ": " + v + "\r\n";
  return r + "\r\n";
}

}  // namespace

HttpAnswer http_get(const std::string& host_port, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& method,
                    std::chrono::milliseconds timeout) {
  HttpAnswer a;
  const int fd = connect_to(host_port);
  if (fd < 0) return a;
  const auto deadline = SteadyClock::now() + timeout;
  std::string buf;
  bool closed = false;
  if (write_all(fd, request_text(method, target, headers))) {
    while (!closed && read_until(fd, buf, deadline, &closed)) {
    }
  }
  ::close(fd);
  const size_t end = buf.find("\r\n\r\n");
  if (!closed || end == std::string::npos) return a;
  a.status = parse_head(buf.substr(0, end), a.headers);
  a.body = buf.substr(end + 4);
  return a;
}

EventStreamClient::EventStreamClient(const std::string& host_port, const std::string& target,
                                     const std::optional<std::string>& last_event_id) {
  fd_ = connect_to(host_port);
  std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "text/event-stream"}};
  if (last_event_id) headers.emplace_back("Last-Event-ID", *last_event_id);
  if (fd_ >= 0 && !write_all(fd_, request_text("GET", target, headers))) closed_ = true;
  if (fd_ < 0) closed_ = true;
}

EventStreamClient::~EventStreamClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool EventStreamClient::read_some(SteadyClock::time_point deadline) {
  if (closed_) return false;
  return read_until(fd_, buf_, deadline, &closed_);
}

bool EventStreamClient::head_ok(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!head_read_) {
    const size_t end = buf_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head_read_ = true;
      const int status = parse_head(buf_.substr(0, end), head_);
      buf_.erase(0, end + 4);
      head_good_ = status == 200 && head_["content-type"].starts_with("text/event-stream");
      break;
    }
    if (!read_some(deadline)) return false;
  }
  return head_good_;
}

std::optional<SseEvent> EventStreamClient::next(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  if (!head_ok(timeout)) return std::nullopt;
  while (true) {
    size_t end;
    while ((end = buf_.find("\n\n")) != std::string::npos) {
      const std::string block = buf_.substr(0, end);
      buf_.erase(0, end + 2);
      SseEvent e;
      bool any = false;
      size_t pos = 0;
      while (pos < block.size()) {
        size_t nl = block.find('\n', pos);
        if (nl == std::string::npos) nl = block.size();
        const std::string line = block.substr(pos, nl - pos);
        pos = nl + 1;
        const size_t colon = line.find(':');
        if (colon == 0) continue;  // a comment
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (field == "event") e.event = value, any = true;
        if (field == "id") e.id = value, any = true;
        if (field == "data") e.data += (e.data.empty() ? "" : "\n") + value, any = true;
      }
      if (!any || e.data.empty()) continue;  // retry lines, comments
      if (e.event.empty()) e.event = "message";
      return e;
    }
    if (!read_some(deadline)) return std::nullopt;
  }
}

}  // namespace oly::testing
