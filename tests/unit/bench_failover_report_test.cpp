// bench_failover's pure parts: the derived config and the report (bench/support/failover_run.h),
// and when a cluster counts as steady (olympics/steady.h).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "bench/support/failover_run.h"
#include "olympics/steady.h"

namespace oly::bench {
using namespace oly::olympics;
namespace {

const std::vector<std::string> kFes = {"fe1", "fe2"};

NodeSample fe(std::string role, std::map<std::string, std::string> info) {
  return {Stats{"x", std::move(role), {}, std::move(info)}, 1.0};
}

// fe1 master at epoch 3, fe2 following, both serving, tablets agreeing (file time 100).
ClusterSample steady() {
  ClusterSample s;
  s.nodes["fe1"] =
      fe("master", {{"master", "fe1"}, {"epoch", "3"}, {"suspected", ""}, {"serving", "fe1,fe2"}});
  s.nodes["fe2"] = fe("peer", {{"master", "fe1"}, {"epoch", "3"}, {"suspected", ""}});
  s.nodes["tablets"] = {Stats{"tablets", "tablets", {{"on_fe1", 25}}, {{"serving", "fe1,fe2"}}},
                        100.0};
  return s;
}

TEST(SteadyProblem, NoneWhenTheHomeMasterLeadsAndEveryoneServes) {
  EXPECT_EQ(steady_problem(steady(), kFes, 50.0), "");
}

TEST(SteadyProblem, NamesWhatIsNotSteadyYet) {
  struct Case {
    std::function<void(ClusterSample&)> change;
    std::string problem;
  };
  auto info = [](const char* node, const char* key, const char* value) {
    return [=](ClusterSample& s) { s.nodes[node].stats->info[key] = value; };
  };
  const std::vector<Case> cases = {
      {[](ClusterSample& s) { s.nodes["fe2"].stats.reset(); }, "fe2 does not answer"},
      {[](ClusterSample& s) { s.nodes["fe1"].stats->role = "peer"; }, "fe1 is not master"},
      {[&](ClusterSample& s) {
         info("fe2", "master", "fe2")(s);
         info("fe2", "epoch", "4")(s);
       },
       "fe2 follows fe2 at epoch 4, not fe1 at epoch 3"},
      {info("fe1", "suspected", "fe2"), "fe1 suspects fe2"},
      {info("fe2", "handoff", "in progress"), "fe2 is handing off"},
      {info("fe1", "serving", "fe1"), "the master serves tablets from fe1, not fe1,fe2"},
      {info("tablets", "serving", "fe2"), "the tablets read from fe2, not fe1,fe2"},
  };
  for (const auto& c : cases) {
    ClusterSample s = steady();
    c.change(s);
    EXPECT_EQ(steady_problem(s, kFes, 50.0), c.problem);
  }
  ClusterSample s = steady();
  EXPECT_EQ(steady_problem(s, kFes, 100.0), "waiting for newer tablets stats");
  s.nodes.erase("tablets");
  EXPECT_EQ(steady_problem(s, kFes, 50.0), "no stats from the tablets yet");
}

TEST(FailoverConfig, AppliesTheOverridesAndValidates) {
  FailoverOptions o;
  o.consistency = "pull";
  o.interval_ms = 20;
  o.timeout_ms = 100;
  o.tablets = 7;
  o.rate = 33;
  const Config c = failover_config(Config{}, o, "/tmp/x");
  EXPECT_EQ(c.run_dir, "/tmp/x");
  EXPECT_EQ(c.consistency, Consistency::kPull);
  EXPECT_EQ(c.heartbeat.interval_ms, 20);
  EXPECT_EQ(c.heartbeat.timeout_ms, 100);
  EXPECT_EQ(c.tablets.count, 7);
  EXPECT_EQ(c.cacofonix.rate, 33);
  o.timeout_ms = 30;  // less than twice the interval
  EXPECT_THROW(failover_config(Config{}, o, "/tmp/x"), ConfigError);
}

TEST(FormatFailover, OneTablePerKindOfKillAndOneLinePerKill) {
  FailoverRun run;
  run.config.heartbeat.timeout_ms = 500;
  run.options.tablets = 50;
  run.options.rate = 50;
  FailoverKill master;
  master.event.node = "fe1";
  master.event.was_master = true;
  master.reaction_seen = ms(600);
  FailoverKill peer;
  peer.event.node = "fe2";
  peer.event.was_master = false;
  run.kills = {master, peer};
  KillWindows w1;
  w1.publisher = ms(700);
  w1.tablets_first = {ms(400), ms(900)};
  w1.tablets_wait = {ms(300), ms(310)};
  w1.tablets_affected = 3;
  w1.tablets_without_read = 1;
  w1.handoff_gap = ms(250);
  const std::string text = format_failover(run, {w1, KillWindows{}});
  EXPECT_NE(text.find("kills of the master: 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kills of a non-master: 1\n"), std::string::npos) << text;
  // p50 / p99 / max, the timeout and p99 / timeout.
  EXPECT_NE(text.find("   publisher: first ack after the kill           1  700.0   700.0   700.0   "
                      "500         1.40\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("   tablets: first ok read after the kill         2  400.0   900.0   900.0   "
                      "500         1.80\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("   handoff: longest ack gap after the restart    1  250.0   250.0   250.0   "
                      "500         0.50\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 tablets of a killed front end never read successfully"),
            std::string::npos);
  EXPECT_NE(text.find("   1     fe1   master  600.0    700.0         -            2/3      900.0 "
                      "        310.0        250.0\n"),
            std::string::npos)
      << text;

  const auto json = nlohmann::json::parse(failover_json(run, {w1, KillWindows{}}));
  const auto& summary = json["summary"]["master"];
  EXPECT_EQ(summary["kills"], 1);
  EXPECT_EQ(summary["tablets_without_read"], 1);
  EXPECT_EQ(summary["publisher"],
            nlohmann::json({{"n", 1}, {"p50_ms", 700.0}, {"p99_ms", 700.0}, {"max_ms", 700.0}, {"p99_over_timeout", 1.4}}))
      << json.dump(2);
  EXPECT_EQ(json["kills"][0]["tablets_first_ms"], nlohmann::json({400.0, 900.0})) << json.dump(2);
  EXPECT_EQ(json["summary"]["nonmaster"]["publisher"]["n"], 0) << json.dump(2);
  EXPECT_TRUE(json["summary"]["nonmaster"]["publisher"]["p50_ms"].is_null()) << json.dump(2);
}

}  // namespace
}  // namespace oly::bench
