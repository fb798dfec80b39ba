// Byzantine mode (docs/byzantine.md) in the whole-cluster simulation: four front ends, three
// database replicas, Cacofonix signing its updates, and one front end a traitor, in every
// position (or none) with every strategy (byzantine/traitor.h), over several seeds. After each run:
//   - agreement: for every instance of OM(1), the loyal front ends decided the same value, the
//     commander's when the commander is loyal;
//   - the database never applied a value Cacofonix did not send (byte for byte: its canonical
//     bytes), and every update Cacofonix counted as acknowledged was applied;
//   - no tablet took a value that the database did not hold at that version (each read is vouched
//     for by two front ends);
//   - what every run must keep (verify/): nothing acknowledged lost or applied twice, applied in
//     order, tallies as Cacofonix counted, replicas identical, and no tablet read going backwards
//     or older than an acknowledged update (push freshness holds: every read is the database's);
//   - liveness: once Cacofonix stops, everything it produced is acknowledged (a traitorous
//     commander costs a resend to the next front end, never the update).
//
// OLY_SIM_SEED and OLY_SIM_SEEDS work as in failover_sim_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "tests/sim/replicated.h"
#include "tests/sim/sim_run.h"

namespace oly::sim {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kByzantineSeeds = 1;
#else
constexpr uint64_t kByzantineSeeds = 4;
#endif

Config byzantine_config() {
  Config c = replicated(Consistency::kPush, 3);
  c.frontends.push_back({"fe4", "tcp://127.0.0.1:7104", "tcp://127.0.0.1:7114", "", "127.0.0.1:7204"});
  c.byzantine = true;
  c.security = Security::kCurve;
  validate(c);
  return c;
}

struct Judged {
  std::vector<std::string> failures;
  size_t instances = 0;
  size_t applied = 0;
  size_t acked = 0;
  size_t reads = 0;
};

// The checks above, on a finished run whose traitor is `traitor` ("" for none).
Judged judge(SimCluster& c, const std::string& traitor) {
  Judged j;
  // Agreement, instance by instance: what each loyal front end decided.
  std::map<SimCluster::InstanceId, std::map<std::string, byzantine::Value>> by_instance;
  for (const auto& [fe, decided] : c.decisions()) {
    if (fe == traitor) continue;
    for (const auto& [id, v] : decided) by_instance[id][fe] = v;
  }
  j.instances = by_instance.size();
  for (const auto& [id, values] : by_instance) {
    const auto& [commander, publisher, seq] = id;
    const std::string name = commander + "/" + publisher + "/" + std::to_string(seq);
    const byzantine::Value& first = values.begin()->second;
    for (const auto& [fe, v] : values) {
      if (v != first) j.failures.push_back("loyal front ends decided differently on " + name + " (" + fe + ")");
    }
    if (commander != traitor) {
      auto own = values.find(commander);
      if (own == values.end() || !own->second) {
        j.failures.push_back("the loyal commander of " + name + " has no value of its own");
      } else if (first != own->second) {
        j.failures.push_back("a loyal commander's value was not decided on " + name);
      }
    }
  }
  // Nothing applied that Cacofonix did not send.
  for (const auto& [id, bytes] : c.applied_updates()) {
    auto sent = c.sent_updates().find(id);
    if (sent == c.sent_updates().end()) j.failures.push_back("applied an update never sent: " + id.first + "/" + std::to_string(id.second));
    else if (sent->second != bytes) j.failures.push_back("applied another value than sent for " + id.first + "/" + std::to_string(id.second));
  }
  j.applied = c.applied_updates().size();
  // Every acknowledgement is of an applied update.
  for (const auto& a : c.acks()) {
    if (!c.applied_updates().count({a.publisher, a.seq})) {
      j.failures.push_back("acknowledged but not applied: " + a.publisher + "/" + std::to_string(a.seq));
    }
  }
  j.acked = c.acks().size();
  // No tablet took a value the database did not hold at that version.
  for (const auto& r : c.taken_reads()) {
    const auto key = c.applied_values().find(r.key);
    std::string held;
    if (r.version == 0) {
      held = r.key.starts_with("score/") ? TabletsCore::text_of(Score{}) : TabletsCore::text_of(Tally{});
    } else if (key != c.applied_values().end() && key->second.count(r.version)) {
      held = key->second.at(r.version);
    } else {
      j.failures.push_back("a tablet took " + r.key + " at version " + std::to_string(r.version) + ", never applied");
      continue;
    }
    if (held != r.text) {
      j.failures.push_back("a tablet took " + r.key + " v" + std::to_string(r.version) + " as '" + r.text + "', applied as '" + held + "'");
    }
  }
  j.reads = c.taken_reads().size();
  // And the guarantees of every run (verify/): none lost or applied twice, in order, tallies as
  // Cacofonix counted, reads never backwards and never older than an acknowledged update.
  for (auto checks : {check_acknowledged_updates(c), check_applied_log(c), check_tallies_match_publisher(c),
                      check_monotonic_reads(c), check_fresh_reads(c), check_replicas_identical(c)}) {
    for (auto& f : checks) j.failures.push_back(std::move(f));
  }
  return j;
}

// One run: Cacofonix publishes for 4 s, stops, and everything must be acknowledged within 10 s.
Judged run(uint64_t seed, const std::string& traitor, byzantine::Strategy strategy) {
  SimOptions opt = options(seed);
  opt.tablets = 4;
  opt.traitor = traitor;
  opt.strategy = strategy;
  SimCluster c(byzantine_config(), opt);
  c.run_for(ms(4000));
  c.stop_publishing();
  const bool drained = c.run_until([&] { return c.publisher().finished(); }, ms(10000));
  c.run_for(ms(500));  // late decisions and applies
  Judged j = judge(c, traitor);
  if (!drained) {
    j.failures.push_back("not everything acknowledged: " + std::to_string(c.publisher().unacknowledged()) + " left");
  }
  if (j.acked == 0) j.failures.push_back("nothing acknowledged");
  if (!traitor.empty() && c.traitor() && c.traitor()->corrupted() + c.traitor()->dropped() == 0) {
    j.failures.push_back("the traitor told no lie");
  }
  for (auto& f : j.failures) f = c.describe() + ": " + f;
  return j;
}

uint64_t first_seed() {
  const char* s = std::getenv("OLY_SIM_SEED");
  return s ? std::stoull(s) : 1;
}
uint64_t seed_count() {
  const char* s = std::getenv("OLY_SIM_SEEDS");
  return s ? std::stoull(s) : (std::getenv("OLY_SIM_SEED") ? 1 : kByzantineSeeds);
}

const std::vector<byzantine::Strategy> kStrategies = {byzantine::Strategy::kFlip, byzantine::Strategy::kRandom,
                                                      byzantine::Strategy::kSilent, byzantine::Strategy::kEquivocate};

void expect_clean(const std::string& traitor, const std::vector<byzantine::Strategy>& strategies) {
  size_t runs = 0, instances = 0, applied = 0, reads = 0;
  for (uint64_t seed = first_seed(); seed < first_seed() + seed_count(); ++seed) {
    for (const auto s : strategies) {
      const Judged j = run(seed, traitor, s);
      ++runs;
      instances += j.instances;
      applied += j.applied;
      reads += j.reads;
      EXPECT_TRUE(j.failures.empty()) << "traitor " << (traitor.empty() ? "none" : traitor) << ", "
                                      << byzantine::strategy_name(s) << ", seed " << seed << ": "
                                      << (j.failures.empty() ? "" : j.failures.front()) << " (" << j.failures.size()
                                      << " failures)";
    }
  }
  std::printf("[ measured ] traitor %s: %zu runs, %zu agreement instances, %zu updates applied, %zu tablet reads taken\n",
              traitor.empty() ? "none" : traitor.c_str(), runs, instances, applied, reads);
}

// Messages and latency per update, Byzantine mode against crash mode on the same four front ends
// and three replicas (the simulator's delays, 50-500 µs a message): frames on the network per
// acknowledged update beyond what an idle cluster sends, and p50/p99 of first send to
// acknowledgement. Printed, and bounded loosely so that a change that multiplies them is seen.
struct Cost {
  double frames_per_update;
  double p50_ms, p99_ms;
};

Cost cost(bool byzantine) {
  const auto frames = [&](double rate, size_t* acked, std::vector<double>* latencies) {
    Config cfg = byzantine_config();
    cfg.byzantine = byzantine;
    SimOptions opt = options(1);
    opt.tablets = 0;
    opt.rate = rate;
    SimCluster c(cfg, opt);
    c.run_for(ms(2000));  // started and settled
    const uint64_t before = c.net().frames_sent();
    const size_t acks_before = c.acks().size();
    c.run_for(ms(4000));
    if (acked) *acked = c.acks().size() - acks_before;
    if (latencies) {
      for (size_t i = acks_before; i < c.acks().size(); ++i) {
        latencies->push_back(std::chrono::duration<double, std::milli>(c.acks()[i].acked - c.acks()[i].first_sent).count());
      }
    }
    return static_cast<double>(c.net().frames_sent() - before);
  };
  size_t acked = 0;
  std::vector<double> latencies;
  const double busy = frames(100, &acked, &latencies);
  const double idle = frames(0.001, nullptr, nullptr);
  std::sort(latencies.begin(), latencies.end());
  EXPECT_GT(acked, 300u);
  if (latencies.empty()) return {0, 0, 0};
  return {(busy - idle) / static_cast<double>(acked), latencies[latencies.size() / 2], latencies[latencies.size() * 99 / 100]};
}

TEST(ByzantineSim, MessagesAndLatencyPerUpdateAgainstCrashMode) {
  const Cost crash = cost(false);
  const Cost byz = cost(true);
  std::printf("[ measured ] per update, crash mode: %.1f frames, ack latency p50 %.2f ms, p99 %.2f ms\n",
              crash.frames_per_update, crash.p50_ms, crash.p99_ms);
  std::printf("[ measured ] per update, Byzantine mode: %.1f frames, ack latency p50 %.2f ms, p99 %.2f ms "
              "(%.1fx the frames, %.1fx the p50)\n",
              byz.frames_per_update, byz.p50_ms, byz.p99_ms, byz.frames_per_update / crash.frames_per_update,
              byz.p50_ms / crash.p50_ms);
  // OM(1) among four: 3 proposes, 6 relays; then 4 submissions, each replicated (Raft) and
  // acknowledged, 4 vouches: several times crash mode's, never unbounded.
  EXPECT_GT(byz.frames_per_update, crash.frames_per_update);
  EXPECT_LT(byz.frames_per_update, 10 * crash.frames_per_update);
}

TEST(ByzantineSim, NoTraitor) { expect_clean("", {byzantine::Strategy::kFlip}); }
TEST(ByzantineSim, TraitorIsTheHomeMasterFe1) { expect_clean("fe1", kStrategies); }
TEST(ByzantineSim, TraitorIsFe2) { expect_clean("fe2", kStrategies); }
TEST(ByzantineSim, TraitorIsFe3) { expect_clean("fe3", kStrategies); }
TEST(ByzantineSim, TraitorIsFe4) { expect_clean("fe4", kStrategies); }

}  // namespace
}  // namespace oly::sim
