#include "verify/reads.h"

#include <map>
#include <set>
#include <string>
#include <vector>

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
    else if (outcome == "partial") what = "answered partial (gossip mode: by a replica without all the front end had seen; may be older, not judged for freshness)";
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

size_t foreign_values(const CheckInput& in, TimePoint start, std::vector<std::string>& examples) {
  // key -> version -> the values held, replayed from the applied log in commit order (gossip
  // mode: from each replica's record, in the order it applied them).
  std::map<std::string, std::map<uint64_t, std::set<std::string>>> held;
  std::set<std::string> partial;
  const auto replay = [&](const std::vector<database::AppliedUpdate>& history) {
    std::map<std::string, std::map<std::string, int64_t>> medals;
    for (const auto& u : history) {
      if (u.op == "set_score") {
        held[u.key][u.version].insert(std::to_string(u.gauls) + "-" + std::to_string(u.romans));
      } else {
        // A tally is a count: judged only from its first increment on (a history that begins
        // later, a replica's that joined from a snapshot, cannot say it).
        if (!medals.count(u.key) && u.version != 1) partial.insert(u.key);
        auto& m = medals[u.key];
        ++m[u.medal];
        held[u.key][u.version].insert(std::to_string(m["gold"]) + "/" + std::to_string(m["silver"]) + "/" +
                                      std::to_string(m["bronze"]));
      }
    }
  };
  if (in.replicas.empty()) replay(in.applied);
  for (const auto& rec : in.replicas) replay(rec.applied);
  size_t bad = 0;
  for (const auto& r : in.reads) {
    // A partial read (gossip mode) may be older, but its value must still be one the database held.
    if ((r.outcome != "ok" && r.outcome != "partial") || r.value.empty() || partial.count(r.key)) continue;
    std::string want;
    if (r.version == 0) {
      want = r.key.starts_with("score/") ? "0-0" : "0/0/0";
    } else if (auto k = held.find(r.key); k != held.end() && k->second.count(r.version)) {
      const auto& values = k->second.at(r.version);
      if (values.count(r.value)) continue;
      want = *values.begin();
    } else {
      continue;  // a version the applied log does not reach: the freshness analysis judges it
    }
    if (r.value == want) continue;
    if (++bad <= 5) {
      examples.push_back(r.tablet + " read " + r.key + " v" + std::to_string(r.version) + " as " + r.value + " at " +
                         at_text(r.start, start) + " via " + r.frontend + "; the database held " + want);
    }
  }
  return bad;
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
  std::vector<std::string> foreign_examples;
  const size_t foreign = foreign_values(in, start, foreign_examples);
  for (const auto& e : foreign_examples) example(v, e);
  bad += foreign;
  if (foreign > 0) v.figures += "; " + plural(foreign, "read", "reads") + " of a value the database did not hold";
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
