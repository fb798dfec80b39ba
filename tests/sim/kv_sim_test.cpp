// The key-value store (docs/kvstore.md) on the replicated tier, in the whole-cluster simulation,
// over many seeds: clients send kv_get and kv_set to replicas chosen at random (so most go through
// a follower's forward), while the leader crashes and restarts and then a follower does, and
// messages are delayed at random. Every key's history, with the requests that got no answer, must
// be linearizable (verify/linearizability.h), and the store must keep serving after each failure.
//
// OLY_SIM_SEED, OLY_SIM_SEEDS and OLY_SIM_MAX_FAILED work as in failover_sim_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>

#include "common/codec.h"
#include "tests/sim/replicated.h"
#include "verify/linearizability.h"

namespace oly::sim {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kKvSeeds = 5;
#else
constexpr uint64_t kKvSeeds = 30;
#endif

constexpr Duration kClientTimeout = ms(1500);  // beyond the forward's own 1 s: a live replica's answer comes first
const std::vector<std::string> kKeys = {"a", "b", "c"};

// One client with at most one request outstanding, as `kv` in a loop would be: each request to a
// replica chosen at random, except that after a failure or a timeout it tries another one.
class KvClient {
 public:
  KvClient(SimCluster& c, int id, uint64_t seed)
      : c_(c), id_(id), rng_(seed * 7919 + static_cast<uint64_t>(id)), endpoint_(c.net().endpoint("kv" + std::to_string(id))) {}

  // Called after every step: takes answers, gives up on a late one, starts the next request.
  void step(bool issue) {
    while (auto in = endpoint_->receive()) {
      const Decoded d = decode(in->frame);
      if (!d.ok || !pending_ || d.message.req != req_) continue;  // a late answer to a request given up on
      finish(d.message.body);
    }
    if (pending_ && c_.now() >= deadline_) {
      pending_->completed = false;  // no answer: it may or may not have taken effect
      ++timed_out;
      last_failed_ = to_;
      done(std::move(*pending_));
    }
    if (!pending_ && issue && c_.now() >= next_) start();
  }

  std::map<std::string, std::vector<verify::RegisterOp>> history;
  int answered = 0, failed = 0, timed_out = 0;
  TimePoint last_success{};

 private:
  void start() {
    const auto names = c_.replica_names();
    size_t pick = std::uniform_int_distribution<size_t>(0, names.size() - 1)(rng_);
    if (names[pick] == last_failed_) pick = (pick + 1) % names.size();
    to_ = names[pick];
    const std::string& to = to_;
    key_ = kKeys[std::uniform_int_distribution<size_t>(0, kKeys.size() - 1)(rng_)];
    verify::RegisterOp op;
    op.client = id_;
    op.invoked_us = to_us(c_.now());
    op.is_set = std::bernoulli_distribution(0.5)(rng_);
    Body body = KvGet{key_, false};
    if (op.is_set) {
      op.value = "c" + std::to_string(id_) + "-" + std::to_string(++writes_);
      body = KvSet{key_, *op.value};
    }
    pending_ = op;
    req_ = ++reqs_;
    deadline_ = c_.now() + kClientTimeout;
    endpoint_->send(to, encode(Message{req_, std::move(body)}));
  }

  void finish(const Body& body) {
    verify::RegisterOp op = std::move(*pending_);
    if (const auto* v = std::get_if<KvValue>(&body)) {
      op.completed_us = to_us(c_.now());
      (op.is_set ? op.old : op.value) = v->value;
      ++answered;
      last_success = c_.now();
      last_failed_.clear();
    } else {
      op.completed = false;  // not_leader after a round failed: a set may still be committed
      ++failed;
      last_failed_ = to_;
    }
    done(std::move(op));
  }

  void done(verify::RegisterOp op) {
    if (op.is_set || op.completed) history[key_].push_back(std::move(op));
    pending_.reset();
    next_ = c_.now() + Duration(std::uniform_int_distribution<int64_t>(0, 20'000)(rng_));
  }

  SimCluster& c_;
  int id_;
  std::mt19937_64 rng_;
  std::unique_ptr<Transport> endpoint_;
  std::optional<verify::RegisterOp> pending_;
  std::string key_, to_, last_failed_;
  uint64_t req_ = 0, reqs_ = 0, writes_ = 0;
  TimePoint deadline_{}, next_{};
};

TEST(KvSim, GetsAndSetsThroughAnyReplicaStayLinearizableWhileTheLeaderAndThenAFollowerCrash) {
  for_seeds(
      [](uint64_t seed) {
        Config cfg = replicated(mode_of(seed));
        for (size_t i = 0; i < cfg.database.replicas.size(); ++i) cfg.database.replicas[i].http = "127.0.0.1:" + std::to_string(8120 + i);
        SimOptions o = options(seed);
        o.rate = 20;
        SimRun r(cfg, o);
        std::vector<std::unique_ptr<KvClient>> clients;
        for (int i = 1; i <= 4; ++i) clients.push_back(std::make_unique<KvClient>(r.c, i, seed));
        bool issuing = true;
        r.c.observe([&] {
          for (auto& k : clients) k->step(issuing);
        });
        const std::string leader = wait_for_db_leader(r);
        ASSERT_FALSE(leader.empty()) << r.describe();
        r.run(r.uniform(800, 1500));
        const std::string old_leader = db_leader(r.c);
        ASSERT_FALSE(old_leader.empty()) << r.describe();
        r.crash(old_leader);
        r.run(r.uniform(1000, 2000));
        const TimePoint back = r.restart(old_leader);
        r.run(r.uniform(800, 1500));
        std::string follower;
        for (const auto& n : r.c.replica_names()) {
          if (n != db_leader(r.c) && r.c.replica(n) != nullptr) follower = n;
        }
        r.crash(follower);
        r.run(r.uniform(800, 1500));
        r.restart(follower);
        r.run(1500);
        issuing = false;
        r.run(4000);  // every outstanding request answered or given up

        std::map<std::string, std::vector<verify::RegisterOp>> histories;
        int answered = 0;
        for (auto& k : clients) {
          answered += k->answered;
          for (auto& [key, ops] : k->history) histories[key].insert(histories[key].end(), ops.begin(), ops.end());
          EXPECT_GT(k->last_success, back) << "client served again after the old leader came back (answered " << k->answered
                                           << ", failed " << k->failed << ", timed out " << k->timed_out << "): " << r.describe();
        }
        EXPECT_GT(answered, 200) << r.describe();
        const auto results = verify::check_registers(histories);
        for (const auto& [key, result] : results) {
          EXPECT_TRUE(result.linearizable) << "key " << key << ": " << result.explanation << " " << r.describe();
          EXPECT_FALSE(result.gave_up) << "key " << key << " " << r.describe();
        }
      },
      kKvSeeds);
}

}  // namespace
}  // namespace oly::sim
