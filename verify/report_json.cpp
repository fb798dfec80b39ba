#include <cmath>
#include <nlohmann/json.hpp>

#include "verify/report.h"
#include "verify/wording.h"

namespace oly::verify {

namespace {

using Json = nlohmann::ordered_json;

// Milliseconds to the microsecond.
double ms_value(Duration d) { return std::round(to_ms(d) * 1000.0) / 1000.0; }
Json ms_json(const std::optional<Duration>& d) { return d ? Json(ms_value(*d)) : Json(nullptr); }
double seconds_since(TimePoint t, TimePoint start) { return ms_value(t - start) / 1000.0; }

Json spread_json(const Spread& s) {
  const auto value = [&](Duration d) { return s.n > 0 ? Json(ms_value(d)) : Json(nullptr); };
  return {{"n", s.n}, {"p50_ms", value(s.p50)}, {"p99_ms", value(s.p99)}, {"max_ms", value(s.max)}};
}

Json split_json(const Split& s, TimePoint start) {
  Json out = {{"judged", s.judged}};
  if (s.judged) {
    out["from_s"] = seconds_since(s.from, start);
    out["to_s"] = seconds_since(s.to, start);
  }
  out["tablets"] = Json::object();
  for (const auto& [fe, n] : s.tablets) out["tablets"][fe] = n;
  return out;
}

Json freshness_json(const CheckReport& r) {
  const FreshnessReport& f = r.freshness;
  const bool pull = r.consistency == Consistency::kPull;
  return {{"reads", f.reads},
          {"reads_ok", f.reads_ok},
          {"fidelity", std::round(f.fidelity * 10000.0) / 10000.0},
          {"stale", f.stale.size()},
          {"staleness_p50_ms", ms_value(f.staleness_p50)},
          {"staleness_p99_ms", ms_value(f.staleness_p99)},
          {"staleness_max_ms", ms_value(f.staleness_max)},
          {"stale_after_ack", f.stale_after_ack},
          {"backwards", f.backwards},
          {"over_bound", pull ? Json(r.over_bound) : Json(nullptr)},
          {"pull_bound_ms", pull ? Json(ms_value(r.pull_bound)) : Json(nullptr)}};
}

Json failure_json(const FailureReport& fr, TimePoint start) {
  const Failure& f = fr.failure;
  const KillWindows& w = fr.windows;
  return {{"node", f.node},
          {"how", f.how},
          {"role", role_of(f)},
          {"at_s", seconds_since(f.at, start)},
          {"back_s", f.back ? Json(seconds_since(*f.back, start)) : Json(nullptr)},
          {"publisher_ms", ms_json(w.publisher)},
          {"publisher_wait_ms", ms_json(w.publisher_wait)},
          {"handoff_gap_ms", ms_json(w.handoff_gap)},
          {"tablets_affected", w.tablets_affected},
          {"tablets_without_read", w.tablets_without_read},
          {"tablets_wait", spread_json(spread_of(w.tablets_wait))},
          {"tablets_first", spread_json(spread_of(w.tablets_first))},
          {"before", split_json(fr.before, start)},
          {"during", split_json(fr.during, start)},
          {"after", split_json(fr.after, start)},
          {"home_master_back", fr.home_master_back ? Json(*fr.home_master_back) : Json(nullptr)}};
}

}  // namespace

std::string check_json(const CheckReport& r) {
  const TimePoint start = r.start.value_or(TimePoint{});
  Json out = {{"pass", r.passed()},
              {"run_dir", r.run_dir},
              {"consistency", to_string(r.consistency)},
              {"frontends", r.frontends}};
  Json guarantees = Json::array();
  for (const Verdict& v : r.verdicts) {
    guarantees.push_back({{"name", v.guarantee},
                          {"status", to_string(v.status)},
                          {"figures", v.figures},
                          {"examples", v.examples}});
  }
  out["guarantees"] = std::move(guarantees);
  out["counts"] = {{"acked", r.acked},       {"applied", r.applied},
                   {"applied_unacked", r.applied_unacked},
                   {"lost", r.lost},         {"duplicates", r.duplicates},
                   {"reordered", r.reordered}, {"tablets", r.tablets},
                   {"failures", r.failures.size()}};
  out["freshness"] = freshness_json(r);
  out["baseline"] = split_json(r.baseline, start);
  std::vector<Duration> publisher, waits, firsts;
  Json failures = Json::array();
  for (const auto& fr : r.failures) {
    if (fr.windows.publisher) publisher.push_back(*fr.windows.publisher);
    waits.insert(waits.end(), fr.windows.tablets_wait.begin(), fr.windows.tablets_wait.end());
    firsts.insert(firsts.end(), fr.windows.tablets_first.begin(), fr.windows.tablets_first.end());
    failures.push_back(failure_json(fr, start));
  }
  out["unavailability"] = {{"publisher", spread_json(spread_of(publisher))},
                           {"tablets_wait", spread_json(spread_of(waits))},
                           {"tablets_first", spread_json(spread_of(firsts))}};
  out["failures"] = std::move(failures);
  return out.dump(2) + "\n";
}

}  // namespace oly::verify
