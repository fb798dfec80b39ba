// Failover on a simulated cluster (DESIGN.md section 5), over many seeds: failures are injected
// at random moments under load, and after every run the guarantees are checked:
//   1. no split brain: the database granted epochs one at a time and applied, per epoch, only
//      updates sent by the front end that claimed it; and at no instant did two front ends hold
//      the master lease, nor one that the database did not hold as master (MasterLeaseMonitor);
//   2. exactly once: every acknowledged update is applied once, the applied log is gap- and
//      duplicate-free, and the tallies equal Cacofonix's own count of acknowledged increments;
//   3. freshness: push never serves a read older than an acknowledgement that preceded it, pull
//      stays within its staleness bound, tablets' reads never go backwards, and no cache is ever
//      ahead of the database;
//   4. availability: every tablet is served again within a bound after the failure (see
//      served_bound below);
//   5. recovery: once the failed front end is back and has settled, fe1 (the home master) is
//      master again and the tablets are split within one of even.
// Every run is short (a few virtual seconds); a failing check prints the seed and the injected
// events (SimRun::describe), and, when recovery fails, each front end's view. Each test prints a
// "[ measured ]" line (worst serve-again, recovery and acknowledgement gap over its seeds).
// To replay one seed: OLY_SIM_SEED=<n> (with OLY_SIM_LOG=info for logs naming node and virtual
// time); for a longer soak: OLY_SIM_SEEDS=<n> OLY_SIM_MAX_FAILED=<n>.
//
// Several tests are regression tests of bugs these simulations found (each named in its comment).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "tests/sim/invariants.h"
#include "tests/sim/sim_cluster.h"

