// The database's rule in Byzantine mode (docs/byzantine.md, "When the database applies an
// update"): an update is applied once f + 1 distinct front ends have submitted the byte-identical
// value for it. The caller checks the publisher's signature before a submission counts, and
// answers a submission of an update already applied with the stored result (the store's
// exactly-once record) without asking the quorum.
//
// A front end that submits the same value twice counts once; one that submits two different
// values for an update counts for neither, from then on (an equivocator is ignored for it).
//
// Memory: an update's submissions are kept until it reaches its quorum or forget() drops them
// (the caller forgets what the store applied by another route, and what a publisher has long
// passed).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/update_id.h"

namespace oly::byzantine {

using UpdateId = oly::UpdateId;

class SubmissionQuorum {
 public:
  explicit SubmissionQuorum(size_t f = 1) : needed_(f + 1) {}

  struct Outcome {
    bool apply = false;              // this submission completed the quorum: apply `value` now
    std::vector<std::string> voters; // apply: the front ends that submitted it (answer each)
  };
  Outcome submit(const UpdateId& id, const std::string& frontend, const std::string& value);
  void forget(const UpdateId& id) { pending_.erase(id); }
  size_t pending() const { return pending_.size(); }

 private:
  struct Tally {
    std::map<std::string, std::string> by_frontend;  // front end -> the value it submitted
    std::set<std::string> equivocators;
  };
  size_t needed_;
  std::map<UpdateId, Tally> pending_;
};

}  // namespace oly::byzantine
