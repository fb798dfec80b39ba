// FrameClient: a blocking test client of the tablets' native TCP port (tabletnet/): writes raw
// bytes, reads length-prefixed frames, and tells when the server closed the connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "tabletnet/frames.h"

namespace oly::testing {

class FrameClient {
 public:
  // Connects to 127.0.0.1:`port`; `rcvbuf` > 0 shrinks the receive buffer first (a slow reader).
  explicit FrameClient(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << "port " << port;
  }
  ~FrameClient() { close(); }
  FrameClient(const FrameClient&) = delete;
  FrameClient& operator=(const FrameClient&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Sends nothing more (the server still answers what it got).
  void shutdown_write() const { ::shutdown(fd_, SHUT_WR); }
  void write(const std::string& bytes) const {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // The next frame's payload; nullopt on EOF or after `timeout` with none.
  std::optional<std::string> read_frame(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      std::string_view p;
      if (reader_.next(p) == tabletnet::FrameReader::Status::kFrame) return std::string(p);
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pf{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pf, 1, static_cast<int>(left.count())) != 1) return std::nullopt;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        return std::nullopt;
      }
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // Whether the server closed the connection (EOF or reset) within `timeout`; frames before it
  // are skipped.
  bool closed(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    while (!eof_ && read_frame(timeout)) {
    }
    return eof_;
  }

 private:
  int fd_ = -1;
  tabletnet::FrameReader reader_{1 << 20};
  bool eof_ = false;
};

}  // namespace oly::testing
