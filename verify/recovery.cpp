#include "verify/recovery.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "verify/wording.h"

namespace oly::verify {

// Tablets per front end at the end of [from, to) (Split in check.h).
Split split_over(const std::vector<ReadRecord>& reads, const std::vector<std::string>& frontends,
                 TimePoint from, TimePoint to, Duration read_interval) {
  Split s;
  s.from = from;
  s.to = to;
  s.judged = to > from && to - from >= read_interval;
  for (const auto& fe : frontends) s.tablets[fe] = 0;
  std::map<std::string, const ReadRecord*> last;
  for (const auto& r : reads) {
    if (r.outcome != "ok" || r.end < from || r.end >= to) continue;
    auto& l = last[r.tablet];
    if (l == nullptr || r.end >= l->end) l = &r;
  }
  for (const auto& [tablet, r] : last) ++s.tablets[r->frontend];
  return s;
}

namespace {

size_t count_at(const Split& s, const std::string& fe) {
  auto it = s.tablets.find(fe);
  return it == s.tablets.end() ? 0 : it->second;
}

// The database's publisher window: the first ack after `at` of an update committed after it
// (acks of updates committed before the failure were already on their way).
std::optional<Duration> database_publisher_window(const Failure& f, const std::vector<const AckRecord*>& acks,
                                                  const Ledger& l) {
  for (const AckRecord* a : acks) {
    if (a->acked <= f.at) continue;
    auto it = l.applied.find({a->publisher, a->seq});
    if (it == l.applied.end() || from_us(it->second.front()->committed_at_us) <= f.at) continue;
    return a->acked - f.at;
  }
  return std::nullopt;
}

}  // namespace

std::vector<FailureReport> failure_reports(const CheckInput& in, const Ledger& l, TimePoint start,
                                           TimePoint run_end) {
  const auto& failures = in.events.failures;
  std::vector<KillEvent> kills;
  for (const auto& f : failures) {
    KillEvent k;
    k.node = f.node;
    k.was_master = f.was_master;
    k.killed = f.at;
    k.restarted = f.back;
    if (f.back) k.settled = *f.back + in.settle;
    k.all_tablets = f.database;
    kills.push_back(std::move(k));
  }
  const auto windows = failover_windows(kills, in.acks, in.reads);
  std::vector<const AckRecord*> acks;
  for (const auto& a : in.acks) acks.push_back(&a);
  std::stable_sort(acks.begin(), acks.end(),
                   [](const AckRecord* a, const AckRecord* b) { return a->acked < b->acked; });

  const Duration span = 2 * in.read_interval;
  std::vector<FailureReport> out;
  for (size_t i = 0; i < failures.size(); ++i) {
    const Failure& f = failures[i];
    FailureReport fr;
    fr.failure = f;
    fr.windows = windows[i];
    if (f.database) fr.windows.publisher = database_publisher_window(f, acks, l);
    fr.before = split_over(in.reads, in.frontends, std::max(start, f.at - span), f.at, in.read_interval);
    const TimePoint end = f.back.value_or(run_end);
    fr.during = split_over(in.reads, in.frontends,
                           std::max(f.at + in.detect + 2 * in.tablet_timeout, end - span), end,
                           in.read_interval);
    if (f.back) {
      TimePoint next = run_end;
      for (const auto& g : failures) {
        if (g.at > f.at) next = std::min(next, g.at);
      }
      fr.after = split_over(in.reads, in.frontends,
                            std::max(*f.back + in.settle + in.detect + in.read_interval, next - span), next,
                            in.read_interval);
    }
    if (fr.after.judged && !in.frontends.empty()) {
      for (const AckRecord* a : acks) {
        if (a->acked < fr.after.from || a->acked >= fr.after.to) continue;
        fr.home_master_back = fr.home_master_back.value_or(true) && a->via == in.frontends.front();
      }
    }
    out.push_back(std::move(fr));
  }
  return out;
}

namespace {
// True (and `v` says so) when the run had no failures to judge.
bool no_failures(const CheckReport& r, Verdict& v) {
  if (!r.failures.empty()) return false;
  v.figures = "no failures";
  return true;
}
}  // namespace

Verdict recovered(const CheckReport& r) {
  Verdict v = verdict("service recovered after every failure");
  if (no_failures(r, v)) return v;
  const TimePoint start = r.start.value_or(TimePoint{});
  size_t bad = 0, affected = 0;
  std::vector<Duration> publisher, waits;
  for (const auto& fr : r.failures) {
    const KillWindows& w = fr.windows;
    if (w.publisher) publisher.push_back(*w.publisher);
    waits.insert(waits.end(), w.tablets_wait.begin(), w.tablets_wait.end());
    affected += w.tablets_affected;
    if (w.publisher && w.tablets_without_read == 0) continue;
    ++bad;
    if (!w.publisher) example(v, describe_failure(fr.failure, start) + ": Cacofonix never acknowledged again");
    if (w.tablets_without_read > 0) {
      example(v, describe_failure(fr.failure, start) + ": " + std::to_string(w.tablets_without_read) + " of " +
                     std::to_string(w.tablets_affected) + " affected tablets never read successfully again");
    }
  }
  v.status = bad == 0 ? Status::kPass : Status::kFail;
  v.figures = (bad == 0 ? plural(r.failures.size(), "failure", "failures") + ", all recovered"
                        : std::to_string(bad) + " of " + plural(r.failures.size(), "failure", "failures") +
                              " not recovered") +
              "; publisher p50/p99/max " + spread_text(spread_of(publisher)) + " ms; tablets' read wait " +
              "p50/p99/max " + spread_text(spread_of(waits)) + " ms over " +
              plural(affected, "affected tablet", "affected tablets");
  return v;
}

Verdict rebalanced(const CheckReport& r) {
  Verdict v = verdict("rebalanced after recovery");
  if (no_failures(r, v)) return v;
  const TimePoint start = r.start.value_or(TimePoint{});
  const size_t tolerance = std::max<size_t>(2, r.tablets / 10);
  const std::string home = r.frontends.empty() ? std::string("the home master") : r.frontends.front();
  size_t judged = 0, off = 0, elsewhere = 0;
  for (const auto& fr : r.failures) {
    if (fr.home_master_back == false && !r.byzantine) {
      ++elsewhere;
      example(v, "after " + describe_failure(fr.failure, start) + " (" + at_text(fr.after.from, start) + " to " +
                     at_text(fr.after.to, start) + "): acks came through another front end than " + home);
    }
    if (!fr.after.judged || !r.baseline.judged) continue;
    ++judged;
    std::set<std::string> fes;
    size_t after_total = 0, baseline_total = 0;
    for (const auto& [fe, n] : r.baseline.tablets) {
      fes.insert(fe);
      baseline_total += n;
    }
    for (const auto& [fe, n] : fr.after.tablets) {
      fes.insert(fe);
      after_total += n;
    }
    // The baseline scaled to the recovery period's number of tablets: a first failure early in a
    // run comes before some tablets have read at all, and those are not a change of the split.
    const double scale = baseline_total == 0 ? 1.0 : static_cast<double>(after_total) / static_cast<double>(baseline_total);
    const bool within = std::all_of(fes.begin(), fes.end(), [&](const std::string& fe) {
      const double a = static_cast<double>(count_at(fr.after, fe));
      const double b = static_cast<double>(count_at(r.baseline, fe)) * scale;
      return std::abs(a - b) <= static_cast<double>(tolerance);
    });
    if (within) continue;
    ++off;
    example(v, "after " + describe_failure(fr.failure, start) + " (" + at_text(fr.after.from, start) + " to " +
                   at_text(fr.after.to, start) + "): " + split_text(fr.after, r.frontends) + ", baseline " +
                   split_text(r.baseline, r.frontends) + " (tolerance " + std::to_string(tolerance) + ")");
  }
  const std::string baseline = "baseline " + split_text(r.baseline, r.frontends);
  if (off > 0 || elsewhere > 0) {
    v.status = Status::kFail;
    v.figures = baseline + "; " + std::to_string(off) + " of " + std::to_string(judged) +
                " judged recovery periods off it by more than " + std::to_string(tolerance) + " tablets" +
                (r.byzantine ? "" : "; " + std::to_string(elsewhere) + " with acks not via " + home);
    return v;
  }
  if (!r.baseline.judged) {
    v.figures = "no baseline: too little of the run before the first failure";
    return v;
  }
  if (judged == 0) {
    v.figures = baseline + "; no failure was followed by a long enough recovery period";
    return v;
  }
  v.status = Status::kPass;
  v.figures = baseline + "; " + std::to_string(judged) + " of " +
              plural(r.failures.size(), "recovery period", "recovery periods") + " judged, all within " +
              std::to_string(tolerance) + " tablets of it" + (r.byzantine ? std::string(" (Byzantine mode: acks through any front end)") : ", acks via " + home);
  return v;
}


std::vector<std::string> uneven_split(const std::map<std::string, int64_t>& per_frontend,
                                      int64_t max_spread) {
  int64_t lo = INT64_MAX, hi = 0;
  std::string text;
  for (const auto& [fe, n] : per_frontend) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
    text += " " + fe + "=" + std::to_string(n);
  }
  if (per_frontend.empty() || hi - lo <= max_spread) return {};
  return {"tablets are not split within " + std::to_string(max_spread) + " of even:" + text};
}

std::vector<std::string> tablets_not_served(const std::vector<ReadRecord>& reads,
                                            const std::vector<std::string>& tablets, TimePoint from,
                                            TimePoint by) {
  std::map<std::string, std::string> tried;  // tablet -> what its reads in the window did
  std::set<std::string> served;
  for (const auto& r : reads) {
    if (r.start < from || r.start > by) continue;
    if (r.outcome == "ok") served.insert(r.tablet);
    auto& t = tried[r.tablet];
    if (t.size() < 300) {
      t += " " + r.key + "@" + r.frontend + "+" + std::to_string((to_us(r.start) - to_us(from)) / 1000) +
           "ms:" + r.outcome;
    }
  }
  std::vector<std::string> v;
  for (const auto& id : tablets) {
    if (served.contains(id)) continue;
    v.push_back(id + " had no successful read starting within " + std::to_string((to_us(by) - to_us(from)) / 1000) +
                " ms of t=" + std::to_string(to_us(from)) + "us; its reads:" + (tried.contains(id) ? tried[id] : " none"));
  }
  return v;
}

}  // namespace oly::verify
