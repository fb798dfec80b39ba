#include "verify/freshness.h"

#include <algorithm>

namespace oly::verify {

namespace {

constexpr size_t kExamples = 8;

// Commit times per key, indexed by version.
using CommitTimes = std::map<std::string, std::map<uint64_t, TimePoint>>;

// Per key, acknowledgements in time order with the highest version acknowledged so far.
using AckedBy = std::map<std::string, std::vector<std::pair<TimePoint, uint64_t>>>;

AckedBy acked_by(const std::vector<AckRecord>& acks) {
  AckedBy out;
  for (const auto& a : acks) out[a.key].emplace_back(a.acked, a.version);
  for (auto& [key, v] : out) {
    std::sort(v.begin(), v.end());
    uint64_t high = 0;
    for (auto& [t, version] : v) version = high = std::max(high, version);
  }
  return out;
}

uint64_t highest_acked_before(const AckedBy& acked, const std::string& key, TimePoint t) {
  auto it = acked.find(key);
  if (it == acked.end()) return 0;
  const auto& v = it->second;
  auto pos = std::lower_bound(v.begin(), v.end(), std::make_pair(t, uint64_t{0}));
  return pos == v.begin() ? 0 : std::prev(pos)->second;
}

Duration percentile(std::vector<Duration>& v, double p) {
  if (v.empty()) return Duration(0);
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// check.cpp rewrites "at t=<us>us" into seconds since the run's start: keep that form.
std::string describe(const ReadRecord& r) {
  return r.tablet + " read " + r.key + " v" + std::to_string(r.version) + " from " + r.frontend + " at t=" +
         std::to_string(to_us(r.start)) + "us";
}

}  // namespace

FreshnessReport analyse_freshness(const std::vector<ReadRecord>& reads, const std::vector<Commit>& commits,
                                  const std::vector<AckRecord>& acks) {
  FreshnessReport rep;
  CommitTimes committed;
  for (const auto& c : commits) committed[c.key][c.version] = c.at;
  const AckedBy acked = acked_by(acks);
  std::vector<Duration> staleness;

  std::vector<const ReadRecord*> ok;
  for (const auto& r : reads) {
    ++rep.reads;
    if (r.outcome != "ok") {
      ++rep.not_ok[r.outcome];
      continue;
    }
    ok.push_back(&r);
    ++rep.reads_ok;
    // Fresh unless version + 1 was committed before the read started.
    bool fresh = true;
    if (auto k = committed.find(r.key); k != committed.end()) {
      if (auto next = k->second.find(r.version + 1); next != k->second.end() && next->second < r.start) {
        fresh = false;
        staleness.push_back(r.start - next->second);
        rep.stale.push_back({r.start, staleness.back(), r.tablet, r.key});
      }
    }
    rep.fresh += fresh;
    const uint64_t must = highest_acked_before(acked, r.key, r.start);
    if (r.version < must) {
      ++rep.stale_after_ack;
      if (rep.stale_examples.size() < kExamples) {
        rep.stale_examples.push_back(describe(r) + ", but v" + std::to_string(must) + " had been acknowledged before");
      }
    }
  }
  rep.fidelity = rep.reads_ok ? static_cast<double>(rep.fresh) / static_cast<double>(rep.reads_ok) : 1.0;
  rep.staleness_p50 = percentile(staleness, 0.5);
  rep.staleness_p99 = percentile(staleness, 0.99);
  rep.staleness_max = staleness.empty() ? Duration(0) : *std::max_element(staleness.begin(), staleness.end());

  std::stable_sort(ok.begin(), ok.end(), [](const auto* a, const auto* b) { return a->end < b->end; });
  std::map<std::pair<std::string, std::string>, uint64_t> last;
  for (const auto* r : ok) {
    auto& l = last[{r->tablet, r->key}];
    if (r->version < l) {
      ++rep.backwards;
      if (rep.backwards_examples.size() < kExamples) {
        rep.backwards_examples.push_back(describe(*r) + " after v" + std::to_string(l));
      }
    }
    l = std::max(l, r->version);
  }
  return rep;
}

std::vector<Commit> commits_of(const std::vector<database::AppliedUpdate>& applied) {
  std::vector<Commit> out;
  out.reserve(applied.size());
  for (const auto& u : applied) out.push_back(Commit{u.key, u.version, from_us(u.committed_at_us)});
  return out;
}

}  // namespace oly::verify
