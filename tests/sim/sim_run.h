// The machinery of the failover simulations, shared by the front-end failover tests
// (failover_sim_test.cpp) and the replicated database tier's (replicated_sim_test.cpp): configs and
// options, one simulated run with its monitors (SimRun), the checks after a run (drain_and_check,
// expect_recovery, expect_served) and the loop over seeds (for_seeds, with OLY_SIM_SEED,
// OLY_SIM_SEEDS and OLY_SIM_MAX_FAILED).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "tests/sim/invariants.h"
#include "tests/sim/sim_cluster.h"

namespace oly::sim {

inline constexpr uint64_t kSeeds = 30;  // per scenario
inline int kMaxFailedSeeds = 3;  // stop a scenario after this many seeds failed (OLY_SIM_MAX_FAILED)

inline Config config(Consistency mode, int frontends = 2) {
  Config c;
  c.consistency = mode;
  c.tablets.read_interval_ms = 250;  // tablets notice failures quickly
  if (frontends >= 3) c.frontends.push_back({"fe3", "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113", "", "127.0.0.1:7203"});
  return c;
}

inline SimOptions options(uint64_t seed, double drop = 0.0) {
  return SimOptions{.seed = seed, .tablets = 20, .rate = 50, .drop = drop};
}

// Availability bound (check 4). After a failure at k, a tablet's next read round starts within
// read_interval + jitter; if it goes to the failed front end it times out after
// request_timeout and is retried at once on the next serving front end. The survivors answer
// reads meanwhile (a peer reads the database once the master is silent), but a retry may land
// on a front end that cannot answer yet (e.g. the master cut off from the database, or one whose
// upstream fill is still timing out); by k + heartbeat.timeout the failure is detected, the new
// master (or the surviving one) publishes a Serving notice and the tablet's next attempt, again
// bounded by one request timeout, goes to a serving front end. Hence
//   k + heartbeat.timeout + 2 * request_timeout + read_interval + jitter (+ 20 ms of slack for
//   message delays, claim round trips and the database's group commits).
inline Duration served_bound(const Config& c) {
  return ms(c.heartbeat.timeout_ms + 2 * c.tablets.request_timeout_ms + c.tablets.read_interval_ms +
            c.tablets.jitter_ms + 20);
}

// Recovery bound (check 5), from the restart (or heal, or resume) of the failed front end: its
// first heartbeat arrives within an interval, it must settle for settle_ms, and then the ordered
// handoff (drain, release, hand_over, claim) and the Serving notice take a few round trips. A
// handoff that fails (a lost release, hand_over or claim, or a drain that waits a database
// timeout for a lost answer) is given up at its deadline (database.request_timeout +
// heartbeat.timeout) and retried settle_ms later; at 5% loss a good share of attempts fail, so
// lossy runs allow for four failed attempts.
inline Duration recovery_bound(const Config& c, bool lossy) {
  const Duration once = ms(c.heartbeat.interval_ms + c.heartbeat.settle_ms + c.heartbeat.timeout_ms);
  if (!lossy) return once;
  return once + 4 * ms(c.heartbeat.settle_ms + c.database.request_timeout_ms + c.heartbeat.timeout_ms);
}

// When the front end that crashed was the target of a handoff in progress, the acting master
// gives the handoff up only at its deadline (database.request_timeout + heartbeat.timeout after
// it began, which was before the crash, so before the restart) and tries again settle_ms later;
// the retried handoff's drain may take up to another heartbeat.timeout.
inline Duration failed_handoff_recovery_bound(const Config& c) {
  return ms(c.database.request_timeout_ms + c.heartbeat.timeout_ms + c.heartbeat.settle_ms + c.heartbeat.timeout_ms);
}

// Pull staleness bound: the TTR, a poll round trip, and the master's grace for an update in
// flight (10 ms); as in consistency_sim_test.
inline Duration pull_bound(const Config& c, const SimOptions& o) {
  return ms(c.pull.longest_ttr_ms()) + 4 * o.max_delay + ms(10) + ms(1);
}

// What the runs of one test measured, printed at its end (for tuning bounds; not checked).
struct Measured {
  Duration serve_again{0};  // after a failure, until every tablet had a successful read start
  Duration recovery{0};     // from the failed front end's return until recovered()
  Duration ack_gap{0};      // longest time without any acknowledgement while producing
  void print(const char* test) const {
    std::printf("[ measured ] %s: max serve-again %.1f ms, max recovery %.1f ms, max gap between acks %.1f ms\n", test,
                to_ms(serve_again), to_ms(recovery), to_ms(ack_gap));
  }
};
inline Measured g_measured;

inline int64_t counter(SimCluster& c, const std::string& fe, const std::string& name) {
  FrontendCore* f = c.frontend(fe);
  if (f == nullptr) return 0;
  const auto s = f->stats(c.now());
  auto it = s.counters.find(name);
  return it == s.counters.end() ? 0 : it->second;
}

// One simulated run: the cluster, its monitors, a seeded source of random moments and a log of
// what was injected when.
class SimRun {
 public:
  SimRun(Config cfg, SimOptions o) : opt_(o), c(std::move(cfg), o), monitor(c), rng_(o.seed * 0x9E3779B97F4A7C15ull + 1) {
    // No cache may ever be ahead of the database (checked every 50 ms of virtual time).
    c.observe([this] {
      if (c.now() < next_cache_check_ || !cache_violations_.empty()) return;
      next_cache_check_ = c.now() + ms(50);
      cache_violations_ = check_caches_not_ahead(c);
    });
  }

