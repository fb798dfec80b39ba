// Guarantees 4 and 5 of check.h: what the tablets read, from the freshness analysis of the run
// (freshness.h).
//   4. push: no read that started after the ack of a newer version of its key;
//      pull: no stale read staler than in.pull_bound (sets r.over_bound);
//      both: no read whose value (when the history recorded it) is not the database's at its
//      version, from the applied log (a traitorous front end's lie, docs/byzantine.md).
//   5. no tablet read an older version of a key than it had read before.
// Both are n/a when no read succeeded. `start` is the run's start, for the times in examples.
//
// Thread-safety: pure functions over values.
#pragma once

#include "verify/check.h"
#include "verify/freshness.h"
#include "verify/verdict.h"

namespace oly::verify {

Verdict fresh_reads(const CheckInput& in, const FreshnessReport& f, TimePoint start,
                    CheckReport& r);
Verdict monotonic_reads(const FreshnessReport& f, TimePoint start);

// The ok reads of `in` whose recorded value is not the database's at their version (as
// ReadRecord::value writes it), with up to a few examples.
size_t foreign_values(const CheckInput& in, TimePoint start, std::vector<std::string>& examples);

}  // namespace oly::verify