namespace oly::sim {
namespace {

constexpr uint64_t kSeeds = 30;  // per scenario
int kMaxFailedSeeds = 3;  // stop a scenario after this many seeds failed (OLY_SIM_MAX_FAILED)

Config config(Consistency mode, int frontends = 2) {
  Config c;
  c.consistency = mode;
  c.tablets.read_interval_ms = 250;  // tablets notice failures quickly
  if (frontends >= 3) c.frontends.push_back({"fe3", "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113"});
  return c;
}

SimOptions options(uint64_t seed, double drop = 0.0) {
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
Duration served_bound(const Config& c) {
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
Duration recovery_bound(const Config& c, bool lossy) {
  const Duration once = ms(c.heartbeat.interval_ms + c.heartbeat.settle_ms + c.heartbeat.timeout_ms);
  if (!lossy) return once;
  return once + 4 * ms(c.heartbeat.settle_ms + c.database.request_timeout_ms + c.heartbeat.timeout_ms);
}

// When the front end that crashed was the target of a handoff in progress, the acting master
// gives the handoff up only at its deadline (database.request_timeout + heartbeat.timeout after
// it began, which was before the crash, so before the restart) and tries again settle_ms later;
// the retried handoff's drain may take up to another heartbeat.timeout.
Duration failed_handoff_recovery_bound(const Config& c) {
  return ms(c.database.request_timeout_ms + c.heartbeat.timeout_ms + c.heartbeat.settle_ms + c.heartbeat.timeout_ms);
}

// Pull staleness bound: the TTR, a poll round trip, and the master's grace for an update in
// flight (10 ms); as in consistency_sim_test.
Duration pull_bound(const Config& c, const SimOptions& o) {
  return ms(c.pull.adaptive ? c.pull.ttr_max_ms : c.pull.ttr_ms) + 4 * o.max_delay + ms(10) + ms(1);
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
Measured g_measured;

int64_t counter(SimCluster& c, const std::string& fe, const std::string& name) {
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
bool recovered(SimCluster& c) {
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
std::string master_without_claim(SimCluster& c) {
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
std::string master_without_claim_note(SimCluster& c) {
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
void expect_recovery(SimRun& r, TimePoint back, Duration bound) {
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

// Runs a little more load, stops the publisher, lets everything drain, and checks checks 1-3.
// `live`: the cluster is expected to work (every update gets acknowledged, and enough happened);
// otherwise only the safety checks count.
void drain_and_check(SimRun& r, bool live = true, size_t min_acks = 50, size_t min_reads = 500) {
  SimCluster& c = r.c;
  r.run(500);
  c.stop_publishing();
  const bool drained = c.run_until([&] { return c.publisher().finished(); }, ms(live ? 10000 : 1000));
  if (live) {
    EXPECT_TRUE(drained) << c.publisher().unacknowledged() << " updates never acknowledged; " << r.describe();
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

void expect_recovery(SimRun& r, TimePoint back, bool lossy = false) {
  expect_recovery(r, back, recovery_bound(r.c.config(), lossy));
}

// Check 4: every tablet had a successful read starting within served_bound of `k`.
void expect_served(SimRun& r, TimePoint k) {
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
const DbClaim* claim_by(SimCluster& c, const std::string& fe, TimePoint t) {
  for (const auto& cl : c.claims()) {
    if (cl.frontend == fe && cl.at >= t) return &cl;
  }
  return nullptr;
}

int failures_so_far() {
  const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < result->total_part_count(); ++i) n += result->GetTestPartResult(i).failed();
  return n;
}

// Runs `scenario` for seeds 1..seeds, stopping after kMaxFailedSeeds seeds failed, and names the
// failed seeds at the end.
template <class F>
void for_seeds(F scenario, uint64_t seeds = kSeeds) {
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

// ---------------------------------------------------------------- master crash

void master_crash_and_restart(Consistency mode, uint64_t seed, double drop = 0.0) {
  SimRun r(config(mode), options(seed, drop));
  r.run(r.uniform(1200, 2500));
  const TimePoint k = r.crash("fe1");
  const int64_t down = r.uniform(100, 2500);
  r.run(down);
  const Config& cfg = r.c.config();
  // The survivor claims as soon as the master is suspected and its lease at the database ran
  // out: both happen heartbeat.timeout after the master's last heartbeat and renewal. A lost
  // claim (or answer) is retried after the database's request timeout; allow two on a lossy
  // network.
  const Duration takeover = ms(cfg.heartbeat.timeout_ms + 20 + (drop > 0 ? 2 * cfg.database.request_timeout_ms : 0));
  if (ms(down) >= takeover) {
    const DbClaim* cl = claim_by(r.c, "fe2", k);
    ASSERT_NE(cl, nullptr) << "fe2 never took over; " << r.describe();
    EXPECT_LE(cl->at - k, takeover) << "takeover late; " << r.describe();
  }
  const TimePoint back = r.restart("fe1");
  expect_recovery(r, back, drop > 0);
  drain_and_check(r);
  expect_served(r, k);
}

TEST(FailoverSim, MasterCrashThenRestartPush) {
  for_seeds([](uint64_t seed) { master_crash_and_restart(Consistency::kPush, seed); });
}

TEST(FailoverSim, MasterCrashThenRestartPull) {
  for_seeds([](uint64_t seed) { master_crash_and_restart(Consistency::kPull, seed); });
}

TEST(FailoverSim, MasterCrashOnALossyNetwork) {
  // 1% to 5% of all frames lost, both modes.
  for_seeds([](uint64_t seed) {
    master_crash_and_restart(seed % 2 ? Consistency::kPush : Consistency::kPull, seed, 0.01 * (1 + seed % 5));
  });
}

// ---------------------------------------------------------------- non-master crash

TEST(FailoverSim, NonMasterCrashThenRestart) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    r.run(r.uniform(1200, 2500));
    const TimePoint k = r.crash("fe2");
    r.run(r.uniform(100, 2500));
    const TimePoint back = r.restart("fe2");
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
    // fe1 stayed master throughout: the only epoch ever granted is its first.
    EXPECT_EQ(r.c.claims().size(), 1u) << r.describe();
  });
}

// ---------------------------------------------------------------- crash during a handoff

// fe1 crashes, fe2 takes over, fe1 comes back; once fe2 starts handing mastership back (after
// settle_ms), fe2 or fe1 crashes a random 0-4 ms later (the handoff takes a few round trips:
// drain, release, hand_over, claim), or at a random moment around settle_ms. The crashed one
// comes back later and the cluster must recover all the same.
TEST(FailoverSim, CrashDuringHandoff) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const Config& cfg = r.c.config();
    r.run(r.uniform(1200, 2000));
    r.crash("fe1");
    ASSERT_TRUE(r.c.run_until([&] { return r.c.frontend("fe2")->holds_master_lease(r.c.now()); }, ms(2000)))
        << r.describe();
    r.run(r.uniform(0, 500));
    r.restart("fe1");
    const std::string victim = (seed / 2) % 2 ? "fe2" : "fe1";
    if (seed % 3 != 0) {
      // Inside the handoff: wait for fe2 to start it, then a random few milliseconds.
      const bool started = r.c.run_until(
          [&] { return r.c.frontend("fe2")->stats(r.c.now()).info.count("handoff") > 0; },
          ms(cfg.heartbeat.settle_ms + 1000));
      ASSERT_TRUE(started) << "fe2 never started a handoff; " << r.describe();
      r.note("handoff started");
      r.run_us(r.uniform(0, 4000));
    } else {
      // Around the end of the settle time.
      r.run(cfg.heartbeat.settle_ms + r.uniform(-50, 150));
    }
    const TimePoint k = r.crash(victim);
    r.run(r.uniform(200, 1500));
    const TimePoint back = r.restart(victim);
    expect_recovery(r, back, std::max(recovery_bound(cfg, false), failed_handoff_recovery_bound(cfg)));
    drain_and_check(r);
    expect_served(r, k);
  });
}

// The database's answer to fe2's successful claim is lost, and fe1 restarts before fe2's claim
// times out: fe1 reads from the database that fe2 is master and says so in its heartbeats. Some
// front end must end up master and the updates must flow again.
//
// (Regression test: before 065dce0 this failed on every seed. fe2 adopted itself as master from
// fe1's heartbeat without claimed_, so is_master() was false, and maybe_claim deferred to fe1,
// the earlier living front end in config order, while fe1 did not claim because for it the
// master, fe2, was alive: nobody was ever master again.)
TEST(FailoverSim, LostClaimAnswerWhileTheHomeMasterRestarts) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const Config& cfg = r.c.config();
    r.run(r.uniform(1200, 2000));
    const TimePoint k = r.crash("fe1");
    bool dropped = false;
    r.c.drop_if([&](const std::string& from, const std::string& to, const Message& m) {
      const auto* mi = std::get_if<MasterInfo>(&m.body);
      if (dropped || from != "db" || to != "fe2" || mi == nullptr || mi->frontend != "fe2" || !mi->lease_ms) return false;
      return dropped = true;  // the answer to the claim (a claim's answer carries the lease)
    });
    ASSERT_TRUE(r.c.run_until([&] { return dropped; }, ms(2000))) << r.describe();
    r.c.drop_if(nullptr);
    r.note("claim answer lost");
    r.run(r.uniform(10, cfg.database.request_timeout_ms - 200));  // fe2's claim is still pending
    const TimePoint back = r.restart("fe1");
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
  }, 10);
}

// fe1 crashes; the database's answer to fe2's (successful) claim is lost, so for a database
// timeout fe2 stays a peer whose master is suspected and answers the tablets (which failed over
// to it) by reading the database. Then the database's answer to one of those reads, of
// score/<first event>, is lost too. One lost message should cost a reader about one request
// timeout: some read of that key must succeed within tablets.request_timeout (+ 20 ms) of the
// loss.
//
// Regression test: a fill used to wait database.request_timeout_ms (1000 ms) for its answer while
// every read of the key waited on that same fill, so they all timed out at the tablets for a
// whole second. Fills now time out after a quarter of it and are retried.
TEST(FailoverSim, LostFillAnswerBlocksItsKeyForLessThanATabletTimeout) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const Config& cfg = r.c.config();
    const std::string event = cfg.events.front();
    r.run(r.uniform(1200, 2000));
    r.crash("fe1");
    bool claim_lost = false;
    bool fill_lost = false;
    r.c.drop_if([&](const std::string& from, const std::string& to, const Message& m) {
      if (from != "db" || to != "fe2") return false;
      const auto* mi = std::get_if<MasterInfo>(&m.body);
      if (!claim_lost && mi != nullptr && mi->frontend == "fe2" && mi->lease_ms) return claim_lost = true;
      const auto* sr = std::get_if<ScoreReply>(&m.body);
      if (claim_lost && !fill_lost && sr != nullptr && sr->score.event == event) return fill_lost = true;
      return false;
    });
    ASSERT_TRUE(r.c.run_until([&] { return fill_lost; }, ms(2000))) << r.describe();
    r.c.drop_if(nullptr);
    const TimePoint lost = r.c.now();
    r.note("fill answer lost");
    const bool peer = r.c.run_until([&] { return r.c.frontend("fe2")->is_master(); }, ms(2000));
    ASSERT_TRUE(peer) << r.describe();
    const TimePoint master_at = r.c.now();
    r.run(1000);
    if (std::getenv("OLY_SIM_DUMP_KEY")) {  // debugging aid: every read of the key around the loss
      for (const auto& rd : r.c.reads()) {
        if (rd.key == "score/" + event && rd.start > lost - ms(300) && rd.start < master_at + ms(300)) {
          std::printf("%s@%s start=%+.1f end=%+.1f v%llu %s\n", rd.tablet.c_str(), rd.frontend.c_str(), to_ms(rd.start - lost),
                      to_ms(rd.end - lost), static_cast<unsigned long long>(rd.version), rd.outcome.c_str());
        }
      }
    }
    // How long the key could not be read at all: until the first successful read of it ends.
    TimePoint first_ok = TimePoint::max();
    size_t failed = 0;
    for (const auto& rd : r.c.reads()) {
      if (rd.key != "score/" + event || rd.end <= lost) continue;
      if (rd.outcome == "ok") first_ok = std::min(first_ok, rd.end);
      if (rd.outcome != "ok" && rd.outcome != "moved" && rd.end < first_ok) ++failed;
    }
    ASSERT_NE(first_ok, TimePoint::max()) << r.describe();
    EXPECT_LE(first_ok - lost, ms(cfg.tablets.request_timeout_ms + 20))
        << "after one lost answer, score/" << event << " could not be read for " << to_ms(first_ok - lost) << " ms ("
        << failed << " reads failed meanwhile; fe2 became master " << to_ms(master_at - lost) << " ms after the loss); "
        << r.describe();
    drain_and_check(r);
  }, 10);
}

// fe1 crashes and fe2 takes over; then fe2 crashes too, and both are restarted (in either order,
// 0-400 ms apart, which is within a heartbeat timeout): a cold restart of the front ends after a
// failover. The database's master row names fe2. Someone must become master again.
//
// (Regression test for the same bug as above, which needed no message loss at all: the new fe2
// read the row naming fe2, adopted itself as master without a claim and deferred to fe1, which
// followed fe2. Failed on every seed before 065dce0.)
TEST(FailoverSim, BothFrontEndsRestartAfterATakeover) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    r.run(r.uniform(1200, 2000));
    r.crash("fe1");
    ASSERT_TRUE(r.c.run_until([&] { return r.c.frontend("fe2")->holds_master_lease(r.c.now()); }, ms(2000)))
        << r.describe();
    r.run(r.uniform(0, 1000));
    r.crash("fe2");
    r.run(r.uniform(0, 1500));
    const bool fe1_first = (seed / 2) % 2;
    r.restart(fe1_first ? "fe1" : "fe2");
    r.run(r.uniform(0, 400));
    const TimePoint back = r.restart(fe1_first ? "fe2" : "fe1");
    expect_recovery(r, back);
    drain_and_check(r);
  }, 10);
}