  int64_t uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  void run(int64_t millis) { c.run_for(ms(millis)); }
  void run_us(int64_t micros) { c.run_for(Duration(micros)); }

  TimePoint crash(const std::string& n) { note("crash " + n); c.crash(n); return c.now(); }
  TimePoint restart(const std::string& n) { note("restart " + n); c.restart(n); return c.now(); }
  TimePoint pause(const std::string& n) { note("pause " + n); c.pause(n); return c.now(); }
  TimePoint resume(const std::string& n) { note("resume " + n); c.resume(n); return c.now(); }
  TimePoint partition(const std::string& a, const std::string& b) {
    note("partition " + a + "|" + b);
    c.net().partition(a, b);
    return c.now();
  }
  TimePoint heal() { note("heal"); c.net().heal_all(); return c.now(); }
  // Times are virtual ones, as in describe()'s t= and in the OLY_SIM_LOG lines.
  void note(const std::string& what) { events_ += " " + what + "@" + std::to_string(to_us(c.now()) / 1000) + "ms"; }
  static int64_t at_ms(TimePoint t) { return to_us(t) / 1000; }

  std::string describe() const { return c.describe() + " events:" + events_; }
  const SimOptions& opt() const { return opt_; }
  const std::vector<std::string>& cache_violations() const { return cache_violations_; }

 private:
  SimOptions opt_;

 public:
  SimCluster c;
  MasterLeaseMonitor monitor;

