#include "frontend/consistency.h"

#include "common/log.h"
#include "frontend/pull_consistency.h"
#include "frontend/push_consistency.h"

namespace oly {

std::unique_ptr<ConsistencyProtocol> ConsistencyProtocol::make(const Config& cfg, Cache& cache, Counters& counters) {
  if (cfg.consistency == Consistency::kPush) return std::make_unique<PushConsistency>(cfg, cache, counters);
  return std::make_unique<PullConsistency>(cfg, cache, counters);
}

void flush_cache(Cache& cache, Counters& counters, const char* why) {
  if (cache.size() == 0) return;
  ++counters["flushes"];
  spdlog::info("cache flushed ({} entries): {}", cache.size(), why);
  cache.clear();
}

}  // namespace oly
