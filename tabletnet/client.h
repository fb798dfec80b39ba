// TcpClientTransport: a tablet process's side of the native TCP protocol (docs/protocol.md,
// section 8): a Transport whose peers are front ends reached at their `tcp` addresses, one
// persistent connection each, instead of ZeroMQ.
//
// - send(to, frame) writes one frame on the connection to front end `to`. A connection is opened
//   by add_peer, without blocking; frames sent while it is being opened wait for it (at most
//   kMaxQueued bytes; beyond, or when it fails, they are dropped, as ZeroMQ drops frames to a
//   peer that is down: every request has a timeout). A connection that breaks is opened again at
//   the next send at least kRetryEvery after the last attempt.
// - Lost peers: when a connection to a front end breaks or cannot be opened, or a frame to it is
//   dropped because it has none, receive() gives an Incoming with lost = true from that front end
//   (at most one until it is taken): nothing sent to it will be answered, so a tablet can fail
//   over at once instead of at its timeout (TabletsCore::on_peer_lost).
// - receive() gives the frames every connection brought, `from` the front end's name. A frame with
//   req 0 whose op is a notice (serving, redirect, master_changed) comes with notice = true: the
//   front end sends those on every tablet connection, so there is nothing to subscribe to
//   (subscribe() does nothing; publish() is not for clients and drops).
// - wait(timeout) blocks until a connection has something to read or can take what waits, or the
//   timeout passed.
//
// Errors: never throws after construction; a bad address is logged once and its frames dropped.
// Thread-safety: one thread.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/transport.h"
#include "tabletnet/frames.h"

namespace oly::tabletnet {

class TcpClientTransport final : public Transport {
 public:
  static constexpr std::size_t kMaxQueued = 1 << 20;
  static constexpr Duration kRetryEvery = ms(100);

  TcpClientTransport(std::string name, const Clock& clock);
  ~TcpClientTransport() override;
  TcpClientTransport(const TcpClientTransport&) = delete;
  TcpClientTransport& operator=(const TcpClientTransport&) = delete;

  // Front end `name` serves tablets at `host_port`; opens the connection.
  void add_peer(const std::string& name, const std::string& host_port);
  void wait(Duration timeout);

  const std::string& name() const override { return name_; }
  void send(const std::string& to, std::string frame) override;
  void publish(const std::string&, std::string) override {}
  void subscribe(const std::string&, const std::string&) override {}
  std::optional<Incoming> receive() override;

  uint64_t frames_dropped() const { return dropped_; }
  uint64_t connects() const { return connects_; }

 private:
  struct Peer {
    std::string address;
    int fd = -1;
    bool connected = false;  // false while a non-blocking connect is under way
    FrameReader reader{kMaxTabletFrame};
    std::string out;
    std::size_t out_off = 0;
    TimePoint last_attempt{};
    bool warned = false;
    bool lost_queued = false;  // a lost report waits in arrived_
  };
  void open(const std::string& name, Peer& p);
  void drop(Peer& p);
  // Drops p's connection (if any) and queues a lost report for it.
  void lose(const std::string& name, Peer& p);
  void write_out(const std::string& name, Peer& p);
  bool read_in(const std::string& name, Peer& p);
  void interest(const std::string& name, Peer& p);

  std::string name_;
  const Clock& clock_;
  int epoll_ = -1;
  std::map<std::string, Peer> peers_;
  std::map<int, std::string> by_fd_;
  std::deque<Incoming> arrived_;
  uint64_t dropped_ = 0;
  uint64_t connects_ = 0;
};

}  // namespace oly::tabletnet