 private:
  std::mt19937_64 rng_;
  std::string events_;
  TimePoint next_cache_check_{};
  std::vector<std::string> cache_violations_;
};

// Whether fe1 is master again, every front end follows it, the tablets read from all of them
// and the split is within one of even.
inline bool recovered(SimCluster& c) {
  FrontendCore* fe1 = c.frontend("fe1");
  if (fe1 == nullptr || c.paused("fe1") || !fe1->holds_master_lease(c.now())) return false;
  std::vector<std::string> all;
  for (const auto& f : c.config().frontends) {
    all.push_back(f.id);
    FrontendCore* fe = c.frontend(f.id);
    if (fe == nullptr || c.paused(f.id) || fe->master() != "fe1" || fe->epoch() != fe1->epoch()) return false;
  }
  return c.tablets().serving() == all && check_even_split(c.tablets().tablets_per_frontend()).empty();
}

// The signature of the "master without a claim" deadlock (fixed in 065dce0; see
// LostClaimAnswerWhileTheHomeMasterRestarts):
// nobody is master, yet some front end believes it is (it learnt so from a heartbeat or from the
// database's row, which an earlier incarnation of it or its lost claim wrote) without having
// claimed. Returns a description, or "" when that is not the state.
inline std::string master_without_claim(SimCluster& c) {
  std::string out;
  for (const auto& f : c.config().frontends) {
    FrontendCore* fe = c.frontend(f.id);
    if (fe == nullptr) continue;
    if (fe->is_master()) return "";
    out += " " + f.id + " follows " + (fe->master().empty() ? "nobody" : fe->master()) + "@" + std::to_string(fe->epoch());
  }
  for (const auto& f : c.config().frontends) {
    FrontendCore* fe = c.frontend(f.id);
    if (fe != nullptr && fe->master() == f.id) return "no master:" + out;
  }
  return "";
}

// For failure messages: each front end's view, and the known bug when the cluster is in its state.
inline std::string master_without_claim_note(SimCluster& c) {
  std::string out = "\n  front ends:";
  for (const auto& f : c.config().frontends) {
    FrontendCore* fe = c.frontend(f.id);
    if (fe == nullptr) {
      out += " " + f.id + "=down";
      continue;
    }
    const auto st = fe->stats(c.now());
    out += " " + f.id + "{master=" + fe->master() + "@" + std::to_string(fe->epoch()) +
           (fe->is_master() ? " is_master" : "") + (fe->holds_master_lease(c.now()) ? " lease" : "") +
           " suspected=" + st.info.at("suspected") + (st.info.count("handoff") ? " handoff" : "") + "}";
  }
  const std::string stuck = master_without_claim(c);
  return out + (stuck.empty() ? "" : "\n  (the \"master without a claim\" bug: " + stuck + ")");
}

// Check 5: from `back` (the failed front end is back), fe1 is master again within `bound`.
inline void expect_recovery(SimRun& r, TimePoint back, Duration bound) {
  const TimePoint by = back + bound;
  const bool ok = r.c.run_until([&] { return recovered(r.c); }, by - r.c.now());
  EXPECT_TRUE(ok) << "not recovered within " << to_ms(bound) << " ms of t=" << r.at_ms(back)
                  << "ms: fe1 master=" << (r.c.frontend("fe1") ? r.c.frontend("fe1")->master() : "(down)")
                  << " tablets serving=" << r.c.tablets().stats().info["serving"]
                  << join(check_even_split(r.c.tablets().tablets_per_frontend())) << "; " << r.describe()
                  << master_without_claim_note(r.c);
  if (!ok) return;
  r.note("recovered");
  g_measured.recovery = std::max(g_measured.recovery, r.c.now() - back);
  EXPECT_EQ(join(check_even_split(r.c.tablets().tablets_per_home())), "") << r.describe();
}

// Runs a little more load, stops the publishers, lets everything drain, and checks checks 1-3.
// `live`: the cluster is expected to work (every update gets acknowledged, and enough happened);
// otherwise only the safety checks count.
inline void drain_and_check(SimRun& r, bool live = true, size_t min_acks = 50, size_t min_reads = 500) {
  SimCluster& c = r.c;
  r.run(500);
  c.stop_publishing();
  const bool drained = c.run_until([&] { return c.publishers_finished(); }, ms(live ? 10000 : 1000));
  if (live) {
    EXPECT_TRUE(drained) << c.unacknowledged() << " updates never acknowledged; " << r.describe();
  }
  r.run(1000);  // tablets finish their last rounds
  EXPECT_EQ(join(r.monitor.violations()), "") << "master lease held wrongly; " << r.describe();
  EXPECT_EQ(join(check_one_writer_per_epoch(c)), "") << r.describe();
  EXPECT_EQ(join(check_applied_log(c)), "") << r.describe();
  auto acked = check_acknowledged_updates(c);
  if (!drained) {
    // Updates applied but not acknowledged yet legitimately put the tallies ahead.
    std::erase_if(acked, [](const std::string& v) { return v.find("Cacofonix counted") != std::string::npos; });
  }
  EXPECT_EQ(join(acked), "") << r.describe();
  if (drained) {
    EXPECT_EQ(join(check_tallies_match_publisher(c)), "") << r.describe();
  }
  EXPECT_EQ(join(check_monotonic_reads(c)), "") << r.describe();
  EXPECT_EQ(join(r.cache_violations()), "") << r.describe();
  EXPECT_EQ(join(check_fresh_reads(c, pull_bound(c.config(), r.opt()))), "") << r.describe();
  const auto f = freshness(c);
  std::vector<TimePoint> ack_times;
  for (const auto& a : c.acks()) ack_times.push_back(a.acked);
  std::sort(ack_times.begin(), ack_times.end());
  for (size_t i = 1; i < ack_times.size(); ++i) {
    g_measured.ack_gap = std::max(g_measured.ack_gap, ack_times[i] - ack_times[i - 1]);
  }
  if (live) {
    EXPECT_GE(c.acks().size(), min_acks) << r.describe();
    EXPECT_GE(f.reads_ok, min_reads) << r.describe();
  }
}

inline void expect_recovery(SimRun& r, TimePoint back, bool lossy = false) {
  expect_recovery(r, back, recovery_bound(r.c.config(), lossy));
}

// Check 4: every tablet had a successful read starting within served_bound of `k`.
inline void expect_served(SimRun& r, TimePoint k) {
  std::map<std::string, TimePoint> first;
  for (const auto& rd : r.c.reads()) {
    if (rd.outcome != "ok" || rd.start < k) continue;
    auto [it, fresh] = first.emplace(rd.tablet, rd.start);
    if (!fresh) it->second = std::min(it->second, rd.start);
  }
  for (const auto& [t, at] : first) g_measured.serve_again = std::max(g_measured.serve_again, at - k);
  if (const char* dump = std::getenv("OLY_SIM_DUMP_TABLET")) {  // debugging aid: one tablet's reads
    for (const auto& rd : r.c.reads()) {
      if (rd.tablet != dump || rd.start < k - ms(500) || rd.start > k + ms(3000)) continue;
      std::printf("%s %s@%s start=%+.1fms end=%+.1fms v%llu %s\n", rd.tablet.c_str(), rd.key.c_str(), rd.frontend.c_str(),
                  to_ms(rd.start - k), to_ms(rd.end - k), static_cast<unsigned long long>(rd.version), rd.outcome.c_str());
    }
  }
  EXPECT_EQ(join(check_tablets_served(r.c, k, k + served_bound(r.c.config()))), "")
      << "tablets not served again in time after t=" << r.at_ms(k) << "ms; " << r.describe();
}

// The first claim granted to `fe` at or after `t`, if any.
inline const DbClaim* claim_by(SimCluster& c, const std::string& fe, TimePoint t) {
  for (const auto& cl : c.claims()) {
    if (cl.frontend == fe && cl.at >= t) return &cl;
  }
  return nullptr;
}

inline int failures_so_far() {
  const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < result->total_part_count(); ++i) n += result->GetTestPartResult(i).failed();
  return n;
}

