#include "verify/reads.h"

#include "verify/text.h"
#include "verify/wording.h"

namespace oly::verify {

namespace {

// What became of the reads that were not ok, e.g. "85 lost with their connection, retried".
std::string not_ok_text(const std::map<std::string, size_t>& not_ok) {
  std::string out;
  for (const auto& [outcome, n] : not_ok) {
    std::string what = outcome;
    if (outcome == "lost") what = "lost with their front end's connection, retried on the next";
    else if (outcome == "moved") what = "moved by a serving notice, retried";
    else if (outcome == "timeout") what = "timed out";
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  }
  return out;
}

}  // namespace

std::string freshness_text(const FreshnessReport& f) {
  std::string out = std::to_string(f.reads_ok) + " reads ok of " + std::to_string(f.reads);
  if (!f.not_ok.empty()) out += " (" + not_ok_text(f.not_ok) + ")";
  out += ", fidelity " + fixed(f.fidelity * 100.0, 1) + "%";
  if (f.stale.empty()) return out + ", no stale read";
  return out + ", " + plural(f.stale.size(), "stale read", "stale reads") + " p50/p99/max " +
         ms_text(f.staleness_p50) + "/" + ms_text(f.staleness_p99) + "/" + ms_text(f.staleness_max) + " ms";
}

Verdict fresh_reads(const CheckInput& in, const FreshnessReport& f, TimePoint start,
                    CheckReport& r) {
  const bool push = in.consistency == Consistency::kPush;
  Verdict v = verdict(push ? "no read older than an acknowledged update" : "reads within the pull bound");
  size_t bad = 0;
  if (push) {
    bad = f.stale_after_ack;
    for (const auto& e : f.stale_examples) example(v, relative_times(e, start));
    v.figures = freshness_text(f) + "; " +
                (bad == 0 ? std::string("none older than an acknowledged update")
                          : plural(bad, "read", "reads") + " older than an acknowledged update");
  } else {
    for (const auto& s : f.stale) {
      if (s.staleness <= in.pull_bound) continue;
      ++bad;
      example(v, s.tablet + " read " + s.key + " at " + at_text(s.start, start) + ", " +
                     ms_text(s.staleness) + " ms stale (bound " + ms_text(in.pull_bound) + " ms)");
    }
    r.over_bound = bad;
    v.figures = std::to_string(bad) + " stale reads over the " + ms_text(in.pull_bound) + " ms bound; " +
                freshness_text(f);
  }
  if (f.reads_ok == 0) {
    v.figures = "no successful read";
    return v;
  }
  v.status = bad == 0 ? Status::kPass : Status::kFail;
  return v;
}

Verdict monotonic_reads(const FreshnessReport& f, TimePoint start) {
  Verdict v = verdict("monotonic reads");
  if (f.reads_ok == 0) {
    v.figures = "no successful read";
    return v;
  }
  for (const auto& e : f.backwards_examples) example(v, relative_times(e, start));
  v.status = f.backwards == 0 ? Status::kPass : Status::kFail;
  v.figures = f.backwards == 0 ? "no tablet read an older version of a key after a newer one (" +
                                     std::to_string(f.reads_ok) + " reads ok)"
                               : plural(f.backwards, "read", "reads") + " older than the tablet's earlier read";
  return v;
}


}  // namespace oly::verify
