#include "verify/windows.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace oly::verify {

namespace {

// A tablet's reads, sorted by completion time.
using TabletReads = std::vector<const ReadRecord*>;

std::map<std::string, TabletReads> by_tablet(const std::vector<ReadRecord>& reads) {
  std::map<std::string, TabletReads> out;
  for (const auto& r : reads) out[r.tablet].push_back(&r);
  for (auto& [t, v] : out) {
    std::stable_sort(v.begin(), v.end(),
                     [](const ReadRecord* a, const ReadRecord* b) { return a->end < b->end; });
  }
  return out;
}

// The first index of `v` whose read completed after `t`.
size_t first_after(const TabletReads& v, TimePoint t) {
  return static_cast<size_t>(
      std::upper_bound(v.begin(), v.end(), t,
                       [](TimePoint x, const ReadRecord* r) { return x < r->end; }) -
      v.begin());
}

void tablet_windows(const KillEvent& k, const TabletReads& v, KillWindows& w) {
  const size_t after = first_after(v, k.killed);
  const ReadRecord* last_ok = nullptr;
  for (size_t i = after; i-- > 0;) {
    if (v[i]->outcome == "ok") {
      last_ok = v[i];
      break;
    }
  }
  if (last_ok == nullptr || (!k.all_tablets && last_ok->frontend != k.node)) return;
  ++w.tablets_affected;
  const ReadRecord* first_ok = nullptr;
  TimePoint earliest_start = TimePoint::max();
  for (size_t i = after; i < v.size(); ++i) {
    const ReadRecord& r = *v[i];
    earliest_start = std::min(earliest_start, r.start);
    if (r.outcome == "ok" && (r.frontend != k.node || r.start > k.killed)) {
      first_ok = &r;
      break;
    }
  }
  if (first_ok == nullptr) {
    ++w.tablets_without_read;
    return;
  }
  w.tablets_first.push_back(first_ok->end - k.killed);
  w.tablets_wait.push_back(first_ok->end - earliest_start);
}

}  // namespace

std::vector<KillWindows> failover_windows(const std::vector<KillEvent>& kills,
                                          const std::vector<AckRecord>& acks,
                                          const std::vector<ReadRecord>& reads,
                                          Duration handoff_slack) {
  std::vector<const AckRecord*> sorted;
  for (const auto& a : acks) sorted.push_back(&a);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const AckRecord* a, const AckRecord* b) { return a->acked < b->acked; });
  const auto tablets = by_tablet(reads);

  std::vector<KillWindows> out;
  for (const auto& k : kills) {
    KillWindows w;
    // First ack after the kill, not counting the killed front end's last words.
    const auto after_kill =
        std::upper_bound(sorted.begin(), sorted.end(), k.killed,
                         [](TimePoint t, const AckRecord* a) { return t < a->acked; });
    for (auto it = after_kill; it != sorted.end(); ++it) {
      const AckRecord& a = **it;
      if (a.via == k.node && a.first_sent <= k.killed) continue;
      w.publisher = a.acked - k.killed;
      break;
    }
    for (auto it = after_kill; it != sorted.end(); ++it) {
      const AckRecord& a = **it;
      if (k.restarted && a.first_sent >= *k.restarted) continue;
      const Duration wait = a.acked - a.first_sent;
      if (!w.publisher_wait || wait > *w.publisher_wait) w.publisher_wait = wait;
    }
    for (const auto& [id, v] : tablets) tablet_windows(k, v, w);
    // Longest gap between consecutive acks that overlaps [restarted, settled + slack].
    if (k.restarted && k.settled) {
      const TimePoint from = *k.restarted;
      const TimePoint to = *k.settled + handoff_slack;
      auto it = std::upper_bound(sorted.begin(), sorted.end(), from,
                                 [](TimePoint t, const AckRecord* a) { return t < a->acked; });
      if (it != sorted.begin()) --it;  // the last ack at or before `from` opens the first gap
      for (; it != sorted.end() && std::next(it) != sorted.end() && (*it)->acked < to; ++it) {
        const Duration gap = (*std::next(it))->acked - (*it)->acked;
        if (!w.handoff_gap || gap > *w.handoff_gap) w.handoff_gap = gap;
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

Spread spread_of(std::vector<Duration> values) {
  Spread s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const auto rank = [&](double p) {
    const auto r = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(r, 1, values.size()) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = values.back();
  return s;
}

}  // namespace oly::verify
