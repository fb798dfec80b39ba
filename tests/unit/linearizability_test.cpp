// The register linearizability checker (verify/linearizability.h): hand-made histories with and
// without anomalies, random linearizable histories and corrupted copies of them, and the
// search's cost on histories the size of a process test's.
#include "verify/linearizability.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace oly::verify {
namespace {

const std::optional<std::string> NIL = std::nullopt;

RegisterOp set_op(int client, int64_t from, int64_t to, std::string v,
                  std::optional<std::string> old) {
  RegisterOp op;
  op.client = client;
  op.invoked_us = from;
  op.completed_us = to;
  op.is_set = true;
  op.value = std::move(v);
  op.old = std::move(old);
  return op;
}

RegisterOp get_op(int client, int64_t from, int64_t to, std::optional<std::string> v) {
  RegisterOp op;
  op.client = client;
  op.invoked_us = from;
  op.completed_us = to;
  op.value = std::move(v);
  return op;
}

// A set that got no answer (a timeout, a lost connection, a 503).
RegisterOp lost_set(int client, int64_t from, std::string v) {
  RegisterOp op = set_op(client, from, 0, std::move(v), NIL);
  op.completed = false;
  return op;
}

RegisterOp lost_get(int client, int64_t from) {
  RegisterOp op = get_op(client, from, 0, NIL);
  op.completed = false;
  return op;
}

// ---- Sequential histories ----

TEST(Linearizability, AnEmptyHistoryIsLinearizable) {
  const auto r = check_register({});
  EXPECT_TRUE(r.linearizable);
  EXPECT_FALSE(r.gave_up);
  EXPECT_EQ(r.ops, 0u);
}

TEST(Linearizability, ASequentialHistoryThatFollowsTheRegisterIsLinearizable) {
  const auto r = check_register({
      get_op(1, 0, 10, NIL),
      set_op(1, 20, 30, "a", NIL),
      get_op(2, 40, 50, "a"),
      set_op(2, 60, 70, "b", "a"),
      set_op(1, 80, 90, "b", "b"),
      get_op(1, 100, 110, "b"),
  });
  EXPECT_TRUE(r.linearizable) << r.explanation;
  EXPECT_EQ(r.ops, 6u);
}

TEST(Linearizability, OpsMayComeInAnyOrder) {
  std::vector<RegisterOp> ops = {
      get_op(2, 40, 50, "a"),
      set_op(2, 60, 70, "b", "a"),
      set_op(1, 20, 30, "a", NIL),
  };
  EXPECT_TRUE(check_register(ops).linearizable);
}

TEST(Linearizability, AGetOfTheInitialValueBeforeAnySetIsLinearizable) {
  EXPECT_TRUE(
      check_register({get_op(1, 0, 10, "x"), set_op(1, 20, 30, "y", "x")}, "x").linearizable);
  EXPECT_FALSE(check_register({get_op(1, 0, 10, NIL)}, "x").linearizable);
}

TEST(Linearizability, ASequentialStaleReadIsNotLinearizable) {
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      set_op(1, 20, 30, "b", "a"),
      get_op(2, 40, 50, "a"),
  });
  EXPECT_FALSE(r.linearizable);
  EXPECT_FALSE(r.gave_up);
  EXPECT_NE(r.explanation.find("client 2 get -> \"a\" [40us, 50us]"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, AReadOfAValueNeverWrittenIsNotLinearizable) {
  const auto r = check_register({set_op(1, 0, 10, "a", NIL), get_op(2, 20, 30, "zz")});
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 2 get -> \"zz\" [20us, 30us]"), std::string::npos)
      << r.explanation;
  EXPECT_NE(r.explanation.find("no set wrote"), std::string::npos) << r.explanation;
}

TEST(Linearizability, AReadOfNilAfterTheKeyHadAValueIsNotLinearizable) {
  const auto r = check_register({set_op(1, 0, 10, "a", NIL), get_op(2, 20, 30, NIL)});
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 2 get -> NIL [20us, 30us]"), std::string::npos)
      << r.explanation;
}

// ---- Concurrent histories ----