// ---------------------------------------------------------------- false suspicion

// fe1 and fe2 cannot hear each other for longer than the timeout, but both still reach the
// database (and everyone else). Each suspects the other; fe2 tries to take over but the
// database refuses while fe1 renews its lease: no split brain, no takeover. When the partition
// heals, both see that the suspicion was false.
TEST(FailoverSim, FalseSuspicionOfTheMaster) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const Config& cfg = r.c.config();
    r.run(r.uniform(1200, 2500));
    const TimePoint k = r.partition("fe1", "fe2");
    r.run(r.uniform(cfg.heartbeat.timeout_ms + 100, 2500));
    const TimePoint back = r.heal();
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
    EXPECT_EQ(r.c.claims().size(), 1u) << "fe1 kept renewing its lease: nobody else may claim; " << r.describe();
    EXPECT_GT(counter(r.c, "fe2", "claims_lease_held"), 0) << r.describe();
    EXPECT_GT(counter(r.c, "fe1", "false_suspicions"), 0) << r.describe();
    EXPECT_GT(counter(r.c, "fe2", "false_suspicions"), 0) << r.describe();
  });
}

// ---------------------------------------------------------------- master cut off from the database

// fe1 (the master) cannot reach the database but still heartbeats fe2. Its master lease must run
// out (it stops serving its cache), and fe2 must take over, since the master can no longer
// write. Both parts are checked separately so that a failure says which.
//
// Regression test: fe2 used to claim only when it suspected the master, which kept heartbeating,
// so no update was acknowledged until the partition healed. A master whose renewals go
// unanswered for a lease plus a database timeout now steps down and says so in its heartbeats, and it is
// handed mastership back only once it reports that it reaches the database again.
TEST(FailoverSim, MasterCutOffFromTheDatabaseIsReplaced) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const Config& cfg = r.c.config();
    r.run(r.uniform(1200, 2500));
    const TimePoint k = r.partition("fe1", "db");
    // A renewal sent just before the cut was granted, so the lease may run a timeout from then.
    r.run(cfg.heartbeat.timeout_ms + 1);
    EXPECT_FALSE(r.c.frontend("fe1")->holds_master_lease(r.c.now())) << r.describe();
    r.run(r.uniform(2000, 3000) - cfg.heartbeat.timeout_ms);
    const DbClaim* cl = claim_by(r.c, "fe2", k);
    EXPECT_NE(cl, nullptr) << "fe2 never took over from a master that cannot reach the database; " << r.describe();
    // Once fe2 has taken over (detection and a lease, plus a publisher timeout), updates flow.
    const TimePoint from = k + ms(2 * cfg.heartbeat.timeout_ms + cfg.cacofonix.request_timeout_ms);
    const auto acked = std::count_if(r.c.acks().begin(), r.c.acks().end(), [&](const AckRecord& a) { return a.acked > from; });
    EXPECT_GT(acked, 0) << "no update acknowledged from t=" << r.at_ms(from) << "ms until the heal; " << r.describe();
    const TimePoint back = r.heal();
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
  });
}

