#include "tests/sim/invariants.h"

#include <algorithm>
#include <map>
#include <set>

#include "verify/epochs.h"
#include "verify/ledger.h"
#include "verify/recovery.h"

namespace oly::sim {

verify::CheckInput check_input(SimCluster& c, Duration pull_bound) {
  verify::CheckInput in;
  in.run_dir = "simulated cluster";
  in.consistency = c.config().consistency;
  for (const auto& f : c.config().frontends) in.frontends.push_back(f.id);
  in.pull_bound = pull_bound;
  in.acks = c.acks();
  in.reads = c.reads();
  in.applied = c.store().applied_log();
  // As verify/load does: the longest history (a replica that installed a snapshot lacks the
  // updates before it).
  for (const auto& id : c.replica_names()) {
    auto log = c.store(id).applied_log();
    if (log.size() > in.applied.size()) in.applied = std::move(log);
  }
  // An update's time in the history is the database leader's when it took the update (the
  // command carries it, so that every replica stores the same); it committed a sync later. The
  // simulation knows when the first replica applied it (the tap): that is its commit, which a
  // stalled disk delays by seconds (ReplicatedSim.DisksStallLongerThanTheLeaseAndReadsGoOn).
  std::map<std::pair<std::string, uint64_t>, TimePoint> applied_at;
  for (const auto& w : c.writes()) applied_at.emplace(std::make_pair(w.publisher, w.seq), w.at);
  for (auto& u : in.applied) {
    if (auto it = applied_at.find({u.publisher, u.seq}); it != applied_at.end()) {
      u.committed_at_us = std::max(u.committed_at_us, to_us(it->second));
    }
  }
  in.scores = c.store().scores();
  in.tallies = c.store().tallies();
  // Gossip mode: every live replica's own record, as verify/load reads a gossip run's files (a
  // replica that is down, or that joined with a copy of the state and so a record that begins
  // with it, is left out).
  if (c.config().replication == Replication::kGossip) {
    for (const auto& id : c.config().database_ids()) {
      auto* g = c.gossip_replica(id);
      if (g == nullptr || g->removed()) continue;
      auto& s = c.store(id);
      in.replicas.push_back({id, s.applied_in_record_order(), s.scores(), s.tallies()});
    }
  }
  return in;
}

verify::CheckReport judge(SimCluster& c, Duration pull_bound) { return verify::check_run(check_input(c, pull_bound)); }

std::vector<std::string> violations(const verify::Verdict& v) {
  if (!v.failed()) return {};
  if (v.examples.empty()) return {v.guarantee + ": " + v.figures};
  return v.examples;
}

std::vector<std::string> check_acknowledged_updates(SimCluster& c) {
  return violations(judge(c).verdicts[verify::kNoneLost]);
}

std::vector<std::string> check_monotonic_reads(SimCluster& c) {
  return violations(judge(c).verdicts[verify::kMonotonicReads]);
}

std::vector<std::string> check_fresh_reads(SimCluster& c, Duration pull_bound) {
  return violations(judge(c, pull_bound).verdicts[verify::kFreshReads]);
}

std::vector<std::string> check_even_split(const std::map<std::string, int64_t>& per_frontend) {
  return verify::uneven_split(per_frontend, 1);
}

verify::FreshnessReport freshness(SimCluster& c) { return judge(c).freshness; }

std::vector<std::string> check_caches_not_ahead(SimCluster& c) {
  std::vector<std::string> v;
  std::vector<std::pair<std::string, uint64_t>> keys;
  for (const auto& e : c.config().events) keys.emplace_back("score/" + e, c.committed_version("score/" + e));
  for (const auto& t : teams()) keys.emplace_back("tally/" + t, c.committed_version("tally/" + t));
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
  return violations(verify::one_writer_per_epoch(c.claims(), c.writes()));
}

std::vector<std::string> check_applied_log(SimCluster& c) {
  const verify::CheckReport r = judge(c);
  std::vector<std::string> v = violations(r.verdicts[verify::kNoneTwice]);
  for (auto& e : violations(r.verdicts[verify::kInOrder])) v.push_back(std::move(e));
  if (r.applied != c.writes().size()) {
    v.push_back("the applied log has " + std::to_string(r.applied) + " updates but the tap saw " +
                std::to_string(c.writes().size()) + " applied");
  }
  return v;
}

std::vector<std::string> check_tallies_match_publisher(SimCluster& c) {
  verify::MedalCount counted;  // SimCluster counts "<team>/<medal>"
  for (const auto& [team_medal, n] : c.medal_counts()) {
    const size_t slash = team_medal.find('/');
    counted[team_medal.substr(0, slash)][team_medal.substr(slash + 1)] = n;
  }
  std::vector<Tally> tallies;
  for (const auto& team : teams()) tallies.push_back(c.store().tally(team));
  return verify::medals_off(tallies, counted);
}

std::vector<std::string> check_tablets_served(SimCluster& c, TimePoint from, TimePoint by) {
  return verify::tablets_not_served(c.reads(), c.tablets().ids(), from, by);
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
      const MasterInfo db = c.committed_master();
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

RaftMonitor::RaftMonitor(SimCluster& c)
    : violations_(std::make_shared<std::vector<std::string>>()),
      leaders_(std::make_shared<std::map<uint64_t, std::string>>()) {
  if (!c.config().replicated()) return;
  auto out = violations_;
  auto leaders = leaders_;
  c.observe([&c, out, leaders] {
    for (const auto& id : c.replica_names()) {
      const database::ReplicaCore* core = c.replica(id);
      if (core == nullptr || core->consensus().role() != consensus::Role::leader) continue;
      const uint64_t term = core->consensus().term();
      auto [it, fresh] = leaders->emplace(term, id);
      if (!fresh && it->second != id && out->size() < 20) {
        out->push_back("t=" + std::to_string(to_us(c.now())) + "us: term " + std::to_string(term) + " has two leaders, " +
                       it->second + " and " + id);
      }
    }
  });
}

std::vector<std::string> check_replicas_identical(SimCluster& c) {
  std::vector<std::string> v;
  std::map<uint64_t, std::pair<std::string, std::string>> by_index;  // applied index -> (replica, dump)
  uint64_t furthest = 0;
  for (const auto& id : c.replica_names()) {
    const database::ReplicaCore* core = c.replica(id);
    if (core != nullptr) furthest = std::max(furthest, core->consensus().last_applied());
  }
  for (const auto& id : c.replica_names()) {
    const database::ReplicaCore* core = c.replica(id);
    if (core == nullptr) continue;
    const uint64_t applied = core->consensus().last_applied();
    if (applied < furthest) {
      v.push_back(id + " applied up to index " + std::to_string(applied) + ", behind " + std::to_string(furthest));
    }
    const std::string dump = c.store(id).state_dump();
    auto [it, fresh] = by_index.emplace(applied, std::make_pair(id, dump));
    if (!fresh && it->second.second != dump) {
      v.push_back(id + " and " + it->second.first + " both applied index " + std::to_string(applied) +
                  " but hold different states (" + std::to_string(dump.size()) + " and " +
                  std::to_string(it->second.second.size()) + " bytes of dump)");
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