TEST(Linearizability, OverlappingSetsOrderedByTheirOldValuesAreLinearizable) {
  // Both overlap; only "a then b" fits the old values, and the get sees b.
  const auto r = check_register({
      set_op(1, 0, 100, "b", "a"),
      set_op(2, 10, 90, "a", NIL),
      get_op(3, 120, 130, "b"),
  });
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

TEST(Linearizability, OverlappingSetsWhoseOldValuesFormACycleAreNotLinearizable) {
  const auto r = check_register({
      set_op(1, 0, 100, "b", "a"),
      set_op(2, 10, 90, "a", "b"),
  });
  EXPECT_FALSE(r.linearizable);
}

TEST(Linearizability, TwoOverlappingSetsCannotBothReplaceNil) {
  const auto r = check_register({set_op(1, 0, 100, "a", NIL), set_op(2, 10, 90, "b", NIL)});
  EXPECT_FALSE(r.linearizable);
}

TEST(Linearizability, AGetOverlappingASetMaySeeEitherValue) {
  for (const std::optional<std::string>& seen : {NIL, std::optional<std::string>("a")}) {
    const auto r = check_register({
        set_op(1, 0, 100, "a", NIL),
        get_op(2, 10, 20, seen),
        get_op(3, 150, 160, "a"),
    });
    EXPECT_TRUE(r.linearizable) << r.explanation;
  }
}

TEST(Linearizability, OnlySomeOrdersOfThreeOverlappingOpsFit) {
  // Three overlapping sets and a get during them that saw "b": a, b, c (b sees a, c sees b).
  const auto ok = check_register({
      set_op(1, 0, 100, "c", "b"),
      set_op(2, 0, 100, "a", NIL),
      set_op(3, 0, 100, "b", "a"),
      get_op(4, 10, 90, "b"),
      get_op(4, 110, 120, "c"),
  });
  EXPECT_TRUE(ok.linearizable) << ok.explanation;
  // The same, but the last get sees "b", though c was answered before it was sent.
  const auto bad = check_register({
      set_op(1, 0, 100, "c", "b"),
      set_op(2, 0, 100, "a", NIL),
      set_op(3, 0, 100, "b", "a"),
      get_op(4, 10, 90, "b"),
      get_op(4, 110, 120, "b"),
  });
  EXPECT_FALSE(bad.linearizable);
  EXPECT_NE(bad.explanation.find("client 4 get -> \"b\" [110us, 120us]"), std::string::npos)
      << bad.explanation;
}

TEST(Linearizability, AStaleReadAfterACompletedSetIsNotLinearizable) {
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      // Overlaps both sets: may see a.
      get_op(2, 5, 50, "a"),
      set_op(1, 20, 30, "b", "a"),
      // Sent after b was answered: may not.
      get_op(3, 31, 40, "a"),
  });
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 3 get -> \"a\" [31us, 40us]"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, AReadThatSeesAValueBeforeItsSetIsInvokedIsNotLinearizable) {
  const auto r = check_register({
      get_op(2, 0, 10, "a"),
      set_op(1, 11, 20, "a", NIL),
  });
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 2 get -> \"a\" [0us, 10us]"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, OpsWhoseTimesTouchCountAsConcurrent) {
  // The get completes at the instant the set is invoked: it may see the set.
  EXPECT_TRUE(check_register({get_op(2, 0, 10, "a"), set_op(1, 10, 20, "a", NIL)}).linearizable);
}

