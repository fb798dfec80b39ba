// PushDirectory: the master's side of push consistency.
//
// It knows which peers hold a read lease and which peers cache which key. When an update is
// applied, the peers caching its key must drop their copy before the publisher is told the update
// is done: on_update() returns the peers to invalidate and opens a wait, named by the caller's
// hold id, that lasts until each of them acknowledged the invalidation or lost its lease (the
// front end keeps the publisher's ack in its HoldQueue meanwhile, see hold_queue.h). A peer with an invalidation outstanding
// gets no lease renewal, so the master never waits longer than one lease duration for a peer that
// cannot be reached, and a peer whose lease ran out is dropped from the directory (it flushed its
// cache on its side, where the lease always ends first).
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/message.h"

namespace oly {

class PushDirectory {
 public:
  // `lease`: how long a grant lasts; `resend`: how often unacknowledged invalidations are resent.
  PushDirectory(Duration lease, Duration resend) : lease_(lease), resend_(resend) {}

  // Renews `peer`'s lease from `now` unless it has an invalidation outstanding. Returns whether
  // the lease was granted.
  bool renew(const std::string& peer, TimePoint now);
  // Same, for a lease of `duration` (at most the directory's lease; the master cuts grants to
  // what is left of its own master lease).
  bool renew(const std::string& peer, TimePoint now, Duration duration);
  bool has_lease(const std::string& peer, TimePoint now) const;

  // Records that `peer` caches `key`. REQUIRES: has_lease(peer, now).
  void add(const std::string& key, const std::string& peer) { cachers_[key].insert(peer); }

  // `key` is now at `version`. Returns the peers to send Invalidate to, and whether wait `hold`
  // (a caller-chosen id, unique among open waits) is opened: it is while any peer may still serve
  // an older value of the key, that is while a peer registered for the key, or one still owing an
  // acknowledgement for an earlier invalidation of it, has not answered.
  struct Update {
    std::vector<std::string> invalidate;
    bool held = false;
  };
  Update on_update(const std::string& key, uint64_t version, uint64_t hold, TimePoint now);

  // Whether wait `hold` is still open (some peer has not answered or lost its lease).
  bool waiting(uint64_t hold) const;

  // `peer` dropped `key` up to `version`.
  void on_ack(const std::string& peer, const std::string& key, uint64_t version);

  // Ends expired leases, dropping those peers from the directory and from every wait.
  void expire(TimePoint now);

  // Invalidations sent at least `resend` ago and not yet acknowledged: (peer, key, version).
  // Marks them as sent now.
  struct Resend {
    std::string peer;
    std::string key;
    uint64_t version;
  };
  std::vector<Resend> due_resends(TimePoint now);

  // When expire() or due_resends() next has something to do.
  TimePoint next_deadline() const;

  // Forgets everything (a role change): every wait is closed.
  void clear();

  size_t waiting() const { return waits_.size(); }
  size_t cachers(const std::string& key) const;

 private:
  struct Wait {
    std::string key;
    uint64_t version;
    uint64_t hold;
    std::map<std::string, uint64_t> peers;  // peer -> the invalidation version it must acknowledge
    TimePoint sent_at;
  };
  bool outstanding(const std::string& peer) const;
  void close_done();

  Duration lease_;
  Duration resend_;
  std::map<std::string, TimePoint> leases_;                // peer -> expiry (master's view)
  std::map<std::string, std::set<std::string>> cachers_;   // key -> peers
  std::list<Wait> waits_;
  std::set<uint64_t> open_;  // the holds of waits_
};

}  // namespace oly
