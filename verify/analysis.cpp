#include "verify/analysis.h"

#include <cstdio>
#include <sstream>


namespace oly::verify {

double RunAnalysis::hit_rate() const {
  const int64_t all = cache_hits + cache_misses;
  return all ? static_cast<double>(cache_hits) / static_cast<double>(all) : 0.0;
}

double RunAnalysis::messages_per_update() const {
  // Each invalidation and each poll is answered: two messages apiece; a fetch likewise.
  const int64_t messages = 2 * (invalidations + polls + fetches);
  return updates ? static_cast<double>(messages) / static_cast<double>(updates) : 0.0;
}

RunAnalysis analyse_run(const Config& cfg) { return analyse_records(cfg, read_records(cfg)); }

RunAnalysis analyse_records(const Config& cfg, const RunRecords& records) {
  RunAnalysis a;
  a.consistency = to_string(cfg.consistency);
  a.freshness = analyse_freshness(records.reads, commits_of(records.applied), records.acks);
  a.updates = static_cast<int64_t>(records.acks.size());
  for (const auto& [fe, stats] : records.frontend_stats) {
    auto get = [&](const char* name) {
      auto it = stats.counters.find(name);
      return it == stats.counters.end() ? int64_t{0} : it->second;
    };
    if (auto it = stats.info.find("consistency"); it != stats.info.end()) a.consistency = it->second;
    a.cache_hits += get("cache_hits");
    a.cache_misses += get("cache_misses");
    a.invalidations += get("invalidations_sent") + get("invalidations_resent");
    a.polls += get("polls_sent");
    a.not_modified += get("not_modified");
    a.fetches += get("fetches_sent");
  }
  return a;
}

std::string format_analysis(const RunAnalysis& a) {
  const auto& f = a.freshness;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "consistency            %s\n"
                "reads                  %zu ok of %zu\n"
                "fidelity               %.4f (reads that returned the latest committed version)\n"
                "staleness of stale     p50 %.1f ms, p99 %.1f ms, max %.1f ms\n"
                "stale after an ack     %zu\n"
                "backwards reads        %zu\n"
                "cache hit rate         %.4f (%lld hits, %lld misses)\n"
                "updates acknowledged   %lld\n"
                "messages per update    %.2f (invalidations %lld, polls %lld of which not modified %lld, fetches %lld)\n",
                a.consistency.c_str(), f.reads_ok, f.reads, f.fidelity, to_ms(f.staleness_p50), to_ms(f.staleness_p99),
                to_ms(f.staleness_max), f.stale_after_ack, f.backwards, a.hit_rate(),
                static_cast<long long>(a.cache_hits), static_cast<long long>(a.cache_misses),
                static_cast<long long>(a.updates), a.messages_per_update(), static_cast<long long>(a.invalidations),
                static_cast<long long>(a.polls), static_cast<long long>(a.not_modified),
                static_cast<long long>(a.fetches));
  std::string out = buf;
  for (const auto& [outcome, n] : f.not_ok) out += "  not ok: " + std::to_string(n) + " " + outcome + "\n";
  for (const auto& e : f.stale_examples) out += "  stale: " + e + "\n";
  for (const auto& e : f.backwards_examples) out += "  backwards: " + e + "\n";
  return out;
}

}  // namespace oly::verify
