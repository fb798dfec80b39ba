#include "frontend/pull_consistency.h"

#include <cmath>
#include <map>
#include <set>
#include <string_view>

namespace oly {

Body PullConsistency::fill_request(const std::string& key, CacheEntry* cached, TimePoint now) {
  // With hints, a peer that has no place in the master's changes yet asks from nowhere, so that
  // the answer gives it one.
  std::optional<Cursor> since;
  if (hints_) {
    since = cursor_.value_or(Cursor{});
    last_request_ = now;
  }
  if (cached == nullptr) {
    ++counters_["fetches_sent"];
    return Fetch{key, since};
  }
  cached->refreshing = true;
  ++counters_["polls_sent"];
  return Poll{key, cached->value.version, since};
}

std::optional<Changes> PullConsistency::changes_since(const std::optional<Cursor>& since, const RoleView& role,
                                                      TimePoint now) const {
  // Only under the master lease: then no other front end can have had an update acknowledged.
  if (!hints_ || !since || !role.master || now >= role.master_lease_until) return std::nullopt;
  return log_.since(since, role.epoch);
}

void PullConsistency::on_changes(const Changes& c, const std::string& key, uint64_t version, const RoleView& role,
                                 TimePoint sent_at, TimePoint now) {
  if (!hints_ || role.master || c.epoch != role.epoch) return;  // hints from an earlier master
  if (!cursor_ || cursor_->epoch != c.epoch || cursor_->seq < c.to) cursor_ = Cursor{c.epoch, c.to};  // answers may cross
  std::map<std::string_view, const KeyValue*> changed;
  for (const auto& kv : c.changed) changed.emplace(kv.key, &kv);
  const std::set<std::string_view> unsettled(c.unsettled.begin(), c.unsettled.end());
  cache_.for_each([&](const std::string& k, CacheEntry& e) {
    if (k == key) {
      if (c.current && e.value.version == version) e.stamp = Cursor{c.epoch, c.to};
      return;
    }
    // An unsettled key may already be newer at the database: neither taken nor confirmed.
    if (unsettled.count(k)) return;
    auto it = changed.find(k);
    if (it != changed.end() && it->second->version > e.value.version) {
      // The master's value as of `to`: what a poll of this key would have brought.
      ++counters_["hinted_refreshes"];
      const Duration ttr = ttr_.after_poll(e, it->second->version, now);
      cache_.update(e, *it->second);
      e.ttr = ttr;
      e.confirmed_at = sent_at;
    } else {
      // Unchanged, if covered: the entry was the master's as of a place at or after `from`, so
      // the list holds every change to it since.
      if (!e.stamp || e.stamp->epoch != c.epoch || e.stamp->seq < c.from) return;
      ++counters_["hinted_confirms"];
      e.confirmed_at = std::max(e.confirmed_at, sent_at);
    }
    e.stamp = Cursor{c.epoch, c.to};
  });
}

void PullConsistency::tick(const RoleView&, TimePoint now, Effects&) {
  if (now < next_retune_ || ttr_.kind() != TtrKind::kFidelity) return;
  ttr_.retune(cache_, now);
  next_retune_ = now + kRetune;
}

void PullConsistency::add_stats(Stats& s, const RoleView&, TimePoint) const {
  s.info["ttr"] = std::string(ttr_name(ttr_.kind()));
  s.info["hints"] = hints_ ? "on" : "off";
  if (ttr_.kind() != TtrKind::kFidelity) return;
  if (hints_) {
    s.info["ttr_period_ms"] = std::to_string(to_ms(ttr_.period()));
  } else {
    s.info["ttr_scale"] = std::to_string(ttr_.scale());
  }
}

std::optional<int64_t> PullConsistency::staleness_bound(const CacheEntry* e, const RoleView& role,
                                                        TimePoint now) const {
  // How long ago this value was known to be current.
  if (role.master || e == nullptr) return 0;
  return static_cast<int64_t>(std::ceil(to_ms(now - e->confirmed_at)));
}

bool PullConsistency::refresh_ahead(const CacheEntry& e, TimePoint now) const {
  // A key read at least once a second is polled when three quarters of its TTR have passed.
  if (e.read_rate() < 1.0 || (now - e.confirmed_at) * 4 < e.ttr * 3) return false;
  // With hints, the answer to a request sent since the key was confirmed will confirm it too:
  // unless that answer seems lost, wait for it.
  const bool answer_coming = hints_ && e.stamp && last_request_ > e.confirmed_at && now - last_request_ < kAnswerWait;
  return !answer_coming;
}

}  // namespace oly