TEST(Linearizability, ASetWhoseOldValueContradictsTheOrderIsNotLinearizable) {
  // b was acknowledged before c was sent, yet c says it replaced a.
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      set_op(2, 20, 30, "b", "a"),
      set_op(3, 40, 50, "c", "a"),
  });
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 3 set \"c\" (old \"a\") [40us, 50us]"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, ReadersSeeingNewThenOldDuringOneSetIsNotLinearizable) {
  // The classic anomaly: while a set of "new" is in flight, reader 1 sees "new", then reader 2,
  // starting after reader 1's answer, sees the old value.
  const auto r = check_register(
      {
          set_op(1, 0, 100, "new", "old"),
          get_op(2, 10, 20, "new"),
          get_op(3, 30, 40, "old"),
      },
      "old");
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 3 get -> \"old\" [30us, 40us]"), std::string::npos)
      << r.explanation;
  EXPECT_NE(r.explanation.find("client 2 get -> \"new\" [10us, 20us]"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, ReadersSeeingNewThenOldWhileBothReadsOverlapIsLinearizable) {
  // Reader 2's read starts before reader 1's answer: old read first, then the set, then new.
  const auto r = check_register(
      {
          set_op(1, 0, 100, "new", "old"),
          get_op(2, 10, 20, "new"),
          get_op(3, 15, 40, "old"),
      },
      "old");
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

// ---- Unanswered ops ----

TEST(Linearizability, AnUnansweredSetWhoseEffectIsSeenLaterIsLinearizable) {
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      lost_set(2, 20, "b"),
      get_op(3, 30, 40, "a"),
      get_op(3, 500, 510, "b"),  // long after the timeout: it took effect late
      set_op(1, 600, 610, "c", "b"),
  });
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

TEST(Linearizability, AnUnansweredSetThatNeverTookEffectIsLinearizable) {
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      lost_set(2, 20, "b"),
      get_op(3, 30, 40, "a"),
      set_op(1, 50, 60, "c", "a"),
      get_op(3, 70, 80, "c"),
  });
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

TEST(Linearizability, AnUnansweredSetWhoseEffectAppearsAndDisappearsIsNotLinearizable) {
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      lost_set(2, 20, "b"),
      get_op(3, 30, 40, "b"),
      // Nothing wrote a again.
      get_op(3, 50, 60, "a"),
  });
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("client 3 get -> \"a\" [50us, 60us]"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, AnUnansweredSetCannotTakeEffectBeforeItWasSent) {
  const auto r = check_register({
      get_op(3, 0, 10, "b"),
      lost_set(2, 20, "b"),
  });
  EXPECT_FALSE(r.linearizable);
}

