// DatabaseClient: the one place a front end knows where the database tier is.
//
// It is given the tier's replicas (endpoint names, in preference order: the config's, which may
// list only one replica of a larger tier) and sends each request to the replica it believes
// leads; learn() keeps the list up to date as replicas join and leave. Answers
// are matched by request id, never by the endpoint they came from.
//
// Retries: an attempt that gets no answer within its share of the request's timeout (timeout /
// number of replicas, so with one replica there is no retry) is sent again to the next replica,
// unless the replica asked answered something since it was asked (it is alive, only slow: the
// attempt waits another share);
// an answer `not_leader` sends it at once to the leader that answer names (Error.leader; at most
// twice round the replicas), or, when it names none (an election is under way), to the next
// replica kElectionBackoff later, again and again until the caller's deadline. A retry resends the same request id: every
// database request is safe to repeat (updates are deduplicated by (publisher, seq), a claim is
// a compare-and-set whose repeat is recognised, reads change nothing).
//
// The caller keeps its own deadline for each request and calls timed_out() when it passes. The
// tier is `failing` when a request timed out and nothing has been heard from any replica since
// that request was sent; anything heard from a replica clears it.
//
// Gossip mode (set_gossip; docs/gossip.md): any replica takes any request. Reads (get_score,
// get_medal_tally, get_scoreboard) go to the live replica with the fewest of this client's
// requests in flight, everything else (updates, mastership, the registry) to the first live
// replica in config order, so that front ends meet at one replica for mastership while they agree
// on which replicas live. A replica is dead (on the dead list) from when its connection closed or
// an attempt to it timed out with nothing heard from it, until it is heard from again or
// kDeadRetry passed (then it is tried again). The client remembers the newest vector timestamp
// its answers carried (the pointwise maximum) and sends it with every get_score and
// get_medal_tally, which a replica then answers only once it has seen as much. An answer that
// says `partial` (the replica could not wait for what it lacked) is asked again of another live
// replica, once per replica, before it is taken.
// It also keeps every update a replica acknowledged (at most kRetain) until an answer from
// another replica shows that one has it too (its clock covers the acknowledging replica's
// entry): when a replica answers an update seq_gap (the updates before it were acknowledged by a
// replica that died before gossiping them), the client first sends it those it kept, then the
// update again, once. So an update acknowledged by one replica only does not hold its publisher's
// later updates back until that replica returns, unless this front end died with it.
//
// Pure: no I/O and no clock reads; sends go into the caller's Effects.
//
// Thread-safety: none (owned by one core).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/message.h"
#include "common/node.h"

namespace oly {

class DatabaseClient {
 public:
  // REQUIRES: !replicas.empty().
  explicit DatabaseClient(std::vector<std::string> replicas);

  // Sends `body` as request `req` (unique among this client's requests in flight) to the
  // replica believed to lead.
  void send(uint64_t req, Body body, Duration timeout, TimePoint now, Effects& out);
  // Whether `req` is one of this client's requests in flight.
  bool owns(uint64_t req) const { return in_flight_.count(req) > 0; }
  // Whether endpoint `name` is a node of the tier as this client knows it (whose answers count).
  bool is_node(const std::string& name) const { return index_of(name) < replicas_.size(); }
  // Any message from endpoint `from` arrived at `now`: a replica, if it is one, is alive.
  void heard(const std::string& from, TimePoint now);
  // An answer to request msg.req. REQUIRES: owns(msg.req). Returns true when it is the final
  // answer (the request is done and forgotten); false when it was consumed (not_leader: sent
  // again).
  bool on_reply(const std::string& from, const Message& msg, TimePoint now, Effects& out);
  // Sends again the attempts whose share of the timeout ran out.
  void tick(TimePoint now, Effects& out);
  // The connection to `replica` closed (Incoming::lost: its process died): the attempts waiting
  // on it go to the next replica now instead of after their share, and it is no longer believed
  // to lead. Anything else is ignored.
  void lost(const std::string& replica, TimePoint now, Effects& out);
  // When tick() next has something to do (TimePoint::max() when nothing).
  TimePoint next_deadline() const;
  // The caller gave up on `req`: forgets it; the tier is failing if nothing was heard since it
  // was sent.
  void timed_out(uint64_t req);

  // The tier's membership, as a replica listed it (get_members): replicas that joined are added
  // (and connected to), removed ones dropped; requests in flight keep their replica. Ignored
  // when it is empty or not newer (Members.index) than the last one learnt. Gossip mode: the
  // replicas not known are added at the end, and those no longer listed are never chosen again
  // (members join a gossip tier or leave it for good).
  void learn(const Members& m, Effects& out);

