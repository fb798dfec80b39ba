// The pure pieces of the Byzantine mode (docs/byzantine.md): the publisher's signature, the OM(1)
// decision and the database's f + 1 rule, and the three together in a round-by-round run of four
// front ends with a traitor in every position and every strategy (flip, random, silent,
// equivocate), over many seeds. What must hold: the loyal front ends decide the same value, the
// commander's when it is loyal; the database applies nothing Cacofonix did not send, and applies
// Cacofonix's update when the commander is loyal.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "byzantine/om1.h"
#include "byzantine/quorum.h"
#include "byzantine/signed_update.h"
#include "byzantine/traitor.h"

namespace oly::byzantine {
namespace {

SetScore update(const std::string& event, int64_t gauls, int64_t romans, uint64_t seq = 7) {
  return SetScore{event, gauls, romans, "cacofonix-1", seq, std::nullopt, std::nullopt, {}};
}

TEST(Majority, TheValueHeldTwiceOfThreeElseNone) {
  EXPECT_EQ(majority({"a", "a", "b"}), Value("a"));
  EXPECT_EQ(majority({"b", "a", "a"}), Value("a"));
  EXPECT_EQ(majority({"a", "b", "c"}), std::nullopt);
  EXPECT_EQ(majority({std::nullopt, std::nullopt, "a"}), std::nullopt);
  EXPECT_EQ(majority({std::nullopt, "a", "a"}), Value("a"));
}

TEST(SignedUpdate, OnlyTheSignersKeyOverTheSameUpdateVerifies) {
  const SigningKeys bard = signing_keypair();
  const SigningKeys spy = signing_keypair();
  const SetScore u = update("Curling", 3, 1);
  const std::string sig = sign(u, bard.secret_key);
  EXPECT_TRUE(verify(u, sig, bard.public_key));
  EXPECT_FALSE(verify(u, sig, spy.public_key));
  EXPECT_FALSE(verify(u, sign(u, spy.secret_key), bard.public_key));
  // Any field changed, the seq or the publisher included: no longer verifies.
  EXPECT_FALSE(verify(update("Curling", 1, 3), sig, bard.public_key));
  EXPECT_FALSE(verify(update("Skating", 3, 1), sig, bard.public_key));
  EXPECT_FALSE(verify(update("Curling", 3, 1, 8), sig, bard.public_key));
  SetScore other = u;
  other.publisher = "cacofonix-2";
  EXPECT_FALSE(verify(other, sig, bard.public_key));
  // The token and the epoch, which front ends add or strip, are not signed.
  SetScore stamped = u;
  stamped.epoch = 4;
  stamped.token = "getafix";
  EXPECT_TRUE(verify(stamped, sig, bard.public_key));
  // A medal is not a score, and fields cannot slide into each other.
  const IncrementMedalTally medal{"Gauls", "gold", "cacofonix-1", 7, std::nullopt, std::nullopt, std::nullopt};
  EXPECT_FALSE(verify(medal, sig, bard.public_key));
  EXPECT_NE(canonical_bytes(IncrementMedalTally{"ab", "c", "p", 1, {}, {}, {}}),
            canonical_bytes(IncrementMedalTally{"a", "bc", "p", 1, {}, {}, {}}));
  EXPECT_FALSE(verify(u, "short", bard.public_key));
}

TEST(Om1Lieutenant, TheFirstMessageOfEachRightfulSenderCounts) {
  Om1Lieutenant l("fe1", {"fe3", "fe4"});
  EXPECT_FALSE(l.on_propose("fe3", "x"));  // not the commander
  EXPECT_TRUE(l.on_propose("fe1", "v"));
  EXPECT_FALSE(l.on_propose("fe1", "w"));  // a second proposal
  EXPECT_FALSE(l.commander_silent());
  EXPECT_FALSE(l.on_relay("fe1", "w"));    // the commander does not relay
  EXPECT_FALSE(l.on_relay("fe2", "w"));    // itself
  EXPECT_TRUE(l.on_relay("fe3", "w"));
  EXPECT_FALSE(l.heard_all());
  EXPECT_FALSE(l.on_relay("fe3", "v"));
  EXPECT_EQ(l.decide(), std::nullopt);     // v, w and a missing relay: no majority
  EXPECT_TRUE(l.on_relay("fe4", "v"));
  EXPECT_TRUE(l.heard_all());
  EXPECT_EQ(l.decide(), Value("v"));
  EXPECT_EQ(l.ignored(), 5);
}

TEST(Om1Lieutenant, ACommanderNeverHeardFromCountsAsNone) {
  Om1Lieutenant l("fe1", {"fe3", "fe4"});
  EXPECT_TRUE(l.commander_silent());
  ASSERT_TRUE(l.received().has_value());
  EXPECT_FALSE(l.received()->has_value());
  l.on_relay("fe3", "v");
  l.on_relay("fe4", "v");
  EXPECT_EQ(l.decide(), Value("v"));
}

TEST(SubmissionQuorum, TwoDistinctFrontEndsWithTheSameValueAndNoEquivocator) {
  SubmissionQuorum q;
  const UpdateId id{"cacofonix-1", 1};
  EXPECT_FALSE(q.submit(id, "fe1", "v").apply);
  EXPECT_FALSE(q.submit(id, "fe1", "v").apply);  // the same front end twice counts once
  EXPECT_FALSE(q.submit(id, "fe2", "w").apply);  // another value
  const auto done = q.submit(id, "fe3", "v");
  ASSERT_TRUE(done.apply);
  EXPECT_EQ(done.voters, (std::vector<std::string>{"fe1", "fe3"}));
  EXPECT_EQ(q.pending(), 0u);
  // An equivocator counts for neither of its values.
  const UpdateId id2{"cacofonix-1", 2};
  EXPECT_FALSE(q.submit(id2, "fe4", "v").apply);
  EXPECT_FALSE(q.submit(id2, "fe4", "w").apply);
  EXPECT_FALSE(q.submit(id2, "fe1", "w").apply);
  EXPECT_FALSE(q.submit(id2, "fe4", "w").apply);
  EXPECT_TRUE(q.submit(id2, "fe2", "w").apply);
}

// ------------------------------------------------ four front ends, one traitor, round by round

// The traitor's strategies are those of the injector (byzantine/traitor.h), told here at the level
// of OM(1)'s values rather than of frames.
// A value on the wire: an update and a signature, in one string.
std::string wire(const SetScore& u, const std::string& sig) { return canonical_bytes(u) + "|" + sig; }

struct World {
  SigningKeys bard = signing_keypair();
  SetScore sent = update("Curling", 5, 2);
  std::string genuine = wire(sent, sign(sent, bard.secret_key));
  // Whether the receivers check signatures; without, OM(1) alone must still make them agree.
  bool signed_mode = true;

