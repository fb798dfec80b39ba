// The demo's live view and its verdict.
#include <gtest/gtest.h>

#include "olympics/demo.h"

namespace oly::olympics {
namespace {

NodeStatus row(const std::string& node, NodeKind kind) {
  NodeStatus r;
  r.node = node;
  r.kind = kind_name(kind);
  r.state = "up";
  return r;
}

std::vector<NodeStatus> rows() {
  auto fe1 = row("fe1", NodeKind::kFrontend);
  fe1.role = "master";
  fe1.epoch = "1";
  fe1.tablets = 25;
  fe1.rate = 40;
  auto fe2 = row("fe2", NodeKind::kFrontend);
  fe2.role = "peer";
  fe2.tablets = 24;
  auto caco = row("cacofonix", NodeKind::kCacofonix);
  caco.acked = 120;
  caco.rate = 20;
  auto tablets = row("tablets", NodeKind::kTablets);
  tablets.reads_ok = 400;
  tablets.reads_failed = 2;
  return {row("db", NodeKind::kDatabase), fe1, fe2, caco, tablets};
}

TEST(FormatView, ShowsScoresTalliesFrontEndsAndClientProgress) {
  Scoreboard board;
  board.scores = {{"Curling", 3, 2, 5, 0}, {"Luge", 0, 1, 1, 0}};
  board.tallies = {{"Gauls", 2, 1, 0, 3}, {"Romans", 0, 0, 1, 1}};
  const auto view = format_view(6, &board, "fe1", rows());
  EXPECT_EQ(view.rfind("--- 6 s ---", 0), 0u) << view;
  EXPECT_NE(view.find("scoreboard from fe1"), std::string::npos);
  EXPECT_NE(view.find("Curling  3:2  v5"), std::string::npos) << view;
  EXPECT_NE(view.find("Gauls   2 gold  1 silver  0 bronze  v3"), std::string::npos) << view;
  EXPECT_NE(view.find("fe1  up  master  epoch 1  25 tablets  40.0 req/s"), std::string::npos)
      << view;
  EXPECT_NE(view.find("fe2  up  peer"), std::string::npos) << view;
  EXPECT_NE(view.find("updates acked 120 (20.0/s)   reads 400 ok, 2 failed"), std::string::npos)
      << view;
}

TEST(FormatView, SaysSoWhenNoFrontEndAnswered) {
  const auto view = format_view(3, nullptr, "", {});
  EXPECT_NE(view.find("scoreboard: no front end answered"), std::string::npos);
  EXPECT_NE(view.find("clients: no stats yet"), std::string::npos);
}

TEST(DemoSummary, PassesWhenUpdatesWereAckedAndReadsSucceeded) {
  const DemoSummary s = summarize(rows());
  EXPECT_EQ(s.acked, 120);
  EXPECT_EQ(s.reads_ok, 400);
  EXPECT_EQ(s.reads_failed, 2);
  EXPECT_EQ(s.tablets, (std::vector<std::pair<std::string, int64_t>>{{"fe1", 25}, {"fe2", 24}}));
  EXPECT_TRUE(s.passed());
  const auto text = format_summary(s, 30);
  EXPECT_NE(text.find("tablets per front end  fe1 25, fe2 24"), std::string::npos) << text;
  EXPECT_EQ(format_verdict(s, std::vector<std::string>{}, "run/d"),
            "demo: PASS: 120 updates acknowledged, 400 reads ok, every guarantee kept (run directory run/d)\n");
}

TEST(DemoSummary, FailsWithoutAcknowledgedUpdatesOrReadsOrWhenInterrupted) {
  DemoSummary s = summarize(rows());
  s.acked = 0;
  EXPECT_FALSE(s.passed());
  EXPECT_EQ(format_verdict(s, std::vector<std::string>{}, "d"),
            "demo: FAIL: no update was acknowledged (logs and records in d)\n");
  s = summarize(rows());
  s.reads_ok = 0;
  EXPECT_EQ(format_verdict(s, std::vector<std::string>{"none lost", "fresh reads"}, "d"),
            "demo: FAIL: no tablet read succeeded; the checker found broken: none lost, fresh reads (logs and records in d)\n");
  s = summarize(rows());
  s.interrupted = true;
  EXPECT_FALSE(s.passed());
  EXPECT_EQ(format_verdict(s, std::nullopt, "d"),
            "demo: FAIL: interrupted; the checker could not judge the run (logs and records in d)\n");
}

TEST(DemoSummary, ClientsThatNeverReportedCountAsNothing) {
  const DemoSummary s = summarize({row("fe1", NodeKind::kFrontend)});
  EXPECT_EQ(s.acked, 0);
  EXPECT_EQ(s.tablets, (std::vector<std::pair<std::string, int64_t>>{{"fe1", 0}}));
  EXPECT_FALSE(s.passed());
}

}  // namespace
}  // namespace oly::olympics
