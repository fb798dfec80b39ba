#include "verify/check.h"

#include <algorithm>
#include <set>

#include "verify/ledger.h"
#include "verify/reads.h"
#include "verify/recovery.h"

namespace oly::verify {

bool CheckReport::passed() const {
  return std::none_of(verdicts.begin(), verdicts.end(),
                      [](const Verdict& v) { return v.status == Status::kFail; });
}

namespace {

// The run's first and last moments: the tool's start and down events, else the records' extremes.
struct Span {
  std::optional<TimePoint> first, last;
  void see(TimePoint t) {
    if (!first || t < *first) first = t;
    if (!last || t > *last) last = t;
  }
};

Span record_span(const CheckInput& in) {
  Span s;
  for (const auto& a : in.acks) {
    s.see(a.first_sent);
    s.see(a.acked);
  }
  for (const auto& r : in.reads) {
    s.see(r.start);
    s.see(r.end);
  }
  for (const auto& u : in.applied) s.see(from_us(u.committed_at_us));
  for (const auto& f : in.events.failures) {
    s.see(f.at);
    if (f.back) s.see(*f.back);
  }
  return s;
}

}  // namespace

CheckReport check_run(const CheckInput& in) {
  CheckReport r;
  r.run_dir = in.run_dir;
  r.consistency = in.consistency;
  r.frontends = in.frontends;
  r.byzantine = in.byzantine;
  r.pull_bound = in.pull_bound;
  const Span span = record_span(in);
  r.start = in.events.start ? in.events.start : span.first;
  const TimePoint start = r.start.value_or(TimePoint{});
  const TimePoint run_end = in.events.end.value_or(span.last.value_or(start));

  const Ledger l = ledger_of(in);
  r.acked = l.acks.size();
  r.applied = in.applied.size();
  for (const auto& [ps, list] : l.applied) r.applied_unacked += !l.acks.contains(ps);
  std::set<std::string> tablets;
  for (const auto& rd : in.reads) tablets.insert(rd.tablet);
  r.tablets = tablets.size();

  r.freshness = analyse_freshness(in.reads, commits_of(in.applied), in.acks);

  if (in.replicas.empty()) {
    const std::set<std::string> off = keys_off_count(l);
    r.verdicts.push_back(no_update_lost(in, l, start, r));
    r.verdicts.push_back(no_update_twice(in, l, off, start, r));
    r.verdicts.push_back(applied_in_order(in, l, off, start, r));
  } else {
    for (auto& v : judge_replica_records(in, l, start, r)) r.verdicts.push_back(std::move(v));
  }
  r.verdicts.push_back(fresh_reads(in, r.freshness, start, r));
  r.verdicts.push_back(monotonic_reads(r.freshness, start));

  if (!in.events.failures.empty()) {
    const TimePoint first = in.events.failures.front().at;
    r.baseline = split_over(in.reads, in.frontends, std::max(start, first - 2 * in.read_interval), first,
                            in.read_interval);
  }
  r.failures = failure_reports(in, l, start, run_end);
  r.verdicts.push_back(recovered(r));
  r.verdicts.push_back(rebalanced(r));
  return r;
}

}  // namespace oly::verify
