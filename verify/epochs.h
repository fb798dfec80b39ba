// "One writer per epoch" (no split brain), judged from what the database did: the epochs it
// granted and the updates it applied with the epoch each writer stamped on them. A real run does
// not record these (its applied log has no epoch); the simulator (tests/sim) taps its database
// and feeds them here.
//
// FAIL when epochs were not granted one at a time (1, 2, 3, ...), a claim was sent by another
// front end than the one it names, or an update was applied at an epoch nobody claimed, from a
// front end that did not claim it, before it was granted, after the next epoch was granted
// (fencing failed), or when two front ends wrote at one epoch. n/a when nothing was granted or
// written.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "verify/verdict.h"

namespace oly::verify {

// An epoch the database granted.
struct EpochClaim {
  uint64_t epoch = 0;
  std::string frontend;  // the claim's frontend field
  std::string from;      // the endpoint that sent it
  TimePoint at;
};

// An update the database applied (not a deduplicated resend).
struct EpochWrite {
  std::string publisher;
  uint64_t seq = 0;
  std::string key;
  uint64_t epoch = 0;    // the epoch the writer stamped on it
  std::string from;      // the endpoint that sent it (the writing front end)
  TimePoint at;
};

// `claims` and `writes` in the order the database made them.
Verdict one_writer_per_epoch(const std::vector<EpochClaim>& claims,
                             const std::vector<EpochWrite>& writes);

}  // namespace oly::verify
