#include "frontend/change_log.h"

#include <map>

namespace oly {

void ChangeLog::record(const KeyValue& kv) {
  entries_.push_back({++seq_, kv});
  if (entries_.size() > kCapacity) {
    start_ = entries_.front().seq;
    entries_.pop_front();
  }
}

Changes ChangeLog::since(const std::optional<Cursor>& since, uint64_t epoch) const {
  Changes c;
  c.epoch = epoch;
  c.from = c.to = seq_;
  if (!since || since->epoch != epoch || since->seq < start_ || since->seq > seq_) return c;
  std::map<std::string, const KeyValue*> latest;
  for (auto it = entries_.rbegin(); it != entries_.rend() && it->seq > since->seq; ++it) {
    if (latest.emplace(it->value.key, &it->value).second && latest.size() > kMostListed) return c;
  }
  c.from = since->seq;
  c.changed.reserve(latest.size());
  for (const auto& [key, kv] : latest) c.changed.push_back(*kv);
  return c;
}

void ChangeLog::reset() {
  entries_.clear();
  start_ = seq_;
}

}  // namespace oly
