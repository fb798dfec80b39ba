#include "frontend/pull_consistency.h"

#include <cmath>

namespace oly {

Body PullConsistency::fill_request(const std::string& key, CacheEntry* cached) {
  if (cached == nullptr) {
    ++counters_["fetches_sent"];
    return Fetch{key};
  }
  cached->refreshing = true;
  ++counters_["polls_sent"];
  return Poll{key, cached->value.version};
}

void PullConsistency::tick(const RoleView&, TimePoint now, Effects&) {
  if (now < next_retune_ || ttr_.kind() != TtrKind::kFidelity) return;
  ttr_.retune(cache_, now);
  next_retune_ = now + kRetune;
}

void PullConsistency::add_stats(Stats& s, const RoleView&, TimePoint) const {
  s.info["ttr"] = std::string(ttr_name(ttr_.kind()));
  if (ttr_.kind() == TtrKind::kFidelity) s.info["ttr_scale"] = std::to_string(ttr_.scale());
}

std::optional<int64_t> PullConsistency::staleness_bound(const CacheEntry* e, const RoleView& role,
                                                        TimePoint now) const {
  // How long ago this value was known to be current.
  if (role.master || e == nullptr) return 0;
  return static_cast<int64_t>(std::ceil(to_ms(now - e->confirmed_at)));
}

bool PullConsistency::refresh_ahead(const CacheEntry& e, TimePoint now) const {
  // A key read at least once a second is polled when three quarters of its TTR have passed.
  return e.read_rate() >= 1.0 && (now - e.confirmed_at) * 4 >= e.ttr * 3;
}

}  // namespace oly
