// HoldQueue: the one place where the master keeps what it may not let go of yet.
//
//   - kAck: the database acknowledged an update, but the publisher may not hear of it before
//     every peer that could still serve an older value of the key has dropped it (push: the
//     consistency protocol's hold id, see consistency.h), nor before a new master's settling
//     ends (push: an earlier incarnation's read leases may still be in use).
//   - kUpdate: a publisher's update that arrived while the master hands mastership over; it is
//     forwarded if the handoff is abandoned, or answered not_master once another front end is
//     master.
//
// The queue only keeps entries in arrival order; the front end decides what is ready, and has
// one release path (FrontendCore::release) that takes every ready entry out, in order, and one
// drain (a role change answers everything not_master).
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/message.h"

namespace oly {

struct Held {
  enum class Kind { kAck, kUpdate } kind = Kind::kAck;
  std::string to;     // the publisher's endpoint
  uint64_t req = 0;   // its request id
  Body body;          // kAck: the reply; kUpdate: the update request
  uint64_t hold = 0;  // kAck: the consistency protocol's hold id (0: it waits on no peer)
  TimePoint since{};  // kAck: when the update reached the master; kUpdate: when it was held
};

class HoldQueue {
 public:
  void hold(Held h) {
    if (h.kind == Held::Kind::kAck) ++acks_;
    items_.push_back(std::move(h));
  }

  // Takes out, in arrival order, every entry for which ready(entry) is true.
  template <class Ready>
  std::vector<Held> take(Ready&& ready) {
    std::vector<Held> out;
    for (auto it = items_.begin(); it != items_.end();) {
      if (!ready(static_cast<const Held&>(*it))) {
        ++it;
        continue;
      }
      if (it->kind == Held::Kind::kAck) --acks_;
      out.push_back(std::move(*it));
      it = items_.erase(it);
    }
    return out;
  }

  // Takes out everything.
  std::vector<Held> take_all() {
    return take([](const Held&) { return true; });
  }

  bool empty() const { return items_.empty(); }
  size_t acks() const { return acks_; }
  size_t updates() const { return items_.size() - acks_; }

 private:
  std::list<Held> items_;
  size_t acks_ = 0;
};

}  // namespace oly
