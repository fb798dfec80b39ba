#include "verify/report.h"

#include <algorithm>
#include <iterator>

#include "verify/text.h"
#include "verify/wording.h"

namespace oly::verify {

namespace {

// What the verdict line says when the guarantee is broken, for the overall verdict.
constexpr const char* kShortNames[] = {"lost update",   "update applied twice", "out of order",
                                       "stale read",    "backwards read",       "not recovered",
                                       "not rebalanced"};

}  // namespace

std::string format_check(const CheckReport& r) {
  const TimePoint start = r.start.value_or(TimePoint{});
  std::string out = "check of " + r.run_dir + ": " + to_string(r.consistency) + ", " +
                    plural(r.frontends.size(), "front end", "front ends") + ", " +
                    plural(r.tablets, "tablet", "tablets") + ", " +
                    plural(r.acked, "acknowledged update", "acknowledged updates") + ", " +
                    plural(r.freshness.reads, "read", "reads") + "\n";
  size_t width = 0;
  for (const auto& v : r.verdicts) width = std::max(width, v.guarantee.size());
  for (const auto& v : r.verdicts) {
    std::string status = to_string(v.status);
    out += "  " + status + std::string(6 - std::min<size_t>(status.size(), 5), ' ') + v.guarantee +
           std::string(width - v.guarantee.size() + 2, ' ') + v.figures + "\n";
    for (const auto& e : v.examples) out += "          - " + e + "\n";
  }

  if (!r.failures.empty()) {
    std::vector<std::vector<std::string>> t;
    t.push_back({"#", "at s", "node", "how", "role", "down s", "publisher ms", "ack wait ms", "tablets",
                 "read wait p50/p99/max ms", "before", "during", "after", "home master back"});
    for (size_t i = 0; i < r.failures.size(); ++i) {
      const FailureReport& fr = r.failures[i];
      const Failure& f = fr.failure;
      const KillWindows& w = fr.windows;
      t.push_back({std::to_string(i + 1), fixed(to_ms(f.at - start) / 1000.0, 2), f.node, f.how, role_of(f),
                   f.back ? fixed(to_ms(*f.back - f.at) / 1000.0, 2) : "-", ms_text(w.publisher),
                   ms_text(w.publisher_wait),
                   std::to_string(w.tablets_affected - w.tablets_without_read) + "/" +
                       std::to_string(w.tablets_affected),
                   spread_text(spread_of(w.tablets_wait)), split_text(fr.before, r.frontends),
                   split_text(fr.during, r.frontends), split_text(fr.after, r.frontends),
                   fr.home_master_back ? (*fr.home_master_back ? "yes" : "no") : "-"});
    }
    out += "failures (tablets: read again/affected; before/during/after: tablets per front end)\n";
    const std::string table = render_table(t);
    for (size_t pos = 0; pos < table.size();) {
      const size_t nl = std::min(table.find('\n', pos), table.size());
      out += "  " + table.substr(pos, nl - pos) + "\n";
      pos = nl + 1;
    }
  }

  size_t pass = 0, fail = 0, none = 0;
  std::string failed;
  for (size_t i = 0; i < r.verdicts.size(); ++i) {
    const Verdict& v = r.verdicts[i];
    if (v.status == Status::kPass) ++pass;
    if (v.status == Status::kNotJudged) ++none;
    if (v.status != Status::kFail) continue;
    ++fail;
    failed += (failed.empty() ? "" : ", ") +
              (r.verdicts.size() == std::size(kShortNames) ? std::string(kShortNames[i]) : v.guarantee);
  }
  std::string counts = plural(r.verdicts.size(), "guarantee", "guarantees") + ": " + std::to_string(pass) +
                       " passed";
  if (fail > 0) counts += ", " + std::to_string(fail) + " failed";
  if (none > 0) counts += ", " + std::to_string(none) + " not judged";
  out += std::string("verdict: ") + (r.passed() ? "PASS" : "FAIL") + " (" + counts +
         (fail > 0 ? "; " + failed : "") + ")\n";
  return out;
}

}  // namespace oly::verify
