#include "tests/sim/invariants.h"

#include <algorithm>
#include <map>
#include <set>

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

std::vector<std::string> check_one_writer_per_epoch(SimCluster& c) {
  std::vector<std::string> v;
  std::map<uint64_t, DbClaim> by_epoch;
  uint64_t expected = 1;
  for (const auto& cl : c.claims()) {
    if (cl.epoch != expected) {
      v.push_back("epoch " + std::to_string(cl.epoch) + " granted to " + cl.frontend + " at t=" +
                  std::to_string(to_us(cl.at)) + "us; expected epoch " + std::to_string(expected));
    }
    if (cl.from != cl.frontend) v.push_back("epoch " + std::to_string(cl.epoch) + " claimed for " + cl.frontend + " by " + cl.from);
    expected = cl.epoch + 1;
    by_epoch[cl.epoch] = cl;
  }
  std::map<uint64_t, std::set<std::string>> writers;
  for (const auto& w : c.writes()) {
    writers[w.epoch].insert(w.from);
    const auto it = by_epoch.find(w.epoch);
    const std::string what = "update " + w.publisher + "#" + std::to_string(w.seq) + " applied at epoch " +
                             std::to_string(w.epoch) + " from " + w.from + " at t=" + std::to_string(to_us(w.at)) + "us";
    if (it == by_epoch.end()) {
      v.push_back(what + ", an epoch nobody claimed");
      continue;
    }
    if (it->second.frontend != w.from) v.push_back(what + ", but epoch " + std::to_string(w.epoch) + " is " + it->second.frontend + "'s");
    if (w.at < it->second.at) v.push_back(what + ", before that epoch was granted");
    if (auto next = by_epoch.find(w.epoch + 1); next != by_epoch.end() && w.at > next->second.at) {
      v.push_back(what + ", after epoch " + std::to_string(w.epoch + 1) + " was granted (fencing failed)");
    }
  }
  for (const auto& [epoch, who] : writers) {
    if (who.size() > 1) {
      std::string names;
      for (const auto& n : who) names += " " + n;
      v.push_back("epoch " + std::to_string(epoch) + " was written by more than one front end:" + names);
    }
  }
  return v;
}

std::vector<std::string> check_applied_log(SimCluster& c) {
  std::vector<std::string> v;
  const auto log = c.store().applied_log();
  std::map<std::string, uint64_t> last_seq;      // publisher
  std::map<std::string, uint64_t> versions;      // key
  std::map<std::string, std::map<std::string, int64_t>> medals;  // team -> medal -> n
  std::map<std::string, std::pair<int64_t, int64_t>> last_score;  // event
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const auto& u : log) {
    const std::string id = u.publisher + "#" + std::to_string(u.seq);
    if (!seen.insert({u.publisher, u.seq}).second) v.push_back(id + " applied twice");
    auto& s = last_seq[u.publisher];
    if (u.seq != s + 1) v.push_back(id + " applied after #" + std::to_string(s) + " (not in seq order)");
    s = std::max(s, u.seq);
    auto& ver = versions[u.key];
    if (u.version != ver + 1) {
      v.push_back(id + " made " + u.key + " v" + std::to_string(u.version) + " after v" + std::to_string(ver));
    }
    ver = std::max(ver, u.version);
    if (u.op == "increment_medal_tally") ++medals[u.key.substr(6)][u.medal];
    if (u.op == "set_score") last_score[u.key.substr(6)] = {u.gauls, u.romans};
  }
  for (const auto& e : c.config().events) {
    const Score s = c.store().score(e);
    if (s.version != versions["score/" + e]) {
      v.push_back("score/" + e + " is at v" + std::to_string(s.version) + " but " +
                  std::to_string(versions["score/" + e]) + " updates of it were applied");
    }
    if (auto it = last_score.find(e); it != last_score.end() && (s.gauls != it->second.first || s.romans != it->second.second)) {
      v.push_back("score/" + e + " is " + std::to_string(s.gauls) + "-" + std::to_string(s.romans) +
                  " but the last set_score applied was " + std::to_string(it->second.first) + "-" +
                  std::to_string(it->second.second));
    }
  }
  for (const auto& team : teams()) {
    const Tally t = c.store().tally(team);
    if (t.version != versions["tally/" + team]) {
      v.push_back("tally/" + team + " is at v" + std::to_string(t.version) + " but " +
                  std::to_string(versions["tally/" + team]) + " updates of it were applied");
    }
    const std::map<std::string, int64_t> got = {{"gold", t.gold}, {"silver", t.silver}, {"bronze", t.bronze}};
    for (const auto& [medal, n] : got) {
      if (n != medals[team][medal]) {
        v.push_back(team + " " + medal + ": the row says " + std::to_string(n) + " but " +
                    std::to_string(medals[team][medal]) + " increments were applied");
      }
    }
  }
  if (log.size() != c.writes().size()) {
    v.push_back("the applied log has " + std::to_string(log.size()) + " updates but the tap saw " +
                std::to_string(c.writes().size()) + " applied");
  }
  return v;
}

