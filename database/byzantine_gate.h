// The database's rule in Byzantine mode (docs/byzantine.md, "When the database applies an
// update"), in front of the replicated tier's leader: an update (set_score or
// increment_medal_tally) goes on to be applied only once f + 1 = 2 distinct front ends have
// submitted the byte-identical update, validly signed by the publisher.
//
// Per request the gate says one of:
//   refuse  not a front end's (by the routing id its key owns), or no valid publisher signature:
//           answer the error (unauthorised), store nothing;
//   park    the first submission of the update (or another of the same front end): hold the
//           request unanswered; it is answered with the update's result once the quorum is met;
//   apply   this submission completed the quorum: apply the update, and answer this request and
//           every parked one of the update (`parked`) with its result;
//   pass    an update the gate let through already, or one the store has applied (a resend):
//           hand it on; the store's exactly-once record answers it with the stored result.
// A request the gate lets through (apply, pass) has its epoch set to the current master's, so
// that the crash-mode fence does not refuse a lieutenant's submission: in this mode the quorum,
// not the epoch, says who may write.
//
// What it keeps is in the leader's memory only: a new leader starts with none, and the front ends'
// submissions then time out and come again with Cacofonix's resend. A parked submission is
// dropped after `park_for` (its front end has given up on it by then).
//
// Thread-safety: none (driven by the replica's core).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "byzantine/quorum.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/message.h"

namespace oly::database {

class ByzantineGate {
 public:
  // `publisher_key`: the publisher's public signing key (32 bytes).
  ByzantineGate(const Config& config, std::string publisher_key, Duration park_for);

  enum class Verdict { kRefuse, kPark, kApply, kPass };
  struct Outcome {
    Verdict verdict = Verdict::kPass;
    Error error = {};                                   // kRefuse
    std::vector<std::pair<std::string, uint64_t>> parked = {};  // kApply: (from, req) to answer too
  };
  // `update` is a set_score or increment_medal_tally from endpoint `from`; `last_seq` is the
  // publisher's last applied seq in the store and `epoch` the current master's.
  Outcome admit(const std::string& from, uint64_t req, Body& update, uint64_t last_seq, uint64_t epoch, TimePoint now);
  // Drops parked submissions older than park_for.
  void expire(TimePoint now);
  size_t parked() const { return parked_.size(); }

 private:
  struct Parked {
    TimePoint since;
    std::vector<std::pair<std::string, uint64_t>> requests;
  };
  // The front end whose key owns routing id `from`, or "".
  std::string frontend_of(const std::string& from) const;

  std::vector<std::string> frontends_;
  std::string publisher_key_;
  Duration park_for_;
  byzantine::SubmissionQuorum quorum_;
  std::map<byzantine::UpdateId, Parked> parked_;
  std::map<byzantine::UpdateId, TimePoint> let_through_;  // applied by quorum, not yet in the store
  // The signed bytes of each update whose signature was verified (and when): the other front
  // ends' submissions of the same bytes need no second verification (Ed25519's costs about 50 µs,
  // four submissions an update).
  std::map<byzantine::UpdateId, std::pair<std::string, TimePoint>> verified_;
};

}  // namespace oly::database
