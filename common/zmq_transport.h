// The production Transport: ZeroMQ over TCP.
//
// A server binds a ROUTER at its address (requests in, replies out) and a PUB at its notice
// address. To send to a named peer it knows (add_peer), an endpoint uses a DEALER connected to the
// peer's ROUTER, whose routing id is this endpoint's name, so the peer sees `from` = our name.
// A frame to a name that is not a known peer goes out through our ROUTER, to the client of that
// routing id (a tablet process, Cacofonix, a tool); it is dropped if no such client is connected.
// Subscriptions are SUB sockets connected to the publisher's PUB address; notices are two-part
// messages [topic, frame].
//
// With `drop_when_disconnected` (the default, ZMQ_IMMEDIATE), a frame to a peer that is down is
// dropped at once instead of being queued and delivered, stale, when the peer comes back.
//
// With `report_lost_peers`, each peer's DEALER is watched (a ZeroMQ socket monitor) and
// receive() returns Incoming{peer, lost} when its connection closes under it
// (ZMQ_EVENT_DISCONNECTED: the peer's process exited or was killed and its kernel closed the
// socket; a paused or unreachable peer gives none).
//
// With `curve` (common/curve.h), every socket speaks CurveZMQ: the ROUTER and PUB as servers with
// this endpoint's secret key, each DEALER and SUB as a client that knows its peer's public key
// (from curve.ring, by the peer's name). Only the clients whose public keys are in the ring may
// connect, each known by its key's name (ZapHandler). A routing id belongs to a key: a frame that
// arrives on the ROUTER is taken only when its routing id is its connection's key's name (a
// server's DEALER: fe1) or that name, a '-' and more (a client's: cacofonix-4242-1a2b3c); else it
// is counted in frames_spoofed and dropped. So no key can pass itself off as a cluster member, nor
// take over another key's routing id (ZMQ_ROUTER_HANDOVER would hand it that key's replies). Then
// curve.admit, when set, decides whether the frame's sender (its key's entry) may send it: a
// refused frame is not returned; the reply admit gives, if any, goes back to the sender
// (frames_refused counts them).
//
// Errors: construction throws std::runtime_error naming the address when a bind fails (port in
// use, bad address), and add_peer when curve is on and the ring has no key for the peer.
// send/receive never throw.
//
// Thread-safety: one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/curve.h"
#include "common/fd_watcher.h"
#include "common/node_name.h"
#include "common/transport.h"

namespace oly {

struct CurveOptions {
  CurveKeys keys;                       // this endpoint's key pair
  std::shared_ptr<const KeyRing> ring;  // who may connect to our sockets; the servers' keys, by name
  // Whether a ROUTER frame from `sender` is taken: nullopt takes it; a string refuses it, and is
  // sent back to the sender unless empty. Unset: every frame from a key of the ring is taken.
  std::function<std::optional<std::string>(const KeyEntry& sender, std::string_view frame)> admit = {};
};


struct ZmqOptions {
  std::string bind;          // ROUTER address to bind, "" for a pure client
  std::string pub_bind;      // PUB address to bind, "" for none
  bool drop_when_disconnected = true;
  int reconnect_ms = 20;     // how soon a broken connection is retried
  bool report_lost_peers = false;
  std::optional<CurveOptions> curve = {};  // CurveZMQ on every socket (see above); none: plain TCP
};

class ZmqTransport final : public Transport {
 public:
  ZmqTransport(std::string name, ZmqOptions options);
  ~ZmqTransport() override;

  // Makes `name` reachable at `address` (its ROUTER) and `pub` (its PUB, may be ""). Connects at
  // once, so that the connection is up before the first frame. Re-adding a name with a new
  // address reconnects.
  void add_peer(const std::string& name, const std::string& address, const std::string& pub = "");
  bool knows(const std::string& name) const { return peers_.count(name) > 0; }

