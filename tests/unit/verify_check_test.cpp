// The checker's verdicts on hand-made histories (verify/check.h, verify/report.h): a clean run passes
// every guarantee, and each defect fails exactly the guarantee that covers it.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "verify/check.h"
#include "verify/report.h"

namespace oly::verify {
namespace {

// Virtual times: the run starts at at_ms(0).
TimePoint at_ms(int64_t v) { return TimePoint(ms(100'000 + v)); }

constexpr int kTablets = 10;
constexpr int64_t kKillMs = 10'000;  // fe1, the master, is killed here ...
constexpr int64_t kBackMs = 13'000;  // ... and restarted here
constexpr int64_t kEndMs = 40'000;

// The database killed at `at`, and back at `back` when given.
Failure database_killed(TimePoint at, std::optional<TimePoint> back = std::nullopt) {
  Failure db;
  db.node = "database";
  db.database = true;
  db.how = "kill";
  db.at = at;
  db.back = back;
  return db;
}

// The clean run: Cacofonix publishes 10 updates of score/Curling (odd seqs) and tally/Gauls (even
// seqs), each committed 10 ms and acknowledged 20 ms after it is sent, through fe1 except while
// fe1 is down. Tablets 1-5 live on fe1, 6-10 on fe2; each reads one key (odd tablets the score)
// every second at an offset of 100 + 50 * i ms, and gets the latest committed version. While fe1
// is down its tablets time out once and then read from fe2 until 16 s.
class CleanRun {
 public:
  CleanRun() {
    in.run_dir = "/tmp/run";
    in.frontends = {"fe1", "fe2"};
    in.pull_bound = ms(1500);
    in.detect = ms(500);
    in.settle = ms(1000);
    in.read_interval = ms(1000);
    in.tablet_timeout = ms(300);
    in.events.start = at_ms(0);
    in.events.end = at_ms(kEndMs);
    Failure f;
    f.node = "fe1";
    f.how = "kill";
    f.was_master = true;
    f.at = at_ms(kKillMs);
    f.back = at_ms(kBackMs);
    in.events.failures.push_back(f);

    const int64_t sent[] = {2000, 5000, 8000, 9000, 11000, 12000, 14000, 20000, 30000, 38500};
    const char* medal[] = {"gold", "silver", "gold", "bronze", "gold"};
    for (int i = 0; i < 10; ++i) {
      const uint64_t seq = static_cast<uint64_t>(i + 1);
      const bool score = seq % 2 == 1;
      const std::string via = sent[i] > kKillMs && sent[i] < kBackMs ? "fe2" : "fe1";
      if (score) {
        publish(seq, "score/Curling", static_cast<int64_t>(seq), static_cast<int64_t>(seq / 2), "", sent[i], via);
      } else {
        publish(seq, "tally/Gauls", 0, 0, medal[i / 2], sent[i], via);
      }
    }
    rows_from_applied();

    for (int i = 1; i <= kTablets; ++i) {
      const std::string tablet = "tablet-" + std::to_string(i);
      const std::string key = i % 2 == 1 ? "score/Curling" : "tally/Gauls";
      const std::string home = i <= 5 ? "fe1" : "fe2";
      for (int64_t k = 0; k * 1000 < kEndMs; ++k) {
        const int64_t start = k * 1000 + 100 + 50 * i;
        if (home == "fe1" && start >= kKillMs && start < kKillMs + 300) {
          read(tablet, key, start, start + 300, "fe1", "timeout");
        } else {
          const bool moved = home == "fe1" && start >= kKillMs && start < 16'000;
          read(tablet, key, start, start + 20, moved ? "fe2" : home);
        }
      }
    }
  }

  // Recomputes the final rows from the applied log (in commit order).
  void rows_from_applied() {
    std::map<std::string, Score> scores;
    std::map<std::string, Tally> tallies;
    for (const auto& u : in.applied) {
      if (u.key.rfind("score/", 0) == 0) {
        Score& s = scores[u.key];
        s.event = u.key.substr(6);
        s.gauls = u.gauls;
        s.romans = u.romans;
        s.version = u.version;
      } else {
        Tally& t = tallies[u.key];
        t.team = u.key.substr(6);
        t.version = u.version;
        (u.medal == "gold" ? t.gold : u.medal == "silver" ? t.silver : t.bronze) += 1;
      }
    }
    in.scores.clear();
    in.tallies.clear();
    for (auto& [k, s] : scores) in.scores.push_back(s);
    for (auto& [k, t] : tallies) in.tallies.push_back(t);
  }

  Tally& tally() { return in.tallies.at(0); }
  Score& score() { return in.scores.at(0); }

  // Every read of `tablet` that started in [from_ms, to_ms).
  template <class F>
  void for_reads(const std::string& tablet, int64_t from_ms, int64_t to_ms, F&& f) {
    for (auto& r : in.reads) {
      if (r.tablet == tablet && r.start >= at_ms(from_ms) && r.start < at_ms(to_ms)) f(r);
    }
  }

  CheckInput in;

 private:
  void publish(uint64_t seq, const std::string& key, int64_t gauls, int64_t romans, const std::string& medal,
               int64_t sent_ms, const std::string& via) {
    const uint64_t version = ++versions_[key];
    database::AppliedUpdate u;
    u.publisher = "cacofonix-1";
    u.seq = seq;
    u.key = key;
    u.version = version;
    u.op = medal.empty() ? "set_score" : "increment_medal_tally";
    u.committed_at_us = to_us(at_ms(sent_ms + 10));
    u.gauls = gauls;
    u.romans = romans;
    u.medal = medal;
    in.applied.push_back(u);
    commits_[key][at_ms(sent_ms + 10)] = version;

    AckRecord a;
    a.publisher = u.publisher;
    a.seq = seq;
    a.op = u.op;
    a.key = key;
    a.detail = medal.empty() ? std::to_string(gauls) + "-" + std::to_string(romans) : medal;
    a.version = version;
    a.via = via;
    a.created = a.first_sent = at_ms(sent_ms);
    a.acked = at_ms(sent_ms + 20);
    in.acks.push_back(a);
  }

  void read(const std::string& tablet, const std::string& key, int64_t start_ms, int64_t end_ms,
            const std::string& fe, const std::string& outcome = "ok") {
    ReadRecord r;
    r.tablet = tablet;
    r.key = key;
    r.start = at_ms(start_ms);
    r.end = at_ms(end_ms);
    r.frontend = fe;
    r.outcome = outcome;
    if (outcome == "ok") {
      const auto& c = commits_[key];
      auto it = c.lower_bound(r.start);  // the latest version committed before the read started
      r.version = it == c.begin() ? 0 : std::prev(it)->second;
    }
    in.reads.push_back(r);
  }

  std::map<std::string, uint64_t> versions_;
  std::map<std::string, std::map<TimePoint, uint64_t>> commits_;
};

// Guarantee numbers as in check.h (1-7).
const Verdict& guarantee(const CheckReport& r, size_t n) { return r.verdicts.at(n - 1); }

// Every guarantee in `failing` is FAIL, every other one `others` (PASS by default).
void expect_failing(const CheckReport& r, const std::set<size_t>& failing, Status others = Status::kPass) {
  ASSERT_EQ(r.verdicts.size(), 7u);
  for (size_t n = 1; n <= 7; ++n) {
    const Verdict& v = guarantee(r, n);
    EXPECT_EQ(v.status, failing.contains(n) ? Status::kFail : others)
        << "guarantee " << n << " (" << v.guarantee << "): " << v.figures << "\n"
        << format_check(r);
  }
  EXPECT_EQ(r.passed(), failing.empty());
}

bool any_example_has(const Verdict& v, const std::string& text) {
  return std::any_of(v.examples.begin(), v.examples.end(),
                     [&](const std::string& e) { return e.find(text) != std::string::npos; });
}

using Json = nlohmann::json;

Json parsed_json(const CheckReport& r) { return Json::parse(check_json(r)); }

TEST(CheckRun, ACleanRunWithAMasterKillPassesEveryGuarantee) {
  const CheckReport r = check_run(CleanRun().in);
  expect_failing(r, {});
  EXPECT_EQ(r.acked, 10u);
  EXPECT_EQ(r.applied, 10u);
  EXPECT_EQ(r.applied_unacked, 0u);
  EXPECT_EQ(r.tablets, 10u);
  EXPECT_EQ(r.freshness.fidelity, 1.0);
  ASSERT_EQ(r.failures.size(), 1u);
  const FailureReport& f = r.failures[0];
  EXPECT_EQ(f.windows.publisher, ms(1020));  // the first ack via fe2, at 11.02 s
  EXPECT_EQ(f.windows.tablets_affected, 5u);
  EXPECT_EQ(f.windows.tablets_without_read, 0u);
  EXPECT_TRUE(r.baseline.judged);
  EXPECT_EQ(r.baseline.tablets, (std::map<std::string, size_t>{{"fe1", 5}, {"fe2", 5}}));
  EXPECT_EQ(f.during.tablets, (std::map<std::string, size_t>{{"fe1", 0}, {"fe2", 10}}));
  ASSERT_TRUE(f.after.judged);
  EXPECT_EQ(f.after.from, at_ms(38'000));
  EXPECT_EQ(f.after.to, at_ms(kEndMs));
  EXPECT_EQ(f.after.tablets, r.baseline.tablets);
  EXPECT_EQ(f.home_master_back, true);
}

TEST(NoUpdateLost, AnAcknowledgedUpdateNeverAppliedFails) {
  CleanRun run;
  AckRecord a = run.in.acks.back();
  a.seq = 11;
  a.key = "score/Javelin";
  a.op = "set_score";
  a.detail = "1-0";
  a.version = 1;
  a.created = a.first_sent = at_ms(39'000);
  a.acked = at_ms(39'020);
  run.in.acks.push_back(a);
  const CheckReport r = check_run(run.in);
  expect_failing(r, {1});
  EXPECT_EQ(r.lost, 1u);
  EXPECT_TRUE(any_example_has(guarantee(r, 1), "cacofonix-1 seq 11 (score/Javelin 1-0) acknowledged v1 via fe1 "
                                               "at 39.02 s, never applied"))
      << format_check(r);
}

TEST(NoUpdateLost, AnAckWhoseVersionDiffersFromTheAppliedOneFails) {
  CleanRun run;
  run.in.acks[0].version = 7;
  const CheckReport r = check_run(run.in);
  EXPECT_EQ(guarantee(r, 1).status, Status::kFail);
  EXPECT_TRUE(any_example_has(guarantee(r, 1), "applied as score/Curling v1"));
}

TEST(NoUpdateLost, AnUpdateAppliedWithAnotherValueThanSentFails) {
  // A traitorous front end (docs/byzantine.md) that changed the score on the way.
  CleanRun run;
  ASSERT_EQ(run.in.acks[0].op, "set_score");
  run.in.acks[0].detail = "9-9";
  const CheckReport r = check_run(run.in);
  EXPECT_EQ(guarantee(r, 1).status, Status::kFail);
  EXPECT_TRUE(any_example_has(guarantee(r, 1), "applied as score/Curling v1 ")) << format_check(r);
}

TEST(FreshReads, AReadOfAValueTheDatabaseNeverHeldFails) {
  // What a traitorous front end (docs/byzantine.md) answered and a tablet took: the version is one
  // the database applied, the value is not.
  CleanRun run;
  auto read = std::find_if(run.in.reads.begin(), run.in.reads.end(), [](const ReadRecord& r) {
    return r.outcome == "ok" && r.key == "score/Curling" && r.version == 1;
  });
  ASSERT_NE(read, run.in.reads.end());
  read->value = "1-0";  // seq 1 set Curling to 1-0
  EXPECT_EQ(guarantee(check_run(run.in), 4).status, Status::kPass) << format_check(check_run(run.in));
  read->value = "0-1";
  const CheckReport r = check_run(run.in);
  EXPECT_EQ(guarantee(r, 4).status, Status::kFail);
  EXPECT_TRUE(any_example_has(guarantee(r, 4), "read score/Curling v1 as 0-1")) << format_check(r);
  EXPECT_TRUE(any_example_has(guarantee(r, 4), "the database held 1-0")) << format_check(r);
  // A tally, replayed from its increments: gold (seq 2) makes v1 1/0/0.
  auto tally = std::find_if(run.in.reads.begin(), run.in.reads.end(), [](const ReadRecord& x) {
    return x.outcome == "ok" && x.key == "tally/Gauls" && x.version == 1;
  });
  ASSERT_NE(tally, run.in.reads.end());
  read->value = "";
  tally->value = "1/0/0";
  EXPECT_EQ(guarantee(check_run(run.in), 4).status, Status::kPass);
  tally->value = "0/1/0";
  EXPECT_EQ(guarantee(check_run(run.in), 4).status, Status::kFail);
}

TEST(NoUpdateLost, ATeamWithFewerMedalsThanCacofonixCountedFails) {
  CleanRun run;
  run.tally().gold -= 1;
  const CheckReport r = check_run(run.in);
  expect_failing(r, {1});
  EXPECT_TRUE(any_example_has(guarantee(r, 1), "tally/Gauls has 2 gold, Cacofonix counted 3"));
}

TEST(NoUpdateLost, AnUpdateAppliedWithoutAnAckIsAllowedAndCountsOnce) {
  CleanRun run;
  run.in.acks.pop_back();  // seq 10, a gold for the Gauls: the ack was lost, the apply was not
  const CheckReport r = check_run(run.in);
  expect_failing(r, {});
  EXPECT_EQ(r.acked, 9u);
  EXPECT_EQ(r.applied_unacked, 1u);
  EXPECT_NE(guarantee(r, 1).figures.find("1 applied without an ack"), std::string::npos);
}

TEST(NoUpdateAppliedTwice, AMedalMoreThanTheIncrementsFails) {
  CleanRun run;
  run.tally().silver += 1;
  const CheckReport r = check_run(run.in);
  expect_failing(r, {2});
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_TRUE(any_example_has(guarantee(r, 2), "tally/Gauls has 2 silver, Cacofonix counted 1"));
}

TEST(NoUpdateAppliedTwice, AKeyWhoseFinalVersionExceedsItsAppliesFails) {
  CleanRun run;
  run.score().version += 1;
  const CheckReport r = check_run(run.in);
  expect_failing(r, {2});  // not also out of order: one defect, one verdict
  EXPECT_TRUE(any_example_has(guarantee(r, 2), "score/Curling is at v6 after 5 applies"));
}

TEST(NoUpdateAppliedTwice, AnUpdateTwiceInTheAppliedLogFails) {
  CleanRun run;
  database::AppliedUpdate again = run.in.applied.back();  // seq 10, a gold
  again.version = 6;
  again.committed_at_us = to_us(at_ms(39'900));
  run.in.applied.push_back(again);
  run.rows_from_applied();
  const CheckReport r = check_run(run.in);
  expect_failing(r, {2});
  EXPECT_TRUE(any_example_has(guarantee(r, 2), "cacofonix-1 seq 10 (tally/Gauls) applied 2 times, at 38.51 s, 39.90 s"))
      << format_check(r);
  EXPECT_TRUE(any_example_has(guarantee(r, 2), "tally/Gauls has 4 gold, Cacofonix counted 3"));
}

TEST(UpdatesAppliedInOrder, SeqsCommittedOneThreeTwoFail) {
  CleanRun run;
  auto& two = run.in.applied[1];
  auto& three = run.in.applied[2];
  std::swap(two.committed_at_us, three.committed_at_us);  // commit order: 1, 3, 2
  const CheckReport r = check_run(run.in);
  expect_failing(r, {3});
  EXPECT_GE(r.reordered, 1u);
  EXPECT_TRUE(any_example_has(guarantee(r, 3), "cacofonix-1 seq 3 applied at 5.01 s when seq 2 was next"))
      << format_check(r);
}

TEST(UpdatesAppliedInOrder, AKeysVersionsGoingBackFail) {
  CleanRun run;
  database::AppliedUpdate u = run.in.applied.front();
  u.publisher = "cacofonix-2";  // another publisher, applied without acks, that nobody reads
  u.key = "score/Javelin";
  u.seq = 1;
  u.version = 2;
  u.committed_at_us = to_us(at_ms(39'000));
  run.in.applied.push_back(u);
  u.seq = 2;
  u.version = 1;
  u.committed_at_us = to_us(at_ms(39'100));
  run.in.applied.push_back(u);
  run.rows_from_applied();
  for (auto& s : run.in.scores) {
    if (s.event == "Javelin") s.version = 2;  // as many versions as applies
  }
  const CheckReport r = check_run(run.in);
  expect_failing(r, {3});
  EXPECT_TRUE(any_example_has(guarantee(r, 3), "score/Javelin v2 applied at 39.00 s after v0"));
  EXPECT_TRUE(any_example_has(guarantee(r, 3), "score/Javelin v1 applied at 39.10 s after v2"));
}

TEST(UpdatesAppliedInOrder, AFinalScoreThatIsNotTheLastAppliedOneFails) {
  CleanRun run;
  run.score().gauls = 3;  // seq 3's score, though seq 9 was applied last
  const CheckReport r = check_run(run.in);
  expect_failing(r, {3});
}

TEST(PushConsistency, AReadStartedAfterTheAckOfANewerVersionFails) {
  CleanRun run;
  // tablet-1 reads score/Curling at 8.15 s; v2 was acknowledged at 8.02 s.
  run.for_reads("tablet-1", 8000, 9000, [](ReadRecord& r) { r.version = 1; });
  const CheckReport r = check_run(run.in);
  expect_failing(r, {4});
  EXPECT_EQ(r.freshness.stale_after_ack, 1u);
  EXPECT_EQ(guarantee(r, 4).guarantee, "no read older than an acknowledged update");
  EXPECT_TRUE(any_example_has(guarantee(r, 4), "tablet-1 read score/Curling v1 from fe1 at 8.15 s"))
      << format_check(r);
}

TEST(PushConsistency, TheReadsThatWereNotOkAreNamedByOutcome) {
  CleanRun run;
  run.for_reads("tablet-1", 8000, 9000, [](ReadRecord& r) { r.outcome = "lost"; });
  const CheckReport r = check_run(run.in);
  const size_t lost = r.freshness.not_ok.at("lost");
  ASSERT_GT(lost, 0u);
  const std::string& figures = guarantee(r, 4).figures;
  EXPECT_NE(figures.find(" (" + std::to_string(lost) + " lost with their front end's connection, retried on the next"),
            std::string::npos)
      << figures;
  EXPECT_NE(figures.find(std::to_string(r.freshness.not_ok.at("timeout")) + " timed out)"), std::string::npos) << figures;
}

// Gossip mode: a read answered `partial` (docs/gossip.md) may be older than an acknowledged update
// and than the tablet's earlier read: counted apart, not failed. Its value must still be one the
// database held.
TEST(PushConsistency, PartialReadsAreCountedApartButTheirValuesAreStillJudged) {
  CleanRun run;
  run.for_reads("tablet-1", 8000, 9000, [](ReadRecord& r) {
    r.version = 1;
    r.outcome = "partial";
  });
  CheckReport r = check_run(run.in);
  expect_failing(r, {});
  const size_t partial = r.freshness.not_ok.at("partial");
  ASSERT_GT(partial, 0u);
  EXPECT_NE(guarantee(r, 4).figures.find(std::to_string(partial) + " answered partial (gossip mode"), std::string::npos)
      << guarantee(r, 4).figures;
  auto read = std::find_if(run.in.reads.begin(), run.in.reads.end(), [](const ReadRecord& x) {
    return x.outcome == "partial" && x.key == "score/Curling";
  });
  ASSERT_NE(read, run.in.reads.end());
  read->value = "0-1";  // v1 of Curling was 1-0
  r = check_run(run.in);
  expect_failing(r, {4});
  EXPECT_TRUE(any_example_has(guarantee(r, 4), "the database held 1-0")) << format_check(r);
}

TEST(PullConsistency, StaleReadsUpToTheBoundPassAndOneBeyondItFails) {
  CleanRun run;
  run.in.consistency = Consistency::kPull;
  // tablet-7 keeps returning v1 of score/Curling after v2 was committed at 8.01 s: at 8.45 s
  // (440 ms stale) and 9.45 s (1440 ms stale).
  run.for_reads("tablet-7", 8000, 10'000, [](ReadRecord& r) { r.version = 1; });
  run.in.pull_bound = ms(1440);
  CheckReport r = check_run(run.in);
  expect_failing(r, {});
  EXPECT_EQ(guarantee(r, 4).guarantee, "reads within the pull bound");
  EXPECT_EQ(r.freshness.stale.size(), 2u);
  EXPECT_EQ(parsed_json(r)["freshness"]["over_bound"], 0);

  run.in.pull_bound = ms(1439);
  r = check_run(run.in);
  expect_failing(r, {4});
  EXPECT_TRUE(any_example_has(guarantee(r, 4), "tablet-7 read score/Curling at 9.45 s, 1440.0 ms stale"))
      << format_check(r);
  EXPECT_EQ(parsed_json(r)["freshness"]["over_bound"], 1);
}

TEST(MonotonicReads, AReadOlderThanTheTabletsEarlierReadFails) {
  CleanRun run;
  // v2 was committed at 8.01 s and acknowledged at 8.02 s: reading v1 at 8.016 s is not older than
  // an ack, but tablet-1 had read v2 just before.
  ReadRecord r1 = run.in.reads.front();
  r1.tablet = "tablet-1";
  r1.key = "score/Curling";
  r1.frontend = "fe1";
  r1.outcome = "ok";
  r1.version = 2;
  r1.start = at_ms(8012);
  r1.end = at_ms(8014);
  ReadRecord r2 = r1;
  r2.version = 1;
  r2.start = at_ms(8016);
  r2.end = at_ms(8018);
  run.in.reads.push_back(r1);
  run.in.reads.push_back(r2);
  const CheckReport r = check_run(run.in);
  expect_failing(r, {5});
  EXPECT_EQ(r.freshness.backwards, 1u);
  EXPECT_TRUE(any_example_has(guarantee(r, 5), "tablet-1 read score/Curling v1 from fe1 at 8.02 s after v2"))
      << format_check(r);
}

TEST(Recovery, AFailureAfterWhichCacofonixIsNeverAcknowledgedFails) {
  CleanRun run;
  // After the last ack; never restarted.
  run.in.events.failures.push_back(database_killed(at_ms(39'000)));
  const CheckReport r = check_run(run.in);
  expect_failing(r, {6});
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_FALSE(r.failures[1].windows.publisher);
  EXPECT_EQ(r.failures[1].windows.tablets_affected, 10u);  // the database affects every tablet
  EXPECT_TRUE(any_example_has(guarantee(r, 6), "database (kill) at 39.00 s: Cacofonix never acknowledged again"));
}

TEST(Recovery, AnAffectedTabletThatNeverReadsAgainFails) {
  CleanRun run;
  run.for_reads("tablet-2", kKillMs, kEndMs, [](ReadRecord& r) {
    r.outcome = "timeout";
    r.version = 0;
  });
  const CheckReport r = check_run(run.in);
  expect_failing(r, {6});  // 4 of 5 tablets back on fe1 is within the rebalancing tolerance
  EXPECT_EQ(r.failures[0].windows.tablets_without_read, 1u);
  EXPECT_TRUE(any_example_has(guarantee(r, 6), "fe1 (kill) at 10.00 s: 1 of 5 affected tablets never read"));
}

TEST(Rebalancing, TabletsLeftOnThePeerAfterRecoveryFail) {
  CleanRun run;
  for (auto& r : run.in.reads) {
    if (r.frontend == "fe1" && r.start >= at_ms(16'000)) r.frontend = "fe2";
  }
  const CheckReport r = check_run(run.in);
  expect_failing(r, {7});
  EXPECT_EQ(r.failures[0].after.tablets, (std::map<std::string, size_t>{{"fe1", 0}, {"fe2", 10}}));
  EXPECT_TRUE(any_example_has(guarantee(r, 7), "fe1 0 fe2 10, baseline fe1 5 fe2 5 (tolerance 2)"))
      << format_check(r);
}

// A first failure before every tablet has read: the baseline saw fe1 2 fe2 2 of the 10 tablets,
// the recovery period fe1 5 fe2 5, the same split. Scaled to the same number of tablets it passes;
// compared as counts (3 apart, tolerance 2) it would not.
TEST(Rebalancing, ABaselineTakenBeforeEveryTabletHadReadIsScaledToTheSameNumberOfTablets) {
  CleanRun run;
  const std::set<std::string> late = {"tablet-1", "tablet-2", "tablet-3", "tablet-6", "tablet-7", "tablet-8"};
  std::erase_if(run.in.reads, [&](const ReadRecord& r) { return late.count(r.tablet) && r.end < at_ms(kKillMs); });
  const CheckReport r = check_run(run.in);
  EXPECT_EQ(r.baseline.tablets, (std::map<std::string, size_t>{{"fe1", 2}, {"fe2", 2}}));
  EXPECT_EQ(r.failures[0].after.tablets, (std::map<std::string, size_t>{{"fe1", 5}, {"fe2", 5}}));
  EXPECT_EQ(guarantee(r, 7).status, Status::kPass) << format_check(r);
  // The same partial baseline with every tablet left on fe2 afterwards still fails.
  for (auto& rd : run.in.reads) {
    if (rd.frontend == "fe1" && rd.start >= at_ms(16'000)) rd.frontend = "fe2";
  }
  expect_failing(check_run(run.in), {7});
}

TEST(Rebalancing, AcksThroughAnotherFrontEndThanTheHomeMasterAfterRecoveryFail) {
  CleanRun run;
  for (auto& a : run.in.acks) {
    if (a.acked > at_ms(16'000)) a.via = "fe2";
  }
  const CheckReport r = check_run(run.in);
  expect_failing(r, {7});
  EXPECT_EQ(r.failures[0].home_master_back, false);
}

TEST(Rebalancing, NotJudgedWithoutALongEnoughRecoveryPeriod) {
  CleanRun run;
  run.in.events.end = at_ms(kBackMs + 2000);  // back + settle + detect + interval is past the end
  const CheckReport r = check_run(run.in);
  EXPECT_FALSE(r.failures[0].after.judged);
  EXPECT_EQ(guarantee(r, 7).status, Status::kNotJudged);
  EXPECT_NE(guarantee(r, 7).figures.find("long enough recovery period"), std::string::npos);
}

// Gossip mode with two publishers writing one event at once (docs/gossip.md, "Concurrent
// writers"): a's set_score (written later) and b's, each accepted at its own replica, reach the
// other replica second. db1 applies a then b, which leaves a's score (kept); db2 applies b then a.
// So v1 is 3-0 at db1 and 5-0 at db2, and both end at 3-0 v2.
struct ConcurrentWriters {
  ConcurrentWriters() {
    in.run_dir = "/tmp/run";
    in.frontends = {"fe1", "fe2"};
    in.events.start = at_ms(0);
    in.events.end = at_ms(2000);
    const auto apply = [](const std::string& p, int64_t gauls, uint64_t version, int64_t at) {
      database::AppliedUpdate u;
      u.publisher = p;
      u.seq = 1;
      u.key = "score/Curling";
      u.version = version;
      u.op = "set_score";
      u.committed_at_us = to_us(at_ms(at));
      u.gauls = gauls;
      return u;
    };
    db1 = {"db1", {apply("a", 3, 1, 100), apply("b", 3, 2, 110)}, {Score{"Curling", 3, 0, 2, 0}}, {}};
    db2 = {"db2", {apply("b", 5, 1, 110), apply("a", 3, 2, 100)}, {Score{"Curling", 3, 0, 2, 0}}, {}};
    for (const auto& [p, gauls, at] : std::vector<std::tuple<std::string, int64_t, int64_t>>{{"a", 3, 100}, {"b", 5, 110}}) {
      AckRecord a;
      a.publisher = p;
      a.seq = 1;
      a.op = "set_score";
      a.key = "score/Curling";
      a.detail = std::to_string(gauls) + "-0";
      a.version = 1;
      a.via = "fe1";
      a.created = a.first_sent = at_ms(at - 5);
      a.acked = at_ms(at + 5);
      in.acks.push_back(a);
    }
    for (const auto& [tablet, version, value, at] : std::vector<std::tuple<std::string, uint64_t, std::string, int64_t>>{
             {"t1", 1, "3-0", 200}, {"t2", 1, "5-0", 200}, {"t1", 2, "3-0", 400}, {"t2", 2, "3-0", 400}}) {
      ReadRecord r;
      r.tablet = tablet;
      r.key = "score/Curling";
      r.start = at_ms(at);
      r.end = at_ms(at + 1);
      r.frontend = "fe1";
      r.outcome = "ok";
      r.version = version;
      r.value = value;
      in.reads.push_back(r);
    }
    in.applied = db1.applied;
    in.scores = db1.scores;
  }
  CheckReport judged() {
    in.replicas = {db1, db2};
    return check_run(in);
  }
  CheckInput in;
  CheckInput::ReplicaRecord db1, db2;
};

TEST(GossipRecords, ConcurrentPublishersAreJudgedOnEachReplicasOwnRecord) {
  ConcurrentWriters w;
  const CheckReport one_history = check_run(w.in);
  EXPECT_EQ(guarantee(one_history, 1).status, Status::kFail) << "b's ack (v1 5-0) is not in db1's history";
  EXPECT_EQ(guarantee(one_history, 4).status, Status::kFail) << "t2's 5-0 at v1 is not db1's";
  const CheckReport r = w.judged();
  for (size_t n = 1; n <= 5; ++n) EXPECT_EQ(guarantee(r, n).status, Status::kPass) << n << "\n" << format_check(r);
  EXPECT_NE(guarantee(r, 1).figures.find("all applied on each of 2 replicas"), std::string::npos) << guarantee(r, 1).figures;
  EXPECT_NE(guarantee(r, 3).figures.find("each of 2 replicas' records"), std::string::npos) << guarantee(r, 3).figures;
}

TEST(GossipRecords, AnUpdateMissingFromOneReplicaOrAppliedWithAValueNoneHeldFails) {
  {
    ConcurrentWriters w;
    w.db2.applied.pop_back();  // db2 never applied a's
    w.db2.scores[0] = Score{"Curling", 5, 0, 1, 0};
    const CheckReport r = w.judged();
    EXPECT_EQ(guarantee(r, 1).status, Status::kFail);
    EXPECT_TRUE(any_example_has(guarantee(r, 1), "never applied at db2")) << format_check(r);
  }
  {
    ConcurrentWriters w;
    w.db1.applied[0].gauls = 4;  // a's applied as 4-0 at db1 (its acceptor): no replica holds 3-0 at v1
    w.db1.applied[1].gauls = 4;
    w.db1.scores[0].gauls = 4;
    const CheckReport r = w.judged();
    EXPECT_EQ(guarantee(r, 1).status, Status::kFail);
    EXPECT_TRUE(any_example_has(guarantee(r, 1), "no replica applied it as score/Curling v1 3-0")) << format_check(r);
  }
  {
    ConcurrentWriters w;
    w.db2.applied[1].version = 3;  // db2 skips v2
    w.db2.scores[0].version = 3;
    const CheckReport r = w.judged();
    EXPECT_EQ(guarantee(r, 3).status, Status::kFail);
    EXPECT_TRUE(any_example_has(guarantee(r, 3), "db2: score/Curling v3")) << format_check(r);
    EXPECT_NE(guarantee(r, 3).figures.find("db2's record"), std::string::npos) << guarantee(r, 3).figures;
  }
  {
    ConcurrentWriters w;
    w.in.reads[1].value = "6-0";  // a value no replica held at v1
    const CheckReport r = w.judged();
    EXPECT_EQ(guarantee(r, 4).status, Status::kFail);
  }
}

TEST(CheckRun, WithoutFailuresRecoveryAndRebalancingAreNotJudgedAndTheRunPasses) {
  CleanRun run;
  run.in.events.failures.clear();
  const CheckReport r = check_run(run.in);
  for (size_t n = 1; n <= 5; ++n) EXPECT_EQ(guarantee(r, n).status, Status::kPass) << n;
  EXPECT_EQ(guarantee(r, 6).status, Status::kNotJudged);
  EXPECT_EQ(guarantee(r, 7).status, Status::kNotJudged);
  EXPECT_TRUE(r.passed());
  EXPECT_NE(format_check(r).find("verdict: PASS (7 guarantees: 5 passed, 2 not judged)"), std::string::npos)
      << format_check(r);
}

TEST(DatabaseFailure, ThePublisherWindowCountsOnlyAcksOfUpdatesCommittedAfterIt) {
  CleanRun run;
  // Seq 8 was committed at 20.01 s and is acknowledged at 20.02 s.
  run.in.events.failures = {database_killed(at_ms(20'015), at_ms(21'000))};
  const CheckReport r = check_run(run.in);
  expect_failing(r, {});
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].windows.publisher, ms(10'005));  // seq 9's ack at 30.02 s
  EXPECT_EQ(r.failures[0].windows.tablets_affected, 10u);
}

TEST(CheckRun, StartsAtTheFirstRecordWithoutAStartEvent) {
  CleanRun run;
  run.in.events.start.reset();
  const CheckReport r = check_run(run.in);
  EXPECT_EQ(r.start, at_ms(150));  // tablet-1's first read
}

TEST(FormatCheck, ShowsTheTitleOneLinePerGuaranteeTheFailuresAndTheVerdict) {
  const std::string text = format_check(check_run(CleanRun().in));
  EXPECT_EQ(text.rfind("check of /tmp/run: push, 2 front ends, 10 tablets, 10 acknowledged updates, ", 0), 0u)
      << text;
  EXPECT_NE(text.find("  PASS  no acknowledged update lost  "), std::string::npos) << text;
  EXPECT_NE(text.find("  PASS  rebalanced after recovery  "), std::string::npos) << text;
  EXPECT_NE(text.find("home master back"), std::string::npos) << text;
  EXPECT_NE(text.find("fe1 5 fe2 5"), std::string::npos) << text;
  EXPECT_NE(text.find("fe1 0 fe2 10"), std::string::npos) << text;
  EXPECT_NE(text.find("master"), std::string::npos) << text;
  EXPECT_NE(text.find("1020.0"), std::string::npos) << text;  // the publisher window
  EXPECT_NE(text.find("\nverdict: PASS (7 guarantees: 7 passed)\n"), std::string::npos) << text;
}

TEST(FormatCheck, AFailedGuaranteeListsItsExamplesAndNamesItInTheVerdict) {
  CleanRun run;
  run.tally().gold -= 1;
  const CheckReport r = check_run(run.in);
  EXPECT_FALSE(r.passed());
  const std::string text = format_check(r);
  EXPECT_NE(text.find("  FAIL  no acknowledged update lost"), std::string::npos) << text;
  EXPECT_NE(text.find("\n          - tally/Gauls has 2 gold, Cacofonix counted 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: FAIL (7 guarantees: 6 passed, 1 failed; lost update)"), std::string::npos)
      << text;
}

TEST(CheckJson, IsOneObjectWithTheVerdictsCountsAndFailures) {
  const std::string text = check_json(check_run(CleanRun().in));
  const Json json = Json::parse(text);
  EXPECT_EQ(json["pass"], true) << text;
  EXPECT_EQ(json["run_dir"], "/tmp/run");
  EXPECT_EQ(json["consistency"], "push");
  ASSERT_EQ(json["guarantees"].size(), 7u) << text;
  EXPECT_EQ(json["guarantees"][0]["name"], "no acknowledged update lost");
  EXPECT_EQ(json["guarantees"][0]["status"], "PASS");
  EXPECT_EQ(json["counts"]["acked"], 10);
  EXPECT_EQ(json["counts"]["applied"], 10);
  EXPECT_EQ(json["freshness"]["reads"], 400);
  EXPECT_TRUE(json["freshness"]["over_bound"].is_null());
  EXPECT_EQ(json["unavailability"]["publisher"]["n"], 1);
  EXPECT_DOUBLE_EQ(json["unavailability"]["publisher"]["p50_ms"].get<double>(), 1020.0);
  ASSERT_EQ(json["failures"].size(), 1u) << text;
  const Json& f = json["failures"][0];
  EXPECT_EQ(f["node"], "fe1");
  EXPECT_EQ(f["how"], "kill");
  EXPECT_EQ(f["role"], "master");
  EXPECT_DOUBLE_EQ(f["at_s"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(f["back_s"].get<double>(), 13.0);
  EXPECT_DOUBLE_EQ(f["publisher_ms"].get<double>(), 1020.0);
  EXPECT_EQ(f["after"]["judged"], true);
  EXPECT_DOUBLE_EQ(f["after"]["from_s"].get<double>(), 38.0);
  EXPECT_DOUBLE_EQ(f["after"]["to_s"].get<double>(), 40.0);
  EXPECT_EQ(f["after"]["tablets"], (Json{{"fe1", 5}, {"fe2", 5}}));
  EXPECT_EQ(f["home_master_back"], true);
}

TEST(CheckJson, AFailingRunSaysPassFalse) {
  CleanRun run;
  run.in.applied.pop_back();
  run.rows_from_applied();
  const CheckReport r = check_run(run.in);
  EXPECT_EQ(guarantee(r, 1).status, Status::kFail);
  const Json json = parsed_json(r);
  EXPECT_EQ(json["pass"], false);
  EXPECT_EQ(json["guarantees"][0]["status"], "FAIL");
}

}  // namespace
}  // namespace oly::verify
