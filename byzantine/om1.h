// OM(1), Lamport's oral-messages algorithm for one traitor among four generals, for one update at
// one lieutenant (docs/byzantine.md, "How an update is agreed").
//
// Round 1: the commander (the master) sends its value to the three lieutenants. Round 2: each
// lieutenant relays what it received to the other two. Each lieutenant then decides the majority
// of the three values it holds (the commander's and the two relays); with no value held twice, the
// decision is none. A message that did not come by the end of its round counts as none, as does
// one that failed the caller's checks (a bad signature: the caller passes none).
//
// Only the first message of each sender counts: a second one, equal or not, is ignored (and
// counted in ignored()). A message from a node that is not the commander (round 1) or one of the
// two other lieutenants (round 2) is ignored too.
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace oly::byzantine {

// A value agreed on, compared byte for byte (an update's canonical bytes and signature); none is
// nullopt.
using Value = std::optional<std::string>;

// The value held at least twice among `held` when `held` has three values, and in general the
// value held by more than half of them; none otherwise (none held by a majority is none too).
Value majority(const std::vector<Value>& held);

class Om1Lieutenant {
 public:
  // `others`: the two other lieutenants.
  Om1Lieutenant(std::string commander, std::vector<std::string> others);

  // Round 1: the commander's value. true when it counts (the first from the commander): the
  // lieutenant then relays it to the others.
  bool on_propose(const std::string& from, Value v);
  // Round 1 is over without the commander's value: the lieutenant holds none (and relays none).
  // false when the commander's value had come.
  bool commander_silent();
  // Round 2: a relay. true when it counts.
  bool on_relay(const std::string& from, Value v);

  // What the lieutenant received from the commander, once round 1 is over (on_propose or
  // commander_silent), for its relays; nullopt before.
  std::optional<Value> received() const { return commander_; }
  // Whether every message of both rounds has come (no need to wait for the round's end).
  bool heard_all() const { return commander_.has_value() && relays_.size() == others_.size(); }
  // The decision: the majority of what it holds, counting what did not come as none.
  Value decide() const;
  int ignored() const { return ignored_; }

 private:
  std::string commander_name_;
  std::vector<std::string> others_;
  std::optional<Value> commander_;
  std::map<std::string, Value> relays_;
  int ignored_ = 0;
};

}  // namespace oly::byzantine