TEST(Linearizability, AnUnansweredGetConstrainsNothing) {
  const auto r = check_register({
      set_op(1, 0, 10, "a", NIL),
      lost_get(2, 5),
      get_op(2, 20, 30, "a"),
  });
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

TEST(Linearizability, AnUnansweredSetsValueMayBeReplacedByAnAnsweredSet) {
  // The lost set took effect; the next set saw its value as old.
  const auto r = check_register({
      lost_set(1, 0, "a"),
      set_op(2, 100, 110, "b", "a"),
      get_op(3, 120, 130, "b"),
  });
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

// ---- Input, budget, drivers ----

TEST(Linearizability, AnOpCompletedBeforeItWasInvokedIsRefused) {
  EXPECT_THROW(check_register({get_op(1, 10, 5, NIL)}), std::invalid_argument);
  RegisterOp bad = set_op(1, 0, 10, "a", NIL);
  bad.value = std::nullopt;
  EXPECT_THROW(check_register({bad}), std::invalid_argument);
}

TEST(Linearizability, DescribesOpsByClientAndTimes) {
  EXPECT_EQ(describe_register_op(get_op(2, 1200, 1300, "b")),
            "client 2 get -> \"b\" [1200us, 1300us]");
  EXPECT_EQ(describe_register_op(set_op(1, 5, 6, "c", NIL)),
            "client 1 set \"c\" (old NIL) [5us, 6us]");
  EXPECT_EQ(describe_register_op(lost_set(3, 1000, "d")),
            "client 3 set \"d\", no answer [1000us, -]");
  EXPECT_EQ(describe_register_op(lost_get(3, 7)), "client 3 get, no answer [7us, -]");
  EXPECT_EQ(describe_register_op(get_op(0, 0, 1, std::string(100, 'x'))),
            "client 0 get -> \"" + std::string(32, 'x') + "...\" [0us, 1us]");
}

TEST(Linearizability, PerKeyDriverJudgesEachKeyAlone) {
  std::map<std::string, std::vector<RegisterOp>> histories;
  histories["good"] = {set_op(1, 0, 10, "a", NIL), get_op(2, 20, 30, "a")};
  histories["bad"] = {set_op(1, 0, 10, "a", NIL), get_op(2, 20, 30, NIL)};
  // Each key starts with no value, whatever the others hold.
  histories["fresh"] = {get_op(1, 40, 50, NIL)};
  const auto results = check_registers(histories);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results.at("good").linearizable);
  EXPECT_FALSE(results.at("bad").linearizable);
  EXPECT_TRUE(results.at("fresh").linearizable);

  const Verdict v = registers_linearizable(results);
  EXPECT_EQ(v.status, Status::kFail);
  ASSERT_EQ(v.examples.size(), 1u);
  EXPECT_EQ(v.examples[0].rfind("key bad: ", 0), 0u) << v.examples[0];
  EXPECT_EQ(registers_linearizable({}).status, Status::kNotJudged);
  EXPECT_EQ(registers_linearizable({{"good", results.at("good")}}).status, Status::kPass);
}

// ---- Random histories ----

// A linearizable history: `n` ops at increasing linearization points on one register, each
// op's interval drawn around its point, each client's ops one after the other. A fraction
// `lost` of the ops get no answer (the client times out): half of those sets take effect.
// Values are unique: "v<index>".
std::vector<RegisterOp> random_history(uint64_t seed, int clients, size_t n, double lost = 0.0) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<int64_t> free_at(static_cast<size_t>(clients), 0);
  std::optional<std::string> value;
  std::vector<RegisterOp> ops;
  int64_t point = 0;
  for (size_t i = 0; i < n; ++i) {
    point += uniform(1, 10);
    point = std::max(point, *std::min_element(free_at.begin(), free_at.end()));
    std::vector<int> idle;
    for (int c = 0; c < clients; ++c) {
      if (free_at[static_cast<size_t>(c)] <= point) idle.push_back(c);
    }
    const int c = idle[static_cast<size_t>(uniform(0, static_cast<int64_t>(idle.size()) - 1))];
    RegisterOp op;
    op.client = c;
    op.invoked_us = std::max(free_at[static_cast<size_t>(c)], point - uniform(0, 40));
    op.completed_us = point + uniform(0, 40);
    op.completed = std::uniform_real_distribution<double>(0, 1)(rng) >= lost;
    op.is_set = uniform(0, 1) == 1;
    if (op.is_set) {
      op.value = "v" + std::to_string(i);
      op.old = value;
      if (op.completed || uniform(0, 1) == 1) value = op.value;
    } else {
      op.value = value;
    }
    if (!op.completed) op.old = std::nullopt;
    free_at[static_cast<size_t>(c)] = op.completed_us + 1;
    ops.push_back(op);
  }
  std::shuffle(ops.begin(), ops.end(), rng);
  return ops;
}

// Indices of the answered gets of `ops`, by invocation.
std::vector<size_t> answered_gets(const std::vector<RegisterOp>& ops) {
  std::vector<size_t> out;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!ops[i].is_set && ops[i].completed) out.push_back(i);
  }
  std::sort(out.begin(), out.end(),
            [&](size_t a, size_t b) { return ops[a].invoked_us < ops[b].invoked_us; });
  return out;
}

TEST(LinearizabilityRandom, GeneratedLinearizableHistoriesPass) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const int clients = 2 + static_cast<int>(seed % 7);  // 2 to 8
    const auto r = check_register(random_history(seed, clients, 300, seed % 2 ? 0.05 : 0.0));
    EXPECT_TRUE(r.linearizable) << r.explanation;
    EXPECT_FALSE(r.gave_up);
  }
}

TEST(LinearizabilityRandom, AGetCorruptedToAValueNeverWrittenFails) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto ops = random_history(seed, 4, 300, 0.05);
    const auto gets = answered_gets(ops);
    ASSERT_FALSE(gets.empty());
    RegisterOp& g = ops[gets[seed * 7919 % gets.size()]];
    g.value = "never written";
    const auto r = check_register(ops);
    EXPECT_FALSE(r.linearizable);
    EXPECT_FALSE(r.gave_up);
    EXPECT_NE(r.explanation.find(describe_register_op(g)), std::string::npos) << r.explanation;
  }
}