// ---------------------------------------------------------------- pause (SIGSTOP)

// A front end stops (SIGSTOP) for 100 ms to 2.5 s and then resumes with its old state: the
// master (even seeds) or the peer (odd seeds), in push and pull. A paused master is replaced
// once its lease ran out; when it resumes it must not serve from its cache nor acknowledge
// anything the database did not apply.
TEST(FailoverSim, PausedFrontEndResumesWithItsOldState) {
  for_seeds([](uint64_t seed) {
    SimRun r(config((seed / 2) % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const std::string victim = seed % 2 ? "fe2" : "fe1";
    r.run(r.uniform(1200, 2500));
    const TimePoint k = r.pause(victim);
    r.run(r.uniform(100, 2500));
    const TimePoint back = r.resume(victim);
    // Right after resuming, a paused old master handles what queued up; it must not hold the
    // lease if another took over (the monitor checks every step).
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
  });
}

// The master pauses for about the failure-detection timeout (timeout - 100 ms to timeout +
// 150 ms): it resumes just before or just after fe2 suspects it, its lease having run out or
// not, while fe2's claim may be in flight or granted.
TEST(FailoverSim, MasterPausedForAboutTheTimeout) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull), options(seed));
    const Config& cfg = r.c.config();
    r.run(r.uniform(1200, 2500));
    const TimePoint k = r.pause("fe1");
    r.run_us(r.uniform(cfg.heartbeat.timeout_ms * 1000 - 100'000, cfg.heartbeat.timeout_ms * 1000 + 150'000));
    const TimePoint back = r.resume("fe1");
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
  });
}