  // Gossip mode (see above). REQUIRES: called before the first send.
  void set_gossip(bool on) { gossip_ = on; }
  bool gossip() const { return gossip_; }
  // Gossip mode: the newest vector timestamp seen, and how many read answers said `partial`.
  const VectorStamp& clock() const { return clock_; }
  // Gossip mode: a clock learnt otherwise (an invalidation's), merged into the newest seen.
  void merge_clock(const VectorStamp& c);
  int64_t partial_reads() const { return partial_reads_; }
  // Gossip mode: whether `replica` (an index into replicas()) is off the dead list at `now`.
  bool live(size_t replica, TimePoint now) const;
  // Gossip mode: whether `replica` was removed from the tier (it is never chosen again).
  bool removed(size_t replica) const { return removed_[replica]; }
  static constexpr Duration kDeadRetry = ms(1000);
  static constexpr size_t kRetain = 8192;
  // Gossip mode: the requests the client sends on its own (the kept updates it sends again) use
  // ids from here up; their answers are its own (owns() is true for them) and are consumed.
  static constexpr uint64_t kOwnReq = uint64_t{1} << 62;
  size_t retained() const { return retained_.size(); }

  bool failing() const { return failing_; }
  // The replica believed to lead.
  const std::string& leader() const { return replicas_[leader_]; }
  const std::vector<std::string>& replicas() const { return replicas_; }

  static constexpr Duration kElectionBackoff = ms(20);

 private:
  struct Attempt {
    Body body;
    TimePoint sent_at;     // the first send
    TimePoint retry_at;    // when this attempt's share of the timeout runs out
    TimePoint attempt_at;  // the latest send
    Duration share{0};
    size_t replica = 0;    // where the last attempt went
    size_t tries = 1;      // sends after a timeout share (and the first)
    size_t redirects = 0;  // sends to a leader named by not_leader
    bool loaded = false;   // gossip mode: counted in load_[replica]
    bool own = false;      // gossip mode: a kept update sent again by the client itself
    bool refilled = false; // gossip mode: a seq_gap answer was met by sending the kept updates
    std::vector<bool> partial_from;  // gossip mode: the replicas that answered it `partial`
    bool backoff = false;  // waiting to ask the next replica after a not_leader naming nobody
  };
  void send_to(uint64_t req, Attempt& a, size_t replica, TimePoint now, Effects& out);
  // deadlines_ holds (retry_at, req) of the attempts that may still be retried.
  void schedule(uint64_t req, const Attempt& a);
  void unschedule(uint64_t req, const Attempt& a);
  size_t index_of(const std::string& replica) const;  // replicas_.size() when not one
  // Gossip mode: where `body` goes now (see above), `avoid` aside when another is live.
  size_t choose(const Body& body, TimePoint now, size_t avoid = SIZE_MAX, const std::vector<bool>* avoid_too = nullptr);
  void unload(Attempt& a);
  // Gossip mode: the clock an answer from replica `from` carries, merged into clock_; the kept
  // updates that another replica has too are forgotten.
  void take_clock(size_t from, const Body& body);
  // Gossip mode: an update replica `from` acknowledged, kept.
  void retain(size_t from, const Body& update, const Ack& ack);
  // Gossip mode: answers seq_gap to update `a` by sending `replica` the kept updates of its
  // publisher before it, then the update again. False when there is nothing to send.
  bool refill(uint64_t req, Attempt& a, TimePoint now, Effects& out);

  std::vector<std::string> replicas_;
  uint64_t learnt_index_ = 0;  // Members.index of the membership learnt last
  size_t leader_ = 0;
  std::map<uint64_t, Attempt> in_flight_;
  std::set<std::pair<TimePoint, uint64_t>> deadlines_;
  std::vector<TimePoint> heard_at_;  // per replica, when it was last heard from
  TimePoint last_heard_{};
  bool failing_ = false;
  bool gossip_ = false;
  VectorStamp clock_;
  int64_t partial_reads_ = 0;
  std::vector<TimePoint> died_at_;  // gossip mode, per replica: when it last went on the dead list
  std::vector<int64_t> load_;       // gossip mode, per replica: attempts in flight there
  std::vector<bool> removed_;       // gossip mode, per replica: removed from the tier (never live again)
  size_t spread_ = 0;               // gossip mode: rotates the ties between equally loaded replicas
  // Gossip mode: updates acknowledged by one replica only as far as the client knows, by
  // (publisher, seq), with the replica and its clock entry that covers the update; and by
  // replica, ordered by that entry.
  struct Kept {
    Body update;
    size_t replica = 0;
    uint64_t covered_at = 0;
  };
  std::map<std::pair<std::string, uint64_t>, Kept> retained_;
  std::vector<std::multimap<uint64_t, std::pair<std::string, uint64_t>>> retained_by_;
  uint64_t next_own_ = kOwnReq;
};

}  // namespace oly