// The corruptions below leave every value read one that some set wrote: only the search can
// tell. Values are unique, so each is certainly not linearizable, and the shortest failing
// prefix ends at the corrupted get's answer.
TEST(LinearizabilityRandom, AGetCorruptedToReadTheFutureFails) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto ops = random_history(seed, 4, 300, 0.05);
    const auto gets = answered_gets(ops);
    RegisterOp& g = ops[gets[gets.size() / 4 + seed % (gets.size() / 4)]];
    // The first set invoked after g was answered (answered or not).
    const RegisterOp* later = nullptr;
    for (const auto& op : ops) {
      if (op.is_set && op.invoked_us > g.completed_us &&
          (later == nullptr || op.invoked_us < later->invoked_us)) {
        later = &op;
      }
    }
    ASSERT_NE(later, nullptr);
    g.value = later->value;
    const auto r = check_register(ops);
    EXPECT_FALSE(r.linearizable);
    EXPECT_FALSE(r.gave_up);
    EXPECT_NE(r.explanation.find(describe_register_op(g)), std::string::npos) << r.explanation;
  }
}

TEST(LinearizabilityRandom, AGetCorruptedToReadAnOverwrittenValueFails) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto ops = random_history(seed, 4, 300, 0.05);
    const auto gets = answered_gets(ops);
    RegisterOp& g = ops[gets[gets.size() / 2 + seed % (gets.size() / 4)]];
    // s2: an answered set answered before g was sent; s1: an answered set answered before s2
    // was sent. After s2, s1's value never comes back.
    const RegisterOp* s2 = nullptr;
    for (const auto& op : ops) {
      if (op.is_set && op.completed && op.completed_us < g.invoked_us &&
          (s2 == nullptr || op.completed_us > s2->completed_us)) {
        s2 = &op;
      }
    }
    ASSERT_NE(s2, nullptr);
    const RegisterOp* s1 = nullptr;
    for (const auto& op : ops) {
      if (op.is_set && op.completed && op.completed_us < s2->invoked_us &&
          (s1 == nullptr || op.completed_us > s1->completed_us)) {
        s1 = &op;
      }
    }
    ASSERT_NE(s1, nullptr);
    g.value = s1->value;
    const auto r = check_register(ops);
    EXPECT_FALSE(r.linearizable);
    EXPECT_FALSE(r.gave_up);
    EXPECT_NE(r.explanation.find(describe_register_op(g)), std::string::npos) << r.explanation;
  }
}

TEST(LinearizabilityRandom, ASearchOverItsBudgetGivesUpWithoutAVerdict) {
  const auto r = check_register(random_history(3, 4, 500), std::nullopt, 100);
  EXPECT_TRUE(r.gave_up);
  EXPECT_FALSE(r.linearizable);  // no verdict is not a pass
  EXPECT_NE(r.explanation.find("gave up"), std::string::npos) << r.explanation;
  EXPECT_EQ(registers_linearizable({{"k", r}}).status, Status::kFail);
}

