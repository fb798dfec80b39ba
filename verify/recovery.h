// Guarantees 6 and 7 of check.h, around the failures of a run (events.h): the unavailability
// windows of each failure (windows.h), the tablets per front end before, during and after it
// (Split), and the verdicts
//   6. "service recovered after every failure": Cacofonix acknowledged again and every affected
//      tablet read successfully again (nothing about how long it took: windows are reported,
//      never judged);
//   7. "rebalanced after recovery": each judged `after` split within max(2, tablets / 10) of the
//      baseline scaled to the same number of tablets (a first failure may come before some
//      tablets have read at all), and every ack of that period via the home master (frontends[0]).
// Also the two recovery checks the simulator makes on a live cluster (tests/sim): a split within
// one of even, and every tablet served again within a bound.
//
// Thread-safety: pure functions over values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/records.h"
#include "verify/check.h"
#include "verify/ledger.h"
#include "verify/verdict.h"

namespace oly::verify {

// Tablets per front end over [from, to): each tablet counted once, at the front end of its last
// successful read that completed in the period; front ends of `frontends` that served none are
// listed with 0. Judged when the period is at least `read_interval` long.
Split split_over(const std::vector<ReadRecord>& reads, const std::vector<std::string>& frontends,
                 TimePoint from, TimePoint to, Duration read_interval);

// One FailureReport per in.events.failures (see FailureReport in check.h for the periods).
std::vector<FailureReport> failure_reports(const CheckInput& in, const Ledger& l, TimePoint start,
                                           TimePoint run_end);

// 6 and 7, from r.failures, r.baseline, r.tablets and r.frontends.
Verdict recovered(const CheckReport& r);
Verdict rebalanced(const CheckReport& r);

// A description when the tablets per front end differ by more than `max_spread` between the
// most and the least loaded front end; empty otherwise (or with no front end).
std::vector<std::string> uneven_split(const std::map<std::string, int64_t>& per_frontend,
                                      int64_t max_spread = 1);

// One description per tablet of `tablets` without a successful read that started in
// [from, by], with what its reads in that window did.
std::vector<std::string> tablets_not_served(const std::vector<ReadRecord>& reads,
                                            const std::vector<std::string>& tablets, TimePoint from,
                                            TimePoint by);

}  // namespace oly::verify
