// The contract between a role's deterministic core and the loop that runs it.
//
// A Core holds one role's logic (database, front end, Cacofonix, tablets) with no sockets,
// threads or clock reads: it is handed decoded messages and the time, and answers with Effects
// (frames to send, notices to publish). It says when it next wants a tick through next_wake().
//
// A Node runs a Core over a Transport: it decodes frames (answering a malformed one with an
// Error reply that echoes its req when it can, counting it, and logging it once per peer),
// feeds the core, calls on_batch_end after each run of frames (the database commits its group
// there), sends what they produced, then ticks the core when due and sends what the tick did. The same Node drives the
// real processes (ZmqTransport, SteadyClock) and the simulations (MemoryNetwork, VirtualClock).
//
// Thread-safety: none; one thread per Node.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/codec.h"
#include "common/message.h"
#include "common/transport.h"

namespace oly {

using Counters = std::map<std::string, int64_t>;

// What a core wants done. Cores append; the Node sends in order and clears.
class Effects {
 public:
  struct Out {
    std::string to;  // endpoint name, or topic for a notice
    Message msg;
    bool notice = false;
    std::string frame;  // send_frame(): the message already encoded (then `msg` is empty)
  };
  void send(const std::string& to, uint64_t req, Body body) { out_.push_back({to, {req, std::move(body)}, false, {}}); }
  // Sends a message the core encoded itself (a cache hit's answer from its pre-encoded value:
  // codec.h, encode_read_reply). Whoever looks at items() instead of sending them (tests) uses
  // decoded_items().
  void send_frame(const std::string& to, std::string frame) { out_.push_back({to, {}, false, std::move(frame)}); }
  void publish(const std::string& topic, Body body) { out_.push_back({topic, {0, std::move(body)}, true, {}}); }
  // Makes endpoint `name` reachable at `address` (a member learnt at run time: a replica that
  // joined the database tier); applied before the sends of the same step. Known names are kept.
  void connect(const std::string& name, const std::string& address) { connects_.emplace_back(name, address); }
  std::vector<Out>& items() { return out_; }
  // items() with every send_frame() decoded into `msg` (and `frame` cleared).
  std::vector<Out> decoded_items() const;
  std::vector<std::pair<std::string, std::string>>& connects() { return connects_; }
  void clear() {
    out_.clear();
    connects_.clear();
  }

 private:
  std::vector<Out> out_;
  std::vector<std::pair<std::string, std::string>> connects_;
};

class Core {
 public:
  virtual ~Core() = default;
  // A decoded message from endpoint `from`; `notice` when it came from a subscription.
  virtual void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) = 0;
  // Called when now >= next_wake().
  virtual void on_tick(TimePoint now, Effects& out) = 0;
  // The transport saw the connection to `peer` close (Incoming::lost): a hint that it died.
  virtual void on_peer_lost(const std::string& /*peer*/, TimePoint /*now*/, Effects& /*out*/) {}
  // When the core next needs on_tick (TimePoint::max() for never).
  virtual TimePoint next_wake() const = 0;
  // Called after each run of messages handled in one step (group commit point).
  virtual void on_batch_end(TimePoint /*now*/, Effects& /*out*/) {}
  // Counters reported by `stats`; the Node adds "malformed_frames".
  virtual Counters& counters() = 0;
  // The role this core plays now, for log lines ("" for a process with one role only). The shell
  // that runs the core shows it; the core keeps no process-global state.
  virtual std::string_view role_name() const { return {}; }
};

class Node {
 public:
  Node(Core& core, Transport& transport, const Clock& clock) : core_(core), transport_(transport), clock_(clock) {}

  // Handles up to `max_frames` frames that have arrived, then the tick if due, and sends what the
  // core asked for. Returns when the node next needs to run if nothing else arrives. The cap keeps
  // a step short under a backlog: a database leader's step of 4,096 updates took 100-260 ms on
  // 2 busy cores, longer than an election timeout without a heartbeat, and cost leader changes.
  TimePoint step(size_t max_frames = 1024);

  // A step at least this long (by the Node's clock) is counted as "slow_steps" and logged as a
  // warning: everything queued behind it waited, so operators should know (at the database it is
  // nearly always the commit's fsync on a busy disk).
  static constexpr Duration kSlowStep = ms(100);

  // Lets the core's effects be flushed from outside a step (used at start-up).
  void flush(Effects& effects);

  const Core& core() const { return core_; }

 private:
  void handle_bad_frame(const Incoming& in, const DecodeError& err);
  void note_if_slow(TimePoint began, size_t handled);

  Core& core_;
  Transport& transport_;
  const Clock& clock_;
  Effects effects_;
  std::set<std::string> warned_peers_;
};

}  // namespace oly
