// Membership: what one front end knows of the others, from their heartbeats.
//
//   - Who is alive: a FailureDetector fed with every message from a peer (heartbeats carry the
//     peer's incarnation, which tells a restart from a false suspicion).
//   - What each peer's last heartbeat said: the epoch it follows and whether it reaches the
//     database (PeerView).
//   - Who is rejoining: a peer heard again after a suspicion, or restarted, is not trusted with
//     tablets or mastership until it has been heard without a break for `settle`.
//
// From these it answers the questions mastership asks: who serves tablets (serving), whether
// this front end is the one that should claim (first_living), whether a silent master should be
// bypassed (silent), and whether the home master is ready to take mastership back (ready_to_lead).
//
// Pure: no I/O, no clock reads; it logs what it learns.
//
// Thread-safety: none (owned by FrontendCore).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "frontend/failure_detector.h"

namespace oly {

class Membership {
 public:
  // `frontends`: every front end's id in config order (the first is the home master), `self`
  // among them. `timeout`: silence after which a peer is suspected; `settle`: how long a
  // rejoining peer must be heard without a break; `interval`: the heartbeat interval.
  Membership(std::string self, std::vector<std::string> frontends, Duration timeout, Duration settle,
             Duration interval);

  // Starts the failure detector's clocks (idempotent).
  void start(TimePoint now);
  // Any message from `peer` (incarnation 0) or a heartbeat (its non-zero incarnation).
  void heard(const std::string& peer, uint64_t incarnation, TimePoint now);
  // What `peer`'s last heartbeat said.
  void said(const std::string& peer, uint64_t epoch, bool database_ok);
  // Suspects the peers silent for `timeout` (returned, each once per suspicion) and ends the
  // rejoining of peers heard without a break for `settle`.
  std::vector<std::string> tick(TimePoint now);

  // Front ends (self included) that may serve tablets now, in config order: self, and every
  // peer heard, not suspected and not rejoining.
  std::vector<std::string> serving() const;
  // Whether every peer has been heard or suspected once (before, serving() is incomplete).
  bool complete() const;
  // Whether self comes first in config order among the living front ends other than `master`.
  bool first_living(const std::string& master) const;
  // Whether `master` (a peer) is suspected or was not heard for two heartbeat intervals.
  bool silent(const std::string& master, TimePoint now) const;
  // Whether `peer` has settled, follows `epoch` and reaches the database; `up` is then set to
  // the start of its current unbroken run of heartbeats.
  bool ready_to_lead(const std::string& peer, uint64_t epoch, TimePoint now, TimePoint* up) const;
  // Whether `peer`'s current run of heartbeats still began at `up` (not suspected or restarted).
  bool same_run(const std::string& peer, TimePoint up) const;

  bool is_frontend(const std::string& id) const;
  const std::vector<std::string>& frontends() const { return frontends_; }
  const std::string& home_master() const { return frontends_.front(); }
  const FailureDetector& detector() const { return detector_; }

 private:
  struct PeerView {
    uint64_t epoch = 0;
    bool database_ok = true;
  };

  const std::string self_;
  const std::vector<std::string> frontends_;
  const Duration settle_;
  const Duration interval_;
  FailureDetector detector_;
  std::map<std::string, PeerView> views_;
  std::set<std::string> rejoining_;
};

}  // namespace oly