  // Blocks until a frame may have arrived, a watched file descriptor is ready, or `timeout`
  // passed (at once when a socket may still hold frames receive() has not taken): one wait of
  // fds(), whose set holds every socket's ZMQ_FD beside what side servers watch there. It tells
  // receive() which sockets to ask (see receive()) and runs the side servers' callbacks.
  void wait(Duration timeout);
  // The loop's one epoll set: a side server served from the same loop (the tablets' TCP port)
  // watches its descriptors here, and its callbacks run from wait().
  FdWatcher& fds() { return fds_; }
  // From now on wait() also returns when `fd` is readable (another server run from the same loop,
  // e.g. the key-value store's HTTP server), and calls `on_readable` (when given) each time it
  // finds it so: a side server can then skip its own non-blocking pass, and its system calls,
  // when its descriptor was not readable. The caller keeps `fd` open while this lives.
  void watch_fd(int fd, std::function<void()> on_readable = {});

  const std::string& name() const override { return name_; }
  void send(const std::string& to, std::string frame) override;
  void connect(const std::string& name, const std::string& address) override;
  void publish(const std::string& topic, std::string frame) override;
  void subscribe(const std::string& publisher, const std::string& prefix) override;
  // Asks only the sockets that may hold a frame: those whose ZMQ_FD wait() found readable, and
  // those this transport sent on (a send may consume the ZMQ_FD signal of frames that arrived),
  // until each says it has none. Asking an empty ZeroMQ socket costs libzmq a poll and a getpid,
  // and a loop asks after every frame, so a loop serving another port makes no ZeroMQ call at
  // all while no ZeroMQ frame comes. A frame that arrives after a socket said it has none makes
  // its ZMQ_FD readable, so the loop must call wait() (with a timeout of 0 when it is busy)
  // between runs of receive(): without one, receive() sees only what the last wait() announced.
  std::optional<Incoming> receive() override;

  uint64_t frames_dropped() const { return dropped_; }
  // Frames whose routing id is not their connection's key's (see the contract above).
  uint64_t frames_spoofed() const { return spoofed_; }
  // Frames curve.admit refused.
  uint64_t frames_refused() const { return refused_; }
  // The ZAP handler's counts (0 without curve).
  uint64_t connections_refused() const { return zap_ ? zap_->refused() : 0; }

 private:
  struct Peer {
    std::string address;
    std::string pub;
    std::unique_ptr<zmq::socket_t> dealer;
    std::unique_ptr<zmq::socket_t> sub;
    std::unique_ptr<zmq::socket_t> monitor;  // PAIR reading the dealer's monitor events
  };
  void watch(const std::string& name, Peer& p);
  void rebuild_sources();
  // A send on `socket` may have taken the signal of frames waiting on it: ask it again.
  void maybe_readable(const zmq::socket_t* socket);

  // curve: the socket becomes a CurveZMQ client of `peer` (its key from options_.curve).
  void secure_client(zmq::socket_t& s, const std::string& peer) const;
  // Whether a ROUTER frame claiming routing id `claimed` may be taken (see the contract above);
  // a refusal's reply, if any, is sent.
  bool admitted(const std::string& claimed, zmq::message_t& frame);

  std::string name_;
  ZmqOptions options_;
  zmq::context_t ctx_;
  std::unique_ptr<ZapHandler> zap_;  // curve: serves the context's ZAP; destroyed before ctx_
  std::unique_ptr<zmq::socket_t> router_;
  std::unique_ptr<zmq::socket_t> pub_;
  std::map<std::string, Peer> peers_;
  // Sockets to read, with who they come from ("" for the ROUTER) and whether they carry notices.
  struct Source {
    zmq::socket_t* socket;
    std::string peer;
    bool notice;
    bool monitor = false;  // a peer's monitor events, not frames
  };
  std::vector<Source> sources_;
  FdWatcher fds_;
  std::vector<int> source_fds_;  // the ZMQ_FD of each source, watched in fds_
  std::vector<char> maybe_;  // per source: may hold a frame (see receive())
  size_t next_source_ = 0;  // the socket receive() asks first
  size_t burst_ = 0;        // frames taken from it in a row
  static constexpr size_t kBurst = 32;
  uint64_t dropped_ = 0;
  uint64_t spoofed_ = 0;
  uint64_t refused_ = 0;
  uint64_t monitors_ = 0;  // for unique inproc monitor addresses
};

}  // namespace oly