// Runs `scenario` for seeds 1..seeds, stopping after kMaxFailedSeeds seeds failed, and names the
// failed seeds at the end.
template <class F>
inline void for_seeds(F scenario, uint64_t seeds = kSeeds) {
  g_measured = Measured{};
  if (const char* m = std::getenv("OLY_SIM_MAX_FAILED")) kMaxFailedSeeds = std::atoi(m);
  std::string failed;
  int n = 0;
  // OLY_SIM_SEED=<n> runs only seed n (to replay a failure, with OLY_SIM_LOG=info for the logs);
  // OLY_SIM_SEEDS=<n> runs seeds 1..n instead of the default (for longer soak runs).
  const char* only = std::getenv("OLY_SIM_SEED");
  if (const char* many = std::getenv("OLY_SIM_SEEDS")) seeds = std::strtoull(many, nullptr, 10);
  if (only != nullptr) seeds = std::max<uint64_t>(seeds, std::strtoull(only, nullptr, 10));
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    if (only != nullptr && std::to_string(seed) != only) continue;
    SCOPED_TRACE("seed " + std::to_string(seed));
    const int before = failures_so_far();
    scenario(seed);
    if (failures_so_far() > before) {
      failed += " " + std::to_string(seed);
      if (++n >= kMaxFailedSeeds) break;
    }
  }
  EXPECT_EQ(failed, "") << "failed seeds (the scenario stops after " << kMaxFailedSeeds << ")";
  g_measured.print(::testing::UnitTest::GetInstance()->current_test_info()->name());
}


}  // namespace oly::sim