// ---------------------------------------------------------------- three front ends

// With fe1, fe2 and fe3, killing fe1 makes fe2 (the first living in config order) master, never
// fe3, and fe1's tablets are spread over fe2 and fe3 rather than piled on one.
TEST(FailoverSim, ThreeFrontEndsSecondTakesOverAndTabletsSpread) {
  for_seeds([](uint64_t seed) {
    SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull, 3), SimOptions{.seed = seed, .tablets = 30, .rate = 50});
    const Config& cfg = r.c.config();
    r.run(r.uniform(1200, 2500));
    const auto homes = r.c.tablets().tablets_per_home();
    const TimePoint k = r.crash("fe1");
    r.run(cfg.heartbeat.timeout_ms + 1000);  // detection, takeover and a Serving notice
    const DbClaim* cl = claim_by(r.c, "fe2", k);
    ASSERT_NE(cl, nullptr) << "fe2 did not take over; " << r.describe();
    EXPECT_EQ(cl->epoch, 2u) << r.describe();
    for (const auto& c : r.c.claims()) EXPECT_NE(c.frontend, "fe3") << "fe3 claimed; " << r.describe();
    EXPECT_EQ(counter(r.c, "fe3", "takeovers") + counter(r.c, "fe3", "claims"), 0) << r.describe();
    const auto now_on = r.c.tablets().tablets_per_frontend();
    EXPECT_EQ(now_on.at("fe1"), 0) << r.describe();
    const int64_t moved_to_fe2 = now_on.at("fe2") - homes.at("fe2");
    const int64_t moved_to_fe3 = now_on.at("fe3") - homes.at("fe3");
    EXPECT_EQ(moved_to_fe2 + moved_to_fe3, homes.at("fe1")) << r.describe();
    EXPECT_GT(moved_to_fe2, 0) << "fe1's tablets all went to fe3; " << r.describe();
    EXPECT_GT(moved_to_fe3, 0) << "fe1's tablets all went to fe2; " << r.describe();
    r.run(r.uniform(0, 1000));
    const TimePoint back = r.restart("fe1");
    expect_recovery(r, back);
    drain_and_check(r);
    expect_served(r, k);
  });
}

