// Heartbeat failure detector: which of the other front ends are suspected to be down.
//
// Pure and deterministic: no I/O, no clock reads; time comes in as `now` on every call.
//
// Rules:
//   - Each peer has a last-heard time. Any message from a peer that is not suspected refreshes
//     it; a peer silent for >= timeout (now >= last_heard + timeout) becomes suspected at the
//     next check(), which reports it once. Suspicion is exactly at the timeout, never before.
//   - start(now) starts the clocks: silence before it does not count, so every peer's deadline
//     is at least now + timeout (a never-heard peer is suspected `timeout` after start). Until
//     start() is called check() suspects nobody, but heard() still records.
//   - A suspected peer is cleared only by a heartbeat (a message carrying its incarnation,
//     non-zero). Other messages from a suspected peer are ignored: they may be stale, sent
//     before it went silent.
//   - Incarnations rise with every start of a peer (a lower one than known is a late heartbeat of
//     a dead incarnation and is ignored).
//   - Incarnations tell a restart from a false suspicion. A heartbeat with an incarnation other
//     than the last known one is a restart (suspected or not: a fast restart may beat the
//     timeout); one with the same incarnation clearing a suspicion is a false suspicion (the
//     peer never crashed, it was only slow or cut off).
//   - up_since is when the peer's current unbroken run of being heard began: its first
//     heartbeat, or the heartbeat that cleared its last suspicion, or the one that showed its
//     last restart. Messages without an incarnation never start a run.
//
// Cost: peers are few; each call is a linear scan of a small vector.
//
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace oly {

class FailureDetector {
 public:
  // `peers`: the other front ends' ids (duplicates are dropped). `timeout`: silence after which
  // a peer is suspected.
  FailureDetector(std::vector<std::string> peers, Duration timeout);

  // Starts the clocks: a peer never heard is suspected `timeout` after `now`. Idempotent after
  // the first call.
  void start(TimePoint now);

  enum class Heard { kAlive, kFirst, kRecovered, kRestarted, kIgnored };
  // A message from `peer` arrived at `now`. `incarnation` is the sender's incarnation when the
  // message was a heartbeat (non-zero), 0 for any other message.
  //   kIgnored:   unknown peer, or a message without incarnation from a suspected peer.
  //   kFirst:     the first time the peer is heard with an incarnation (clears a suspicion).
  //   kRestarted: the incarnation differs from the last known one; up_since restarts at `now`.
  //   kRecovered: a suspected peer heard with the same incarnation (counted in false_suspicions()).
  //   kAlive:     otherwise.
  Heard heard(const std::string& peer, TimePoint now, uint64_t incarnation = 0);

  // Peers that become suspected at `now` (silent for >= timeout), each reported once per
  // suspicion, in peer order.
  std::vector<std::string> check(TimePoint now);

  bool suspected(const std::string& peer) const;
  // When the peer's current unbroken run of being heard began; nullopt while suspected or never
  // heard with an incarnation (and for unknown peers).
  std::optional<TimePoint> up_since(const std::string& peer) const;
  // When anything was last heard from the peer (nullopt if never).
  std::optional<TimePoint> last_heard(const std::string& peer) const;
  std::vector<std::string> suspects() const;  // in peer order
  // The earliest time check() could suspect someone (TimePoint::max() if none: not started, or
  // every peer already suspected).
  TimePoint next_deadline() const;

  int64_t suspicions() const { return suspicions_; }              // suspicions raised so far
  int64_t false_suspicions() const { return false_suspicions_; }  // cleared by the same incarnation
  int64_t restarts() const { return restarts_; }                  // incarnation changes (not the first)

  Duration timeout() const { return timeout_; }

 private:
  struct Peer {
    std::string id;
    std::optional<TimePoint> last_heard;  // any message while not suspected
    uint64_t incarnation = 0;             // 0: never heard with one
    bool suspected = false;
    std::optional<TimePoint> up_since;
  };

  Peer* find(const std::string& id);
  const Peer* find(const std::string& id) const;
  TimePoint deadline(const Peer& p) const;  // REQUIRES: started_

  std::vector<Peer> peers_;
  Duration timeout_;
  std::optional<TimePoint> started_;
  int64_t suspicions_ = 0;
  int64_t false_suspicions_ = 0;
  int64_t restarts_ = 0;
};

}  // namespace oly