// The definition itself, for small histories: some order of the answered ops and of some of the
// unanswered sets respects real time (an op answered strictly before another was sent comes
// first) and the register's rules.
bool linearizable_by_brute_force(const std::vector<RegisterOp>& ops,
                                 const std::optional<std::string>& initial) {
  std::vector<size_t> sets_lost, must;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].completed) {
      must.push_back(i);
    } else if (ops[i].is_set) {
      sets_lost.push_back(i);
    }
  }
  for (size_t mask = 0; mask < (size_t{1} << sets_lost.size()); ++mask) {
    std::vector<size_t> order = must;
    for (size_t k = 0; k < sets_lost.size(); ++k) {
      if (mask & (size_t{1} << k)) order.push_back(sets_lost[k]);
    }
    std::sort(order.begin(), order.end());
    do {
      bool ok = true;
      std::optional<std::string> value = initial;
      for (size_t a = 0; ok && a < order.size(); ++a) {
        const RegisterOp& op = ops[order[a]];
        for (size_t b = a + 1; ok && b < order.size(); ++b) {
          const RegisterOp& later = ops[order[b]];
          if (later.completed && later.completed_us < op.invoked_us) ok = false;
        }
        if (!ok) break;
        if (op.is_set) {
          if (op.completed && op.old != value) ok = false;
          value = op.value;
        } else if (op.value != value) {
          ok = false;
        }
      }
      if (ok) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

TEST(LinearizabilityRandom, SmallHistoriesAgreeWithTheDefinition) {
  std::mt19937_64 rng(20240611);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::vector<std::optional<std::string>> values = {NIL, "a", "b", "c"};
  size_t yes = 0, no = 0;
  for (int round = 0; round < 3000; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<RegisterOp> ops;
    const int64_t n = uniform(1, 7);
    for (int64_t i = 0; i < n; ++i) {
      RegisterOp op;
      op.client = static_cast<int>(i);
      op.invoked_us = uniform(0, 50);
      op.completed_us = op.invoked_us + uniform(0, 30);
      op.completed = uniform(0, 5) != 0;
      op.is_set = uniform(0, 1) == 1;
      op.value = op.is_set ? values[static_cast<size_t>(uniform(1, 3))]
                           : values[static_cast<size_t>(uniform(0, 3))];
      if (op.is_set && op.completed) op.old = values[static_cast<size_t>(uniform(0, 3))];
      ops.push_back(op);
    }
    const std::optional<std::string> initial = values[static_cast<size_t>(uniform(0, 1))];
    const bool expected = linearizable_by_brute_force(ops, initial);
    const auto r = check_register(ops, initial);
    ASSERT_EQ(r.linearizable, expected) << r.explanation;
    ASSERT_FALSE(r.gave_up);
    if (!expected) {
      ASSERT_FALSE(r.explanation.empty());
    }
    ++(expected ? yes : no);
  }
  // Both verdicts were exercised.
  EXPECT_GT(yes, 300u);
  EXPECT_GT(no, 300u);
}

// ---- Cost: a process test's history (4 clients, a few thousand ops per key) ----

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(LinearizabilityCost, FourClientsThreeThousandOpsPassQuickly) {
  const auto ops = random_history(42, 4, 3000);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = check_register(ops);
  const double took = seconds_since(t0);
  EXPECT_TRUE(r.linearizable) << r.explanation;
  // Deterministic: the search goes about straight through (no wide backtracking).
  EXPECT_LT(r.steps, 20 * ops.size());
  // Well under a second in an optimized build; generous for sanitizer builds.
  EXPECT_LT(took, 5.0);
  RecordProperty("seconds", std::to_string(took));
  RecordProperty("steps", std::to_string(r.steps));
}

TEST(LinearizabilityCost, EightClientsWithUnansweredOpsPassQuickly) {
  const auto ops = random_history(7, 8, 2000, 0.05);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = check_register(ops);
  const double took = seconds_since(t0);
  EXPECT_TRUE(r.linearizable) << r.explanation;
  EXPECT_LT(r.steps, 50 * ops.size());
  EXPECT_LT(took, 5.0);
  RecordProperty("seconds", std::to_string(took));
  RecordProperty("steps", std::to_string(r.steps));
}

TEST(LinearizabilityCost, AStaleReadNearTheEndOfALongHistoryIsFoundWithinTheBudget) {
  auto ops = random_history(42, 4, 3000, 0.02);
  const auto gets = answered_gets(ops);
  RegisterOp& g = ops[gets[gets.size() - 10]];
  const RegisterOp* s2 = nullptr;
  for (const auto& op : ops) {
    if (op.is_set && op.completed && op.completed_us < g.invoked_us &&
        (s2 == nullptr || op.completed_us > s2->completed_us)) {
      s2 = &op;
    }
  }
  ASSERT_NE(s2, nullptr);
  const RegisterOp* s1 = nullptr;
  for (const auto& op : ops) {
    if (op.is_set && op.completed && op.completed_us < s2->invoked_us &&
        (s1 == nullptr || op.completed_us > s1->completed_us)) {
      s1 = &op;
    }
  }
  ASSERT_NE(s1, nullptr);
  g.value = s1->value;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = check_register(ops);
  const double took = seconds_since(t0);
  EXPECT_FALSE(r.linearizable);
  EXPECT_FALSE(r.gave_up);
  EXPECT_NE(r.explanation.find(describe_register_op(g)), std::string::npos) << r.explanation;
  EXPECT_LT(took, 5.0);
  RecordProperty("seconds", std::to_string(took));
  RecordProperty("steps", std::to_string(r.steps));
}

}  // namespace
}  // namespace oly::verify