  // What a receiver makes of a value: itself when its signature holds (or when not checking),
  // none otherwise. Only the genuine update can verify: Cacofonix signed nothing else for its id.
  Value check(const Value& v) const {
    if (!v) return v;
    if (!signed_mode) return v;
    return *v == genuine ? v : Value{};
  }
};

// What the traitor sends to `to` in place of the loyal `v`.
Value traitor_says(Strategy s, const Value& v, const std::string& to, std::mt19937_64& rng, const World& w) {
  switch (s) {
    case Strategy::kFlip: {
      SetScore f = w.sent;
      std::swap(f.gauls, f.romans);
      return wire(f, sign(w.sent, w.bard.secret_key));  // the old signature on new scores
    }
    case Strategy::kRandom: return "random-" + std::to_string(rng());
    case Strategy::kSilent: return std::nullopt;  // the caller sends nothing
    case Strategy::kEquivocate: {
      // A different story to each: the truth to one, a flipped update to another, nothing to the third.
      const int pick = static_cast<int>((std::hash<std::string>{}(to) + rng()) % 3);
      if (pick == 0) return v;
      if (pick == 1) return traitor_says(Strategy::kFlip, v, to, rng, w);
      return std::nullopt;
    }
  }
  return v;
}

struct Outcome {
  std::map<std::string, Value> decided;  // loyal front ends' decisions
  std::optional<std::string> applied;    // what the database applied, if anything
};

// One update through OM(1) and the database's rule; `traitor` is "" for none.
Outcome run(const World& w, const std::vector<std::string>& fes, const std::string& commander, const std::string& traitor,
            Strategy strategy, std::mt19937_64& rng) {
  std::vector<std::string> lieutenants;
  for (const auto& f : fes) {
    if (f != commander) lieutenants.push_back(f);
  }
  std::map<std::string, Om1Lieutenant> l;
  for (const auto& me : lieutenants) {
    std::vector<std::string> others;
    for (const auto& o : lieutenants) {
      if (o != me) others.push_back(o);
    }
    l.emplace(me, Om1Lieutenant(commander, others));
  }
  // Round 1. A traitor's silence is a message never sent; a lieutenant's round ends without it.
  for (const auto& to : lieutenants) {
    Value v = w.genuine;
    if (commander == traitor) {
      if (strategy == Strategy::kSilent) continue;
      v = traitor_says(strategy, v, to, rng, w);
      if (!v && strategy == Strategy::kEquivocate) continue;
    }
    l.at(to).on_propose(commander, w.check(v));
  }
  for (auto& [me, lt] : l) lt.commander_silent();  // round 1's end
  // Round 2.
  for (const auto& from : lieutenants) {
    for (const auto& to : lieutenants) {
      if (to == from) continue;
      Value v = *l.at(from).received();
      if (from == traitor) {
        if (strategy == Strategy::kSilent) continue;
        v = traitor_says(strategy, v, to, rng, w);
        if (!v && strategy == Strategy::kEquivocate) continue;
      }
      l.at(to).on_relay(from, w.check(v));
    }
  }
  Outcome out;
  std::map<std::string, Value> decision;
  decision[commander] = w.genuine;
  for (const auto& [me, lt] : l) decision[me] = lt.decide();
  for (const auto& f : fes) {
    if (f != traitor) out.decided[f] = decision[f];
  }
  // Submissions, in a random order; the traitor submits what its strategy makes of the truth,
  // to the database, which checks signatures as the lieutenants do.
  std::vector<std::pair<std::string, std::string>> submissions;
  for (const auto& f : fes) {
    if (f == traitor) {
      if (strategy == Strategy::kSilent) continue;
      for (int i = 0; i < 2; ++i) {  // twice, possibly two different values
        if (const Value v = traitor_says(strategy, w.genuine, "db" + std::to_string(i), rng, w)) submissions.emplace_back(f, *v);
      }
    } else if (decision[f]) {
      submissions.emplace_back(f, *decision[f]);
    }
  }
  std::shuffle(submissions.begin(), submissions.end(), rng);
  SubmissionQuorum quorum;
  for (const auto& [fe, v] : submissions) {
    if (!w.check(v)) continue;
    if (quorum.submit({w.sent.publisher, w.sent.seq}, fe, v).apply && !out.applied) out.applied = v;
  }
  return out;
}

class EveryTraitor : public ::testing::TestWithParam<bool> {};

TEST_P(EveryTraitor, LoyalFrontEndsAgreeAndTheDatabaseAppliesOnlyWhatCacofonixSent) {
  World w;
  w.signed_mode = GetParam();
  const std::vector<std::string> fes = {"fe1", "fe2", "fe3", "fe4"};
  int runs = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    std::mt19937_64 rng(seed);
    for (const auto& commander : fes) {
      for (const std::string traitor : {"", "fe1", "fe2", "fe3", "fe4"}) {
        for (const Strategy s : {Strategy::kFlip, Strategy::kRandom, Strategy::kSilent, Strategy::kEquivocate}) {
          const Outcome o = run(w, fes, commander, traitor, s, rng);
          ++runs;
          const std::string where = "commander " + commander + ", traitor " + (traitor.empty() ? "none" : traitor) +
                                    ", " + std::string(strategy_name(s)) + ", seed " + std::to_string(seed);
          // IC1: the loyal front ends decide the same value.
          const Value first = o.decided.begin()->second;
          for (const auto& [fe, v] : o.decided) ASSERT_EQ(v, first) << where << ": " << fe << " decided otherwise";
          const bool loyal_commander = commander != traitor;
          if (loyal_commander) {
            // IC2: the commander's value; and the database applies it.
            ASSERT_EQ(first, Value(w.genuine)) << where;
            ASSERT_EQ(o.applied, std::optional<std::string>(w.genuine)) << where;
          } else if (o.applied) {
            // A traitorous commander: whatever is applied is the loyal decision...
            ASSERT_EQ(Value(*o.applied), first) << where;
          }
          // ...and, with signatures, nothing but what Cacofonix sent is ever applied or decided.
          if (w.signed_mode) {
            if (o.applied) {
              ASSERT_EQ(*o.applied, w.genuine) << where;
            }
            if (first) {
              ASSERT_EQ(*first, w.genuine) << where;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(runs, 50 * 4 * 5 * 4);
}

INSTANTIATE_TEST_SUITE_P(Signatures, EveryTraitor, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? std::string("Checked") : std::string("OmOneAlone"); });

}  // namespace
}  // namespace oly::byzantine
