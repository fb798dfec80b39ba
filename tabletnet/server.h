// TabletServer: a front end's native TCP port for tablets (issue 16; docs/protocol.md, "The
// native TCP protocol"): length-prefixed frames (frames.h), each one encoded message, over plain
// non-blocking sockets, served from the front end's one loop.
//
// Like the HTTP gateways (common/relay_transport.h) it is a Transport around the front end's own:
// connection n is the endpoint "tcp/<n>" (n is never reused, so an answer to a connection that
// closed is dropped, never sent to another), every frame it sends is delivered to the core as
// that endpoint's, and the core's answers to "tcp/<n>" go out on that connection in the order the
// core sent them. Requests may be pipelined; answers carry the request's `req`.
//
// The loop: the listening socket and every connection are watched in the loop's own epoll set
// (FdWatcher, ZmqTransport::fds()), so a pass of the loop waits once for everything it serves;
// the watcher's callbacks accept and read (delivering whole frames, for the node's next step);
// pump() (run from receive(), see RelayTransport) closes what this pass doomed; flush() writes
// what the core answered, each connection's answers of a step in one send(), closes idle
// connections, and must run after every step of the node.
//
// What protects the loop (Limits): a frame over max_frame bytes (or of 0 bytes) gets an error
// frame (`too_large` or `malformed`, req 0) and its connection is closed, as the stream cannot be
// resynchronised; a connection holds at most one frame's bytes unread (FrameReader::room); one
// with max_pending requests unanswered is not read until answers go out; one whose unsent answers
// pass max_unsent bytes (a reader slower than its own requests) is closed; one with no byte in
// or out for idle is closed; beyond max_connections a new connection is closed at once. A frame
// that is well framed but not a valid message is the core's to refuse, as on ZeroMQ: it answers
// an `error` (malformed, unknown_op, ...) and the connection stays open.
//
// What it serves: tablets' registration and reads (register, get_score, get_medal_tally,
// get_scoreboard). Any other op, an update, an op between servers or a reply, is answered
// `unexpected_op` here and never reaches the core; the connection stays open.
//
// Notices: every connection gets the notices tablets follow (publish(): the master's serving
// notices), with req 0.
//
// Answers come pre-encoded from the cache (FrontendCore keeps each value's encoding), and a
// connection's answers of one step are appended to one buffer and go out in one send(): writev
// would only save that append, a copy of a few hundred bytes.
//
// Cache hits on the spot (set_shortcut): a frame the shortcut answers never becomes a message;
// its answer is written into the connection's buffer as the frame is read, and the answers a
// read gave go out at the end of that read, before the node's step.
//
// Errors: the constructor throws std::runtime_error naming the address when it cannot listen.
// Thread-safety: none; the front end's loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/fd_watcher.h"
#include "common/message.h"
#include "common/relay_transport.h"
#include "tabletnet/frames.h"

namespace oly::tabletnet {

struct Limits {
  std::size_t max_frame = kMaxTabletFrame;
  std::size_t max_pending = 1024;       // requests read and not yet answered, per connection
  std::size_t max_unsent = 1 << 20;     // answers not yet taken by the client, bytes, per connection
  Duration idle = ms(120'000);          // no byte in or out this long: closed
  std::size_t max_connections = 20'000;
};

struct ServerCounts {
  uint64_t accepted = 0;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;       // frames_in answered on the spot are in both
  uint64_t answered_on_the_spot = 0;  // by the shortcut
  uint64_t notices_out = 0;      // serving and redirect notices, counted per connection
  uint64_t refused_full = 0;     // connections closed at once: max_connections
  uint64_t closed_by_peer = 0;   // the client closed (or reset) it; after its shutdown, once answered
  uint64_t closed_bad_frame = 0; // a frame of 0 bytes or over max_frame
  uint64_t closed_slow = 0;      // unsent answers over max_unsent
  uint64_t closed_idle = 0;
  uint64_t answers_dropped = 0;  // answers to a connection already closed
  uint64_t refused_ops = 0;      // frames of an op this port does not serve (answered unexpected_op)
};

class TabletServer final : public RelayTransport {
 public:
  static constexpr std::string_view kEndpointPrefix = "tcp/";

  // Listens on `host_port` ("127.0.0.1:7201"; port 0 picks a free one, see port()), watched in
  // `fds` (the loop's set, which outlives this server).
  TabletServer(Transport& inner, FdWatcher& fds, const std::string& host_port, const Clock& clock, Limits limits = {});
  ~TabletServer() override;
  TabletServer(const TabletServer&) = delete;
  TabletServer& operator=(const TabletServer&) = delete;

  // Answers some requests on the spot, while reading them: shortcut(payload, out) appends an
  // answer's payload to `out` and returns true, or returns false having appended nothing (the
  // frame then goes to the core, as every frame does without a shortcut). It is asked only for a
  // frame with no earlier request of its connection unanswered, so that answers keep their
  // requests' order. The front end's is FrontendCore::answer_cached_read (a cache hit).
  using Shortcut = std::function<bool(std::string_view payload, std::string& out)>;
  void set_shortcut(Shortcut s) { shortcut_ = std::move(s); }

  int port() const { return port_; }
  // Writes the answers the core gave since the last flush.
  void flush();
  // The notices tablets follow (topic "serving": Serving's op name, as the master publishes them)
  // go on every connection, and nowhere else (a tablet process subscribes to nothing: it gets them
  // on the connections it reads on); other topics are published on the inner transport.
  static constexpr std::string_view kTabletsTopic = Serving::kOp;
  void publish(const std::string& topic, std::string frame) override;

  std::size_t connections() const { return conns_.size(); }
  const ServerCounts& counts() const { return counts_; }

 private:
  struct Conn;
  void pump() override;
  void answered(uint64_t id, std::string frame) override;
  // The watcher's callback for connection `c`.
  void on_ready(Conn& c, uint32_t events);
  void accept_all();
  void read_from(Conn& c);
  // Delivers c's whole buffered frames while it is below the pending cap; false when it reached
  // the cap or the stream broke (then it is doomed).
  bool take_frames(Conn& c);
  // The shortcut's answer to c's frame `payload`, queued on c; false when it had none.
  bool answer_on_the_spot(Conn& c, std::string_view payload);
  // An `unexpected_op` answer queued on c when `payload` is a valid message of an op this port
  // does not serve; false (nothing done) otherwise.
  bool refuse_op(Conn& c, std::string_view payload);
  // c has answers to write at the next flush().
  void mark_dirty(Conn& c);
  void write_out(Conn& c);
  void want(Conn& c, bool in, bool out);
  // Closes `c` at the end of this pass, counting it under `why`.
  void doom(Conn& c, uint64_t ServerCounts::*why);
  // A client that shut down its side: closed now if nothing is owed to it, else once it is.
  void close_when_answered(Conn& c);
  void close_conn(uint64_t id, uint64_t ServerCounts::*why);
  void expire_idle(TimePoint now);

  FdWatcher& fds_;
  const Clock& clock_;
  const Limits limits_;
  int listen_ = -1;
  int port_ = 0;
  int wake_ = -1;  // an eventfd, watched: flush() delivered frames that wait for the node's next step
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> dirty_;   // connections with answers to write
  std::vector<uint64_t> doomed_;  // connections to close once this pass is over
  std::vector<uint64_t> resume_;  // connections that were at the pending cap and got an answer
  TimePoint next_idle_check_{};
  TimePoint now_{};  // the clock, read once per flush(): once per pass of the loop
  Shortcut shortcut_;
  ServerCounts counts_;
};

}  // namespace oly::tabletnet
