#include "tests/sim/invariants.h"

#include <algorithm>
#include <map>

namespace oly::sim {

std::vector<std::string> check_acknowledged_updates(SimCluster& c) {
  std::vector<std::string> v;
  std::map<std::string, int64_t> acked_medals;  // team/medal
  for (const auto& a : c.acks()) {
    auto row = c.store().applied(a.publisher, a.seq);
    if (!row) {
      v.push_back("acknowledged update " + a.publisher + "#" + std::to_string(a.seq) + " is not in the database");
      continue;
    }
    if (row->key != a.key || row->version != a.version) {
      v.push_back("update " + a.publisher + "#" + std::to_string(a.seq) + " acknowledged as " + a.key + " v" +
                  std::to_string(a.version) + " but applied as " + row->key + " v" + std::to_string(row->version));
    }
    if (a.op == "increment_medal_tally") ++acked_medals[a.key.substr(6) + "/" + a.detail];
  }
  for (const auto& team : teams()) {
    const Tally t = c.store().tally(team);
    const std::map<std::string, int64_t> got = {{"gold", t.gold}, {"silver", t.silver}, {"bronze", t.bronze}};
    for (const auto& [medal, n] : got) {
      const int64_t want = acked_medals[team + "/" + medal];
      if (n != want) {
        v.push_back(team + " " + medal + ": database has " + std::to_string(n) + ", Cacofonix counted " +
                    std::to_string(want) + " acknowledged");
      }
    }
  }
  return v;
}

std::vector<std::string> check_monotonic_reads(const std::vector<ReadRecord>& reads) {
  std::vector<const ReadRecord*> ok;
  for (const auto& r : reads) {
    if (r.outcome == "ok") ok.push_back(&r);
  }
  std::stable_sort(ok.begin(), ok.end(), [](const auto* a, const auto* b) { return a->end < b->end; });
  std::map<std::pair<std::string, std::string>, uint64_t> last;
  std::vector<std::string> v;
  for (const auto* r : ok) {
    auto& l = last[{r->tablet, r->key}];
    if (r->version < l) {
      v.push_back(r->tablet + " read " + r->key + " v" + std::to_string(r->version) + " from " + r->frontend +
                  " after v" + std::to_string(l) + " at t=" + std::to_string(to_us(r->end)) + "us");
    }
    l = std::max(l, r->version);
  }
  return v;
}

std::vector<std::string> check_even_split(const std::map<std::string, int64_t>& per_frontend) {
  int64_t lo = INT64_MAX, hi = 0;
  std::string text;
  for (const auto& [fe, n] : per_frontend) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
    text += " " + fe + "=" + std::to_string(n);
  }
  if (per_frontend.empty() || hi - lo <= 1) return {};
  return {"tablets are not split within one of even:" + text};
}

std::vector<Commit> commits(SimCluster& c) {
  std::vector<Commit> out;
  for (const auto& u : c.store().applied_log()) out.push_back(Commit{u.key, u.version, from_us(u.committed_at_us)});
  return out;
}

FreshnessReport freshness(SimCluster& c) { return analyse_freshness(c.reads(), commits(c), c.acks()); }

std::vector<std::string> check_caches_not_ahead(SimCluster& c) {
  std::vector<std::string> v;
  std::vector<std::pair<std::string, uint64_t>> keys;
  for (const auto& e : c.config().events) keys.emplace_back("score/" + e, c.store().score(e).version);
  for (const auto& t : teams()) keys.emplace_back("tally/" + t, c.store().tally(t).version);
  for (const auto& f : c.config().frontends) {
    FrontendCore* fe = c.frontend(f.id);
    if (fe == nullptr) continue;
    for (const auto& [key, db] : keys) {
      const uint64_t cached = fe->cached_version(key);
      if (cached > db) {
        v.push_back(f.id + " caches " + key + " v" + std::to_string(cached) + " but the database has v" + std::to_string(db));
      }
    }
  }
  return v;
}

std::string join(const std::vector<std::string>& v, size_t limit) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < limit; ++i) out += "\n  " + v[i];
  if (v.size() > limit) out += "\n  ... and " + std::to_string(v.size() - limit) + " more";
  return out;
}

}  // namespace oly::sim