// ---------------------------------------------------------------- random sequences of failures

// For a few virtual seconds, every 150-700 ms something random happens to the front ends and the
// database: a crash or a restart, a pause or a resume, a partition between two of them or a
// heal, a change of the loss rate (0-3%). Then everything is restored, and the cluster must
// recover and every safety guarantee must hold (availability is not checked: both front ends may
// be down at once).
void random_failures(uint64_t seed, int frontends, std::string& stuck_seeds) {
  SimRun r(config(seed % 2 ? Consistency::kPush : Consistency::kPull, frontends), options(seed));
  const Config& cfg = r.c.config();
  std::vector<std::string> nodes = {cfg.database.id};
  for (const auto& f : cfg.frontends) nodes.push_back(f.id);
  std::set<std::string> down;
  r.run(r.uniform(1000, 1500));
  const TimePoint end = r.c.now() + ms(4000);
  while (r.c.now() < end) {
    const std::string n = nodes[r.uniform(0, static_cast<int64_t>(nodes.size()) - 1)];
    switch (r.uniform(0, 5)) {
      case 0:
        if (down.count(n)) {
          r.restart(n);
          down.erase(n);
        } else {
          r.crash(n);
          down.insert(n);
        }
        break;
      case 1:
        if (!down.count(n)) {
          if (r.c.paused(n)) {
            r.resume(n);
          } else {
            r.pause(n);
          }
        }
        break;
      case 2:
      case 3: {
        const std::string m = nodes[r.uniform(0, static_cast<int64_t>(nodes.size()) - 1)];
        if (m != n) r.partition(n, m);
        break;
      }
      case 4:
        r.heal();
        break;
      case 5: {
        const double drop = 0.01 * static_cast<double>(r.uniform(0, 3));
        r.note("drop " + std::to_string(static_cast<int>(drop * 100)) + "%");
        r.c.net().set_drop(drop);
        break;
      }
    }
    r.run(r.uniform(150, 700));
  }
  r.heal();
  r.c.net().set_drop(0);
  for (const auto& n : nodes) {
    if (r.c.paused(n)) r.resume(n);
  }
  for (const auto& n : down) r.restart(n);
  // Several handoffs may fail before one succeeds, each costing its deadline and a settle time.
  const Duration bound = 3 * failed_handoff_recovery_bound(cfg);
  if (!r.c.run_until([&] { return recovered(r.c); }, bound)) {
    if (const std::string stuck = master_without_claim(r.c); !stuck.empty()) {
      // That bug (see LostClaimAnswerWhileTheHomeMasterRestarts) is back: name the seed, and
      // check that safety held all the same.
      stuck_seeds += " " + std::to_string(seed);
      r.note("stuck:" + stuck);
      drain_and_check(r, false);
      return;
    }
  }
  expect_recovery(r, r.c.now(), Duration(0));
  drain_and_check(r, true, 50, 300);
}

TEST(FailoverSim, RandomFailureSequencesTwoFrontEnds) {
  std::string stuck;
  for_seeds([&](uint64_t seed) { random_failures(seed, 2, stuck); });
  EXPECT_EQ(stuck, "") << "these seeds ended with no master at all (a front end believes it is master without "
                          "having claimed; see LostClaimAnswerWhileTheHomeMasterRestarts)";
}

TEST(FailoverSim, RandomFailureSequencesThreeFrontEnds) {
  std::string stuck;
  for_seeds([&](uint64_t seed) { random_failures(seed, 3, stuck); }, 20);
  EXPECT_EQ(stuck, "") << "these seeds ended with no master at all (a front end believes it is master without "
                          "having claimed; see LostClaimAnswerWhileTheHomeMasterRestarts)";
}

}  // namespace
}  // namespace oly::sim
