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
#include "tests/sim/sim_run.h"

namespace oly::sim {
namespace {

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
