// Agreement: Byzantine mode's OM(1) at one front end (docs/byzantine.md, "How an update is
// agreed"), over every update at once.
//
// The commander is the front end Cacofonix sent the update to: command() proposes the signed
// update to the three others (round 1) and decides it itself. A lieutenant relays what the
// commander sent it to the two others (round 2) as soon as it has it, or none once a round has
// passed since it first heard of the update without the commander's proposal; it decides, by
// byzantine::Om1Lieutenant's majority, once it holds all three values or two rounds have passed.
// An instance is keyed by (commander, publisher, seq): Cacofonix's resend to another front end is
// a new instance with a new commander.
//
// A value is a propose's or relay's `update`: the frame of a signed set_score or
// increment_medal_tally. It counts only when it decodes to an update with that (publisher, seq)
// whose signature the publisher's key verifies; anything else counts as none (so a traitor can
// withhold an update, never change one). Values are compared byte for byte.
//
// Decisions that are an update (not none) are handed out by take_decisions(); the core submits
// each to the database. An instance is forgotten kForgetRounds rounds after it began (a late
// message then starts a new one, whose decision the database's exactly-once record absorbs).
//
// Thread-safety: none (driven by the front end's core).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "byzantine/om1.h"
#include "byzantine/signed_update.h"
#include "common/clock.h"
#include "common/node.h"

namespace oly {

class Agreement {
 public:
  static constexpr int kForgetRounds = 20;

  struct Decision {
    std::string commander;
    byzantine::Update update;  // signed; no token, no epoch
  };

  // `frontends`: all four, self included. `round`: how long a round waits.
  Agreement(std::string self, std::vector<std::string> frontends, Duration round, Counters& counters);

  // The publisher's public signing key (until set, no update verifies).
  void set_publisher_key(std::string key) { publisher_key_ = std::move(key); }
  // Whether `u` carries the publisher's valid signature.
  bool signed_ok(const byzantine::Update& u) const;

  // Commander: proposes `u` (its token and epoch dropped) to the others; its own decision is
  // `u`, handed out at once by take_decisions().
  void command(byzantine::Update u, Effects& out);
  // Lieutenant: a commander's proposal, another lieutenant's relay. `from` is the sender's
  // endpoint (a front end: the caller checked).
  void on_propose(const std::string& from, const Propose& p, TimePoint now, Effects& out);
  void on_relay(const std::string& from, const Relay& r, TimePoint now, Effects& out);
  // Ends the rounds that are due: relays none, decides.
  void tick(TimePoint now, Effects& out);
  TimePoint next_deadline() const { return next_deadline_; }

  std::vector<Decision> take_decisions() { return std::exchange(decisions_, {}); }
  // Tells `o` of every decision this front end takes, none included, as (commander, publisher,
  // seq, value): for the simulator's checks of agreement.
  using Observer = std::function<void(const std::string& commander, const std::string& publisher, uint64_t seq,
                                      const byzantine::Value& value)>;
  void observe(Observer o) { observer_ = std::move(o); }
  size_t instances() const { return instances_.size(); }

 private:
  using InstanceId = std::tuple<std::string, std::string, uint64_t>;  // commander, publisher, seq
  struct Instance {
    byzantine::Om1Lieutenant om;
    TimePoint started;
    bool relayed = false;
    bool decided = false;
    std::string verified = {};  // the bytes whose signature was verified (a relay of the same needs no second check)
  };
  Instance* instance(const InstanceId& id, TimePoint now);
  // The value of `update` for instance `id`: the bytes when they are a validly signed update of
  // (publisher, seq), else none.
  byzantine::Value check(const InstanceId& id, Instance& in, const Bytes& update) const;
  void relay(const InstanceId& id, Instance& in, Effects& out);
  void decide(const InstanceId& id, Instance& in);

  const std::string self_;
  const std::vector<std::string> frontends_;
  const Duration round_;
  Counters& counters_;
  std::string publisher_key_;
  std::map<InstanceId, Instance> instances_;
  std::vector<Decision> decisions_;
  TimePoint next_deadline_ = TimePoint::max();
  Observer observer_;  // the earliest round end or forgetting due
};

// The frame a commander proposes for `u`: its encoding with req 0, no token and no epoch.
std::string proposal_frame(byzantine::Update u);

}  // namespace oly