std::vector<std::string> check_tallies_match_publisher(SimCluster& c) {
  std::vector<std::string> v;
  auto counted = c.medal_counts();
  for (const auto& team : teams()) {
    const Tally t = c.store().tally(team);
    const std::map<std::string, int64_t> got = {{"gold", t.gold}, {"silver", t.silver}, {"bronze", t.bronze}};
    for (const auto& [medal, n] : got) {
      const int64_t want = counted[team + "/" + medal];
      if (n != want) {
        v.push_back(team + " " + medal + ": database has " + std::to_string(n) + ", Cacofonix's own count of acknowledged increments is " +
                    std::to_string(want));
      }
    }
  }
  return v;
}

std::vector<std::string> check_tablets_served(SimCluster& c, TimePoint from, TimePoint by) {
  std::map<std::string, std::string> tried;  // tablet -> what its reads in the window did
  std::set<std::string> served;
  for (const auto& r : c.reads()) {
    if (r.start < from || r.start > by) continue;
    if (r.outcome == "ok") served.insert(r.tablet);
    auto& t = tried[r.tablet];
    if (t.size() < 300) t += " " + r.key + "@" + r.frontend + "+" + std::to_string((to_us(r.start) - to_us(from)) / 1000) + "ms:" + r.outcome;
  }
  std::vector<std::string> v;
  for (const auto& id : c.tablets().ids()) {
    if (!served.count(id)) {
      v.push_back(id + " had no successful read starting within " + std::to_string((to_us(by) - to_us(from)) / 1000) +
                  " ms of t=" + std::to_string(to_us(from)) + "us; its reads:" + (tried.count(id) ? tried[id] : " none"));
    }
  }
  return v;
}

MasterLeaseMonitor::MasterLeaseMonitor(SimCluster& c) : violations_(std::make_shared<std::vector<std::string>>()) {
  auto out = violations_;
  c.observe([&c, out] {
    if (out->size() >= 20) return;
    const TimePoint now = c.now();
    std::vector<std::string> holders;
    for (const auto& f : c.config().frontends) {
      FrontendCore* fe = c.frontend(f.id);
      if (fe == nullptr || !fe->holds_master_lease(now)) continue;
      holders.push_back(f.id + "@" + std::to_string(fe->epoch()));
      const MasterInfo db = c.store().master();
      if (db.frontend != f.id || db.epoch != fe->epoch()) {
        out->push_back("t=" + std::to_string(to_us(now)) + "us: " + f.id + " holds the master lease at epoch " +
                       std::to_string(fe->epoch()) + " but the database's master is " + db.frontend + " at epoch " +
                       std::to_string(db.epoch));
      }
    }
    if (holders.size() > 1) {
      std::string names;
      for (const auto& h : holders) names += " " + h;
      out->push_back("t=" + std::to_string(to_us(now)) + "us: the master lease is held by" + names);
    }
  });
}

std::string join(const std::vector<std::string>& v, size_t limit) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < limit; ++i) out += "\n  " + v[i];
  if (v.size() > limit) out += "\n  ... and " + std::to_string(v.size() - limit) + " more";
  return out;
}

}  // namespace oly::sim
