// How a process exchanges frames with the others.
//
// Every process is a named endpoint. `send(to, frame)` delivers one frame to the endpoint named
// `to`, in order per pair of endpoints (like the TCP connection under ZeroMQ), best effort: a
// frame to a dead or unreachable endpoint is dropped, and the sender learns of it only by the
// missing reply (every request has a timeout). Servers (the database, front ends) additionally
// publish notices on topics; a client subscribes to a server's notices by topic prefix.
//
// Two implementations: ZmqTransport (zmq_transport.h), for the real processes, and
// MemoryNetwork's endpoints (memory_transport.h), for single-threaded simulations.
//
// Thread-safety: a Transport is used by one thread.
#pragma once

#include <optional>
#include <string>

namespace oly {

struct Incoming {
  std::string from;    // the sending endpoint's name
  std::string frame;   // one encoded message
  bool notice = false; // true when it came from a subscription, not as a directed frame
  // The connection to `from` closed under us: its process exited or crashed (the kernel closed
  // its sockets). No frame. Only from transports that watch their peers (ZmqOptions::
  // report_lost_peers; MemoryNetwork on crash, to the endpoints that exchanged frames with it);
  // a pause, a partition or a dead machine gives none, so it is a hint, never a verdict.
  bool lost = false;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // This endpoint's name: other endpoints see it as `from`.
  virtual const std::string& name() const = 0;
  // Sends one frame to endpoint `to`. Never blocks; drops the frame when `to` is unreachable.
  virtual void send(const std::string& to, std::string frame) = 0;
  // Makes endpoint `name` reachable at `address` from now on, unless the name is already known
  // (then nothing changes). For peers learnt at run time; a failure is logged, never thrown.
  virtual void connect(const std::string& /*name*/, const std::string& /*address*/) {}
  // Publishes one notice on `topic` to the subscribers whose prefix matches.
  virtual void publish(const std::string& topic, std::string frame) = 0;
  // Subscribes to notices published by endpoint `publisher` whose topic starts with `prefix`.
  virtual void subscribe(const std::string& publisher, const std::string& prefix) = 0;
  // The next frame that has arrived, if any. Never blocks.
  virtual std::optional<Incoming> receive() = 0;
};

}  // namespace oly
