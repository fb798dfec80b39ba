// The live scoreboard page (api/static/index.html) in a real headless Chromium against a running
// cluster: it shows the database's scores, shows a score published afterwards within a second,
// and when its front end is killed goes on updating from the other one. Screenshots are saved
// beside the test (scoreboard.png, scoreboard-after-failover.png, scoreboard-phone.png) for the
// README. It is also laid out in one column on a phone, and its type grows on a wall screen.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "api/board.h"
#include "common/key.h"
#include "tests/browser/chromium.h"
#include "tests/support/cluster.h"
#include "tests/support/http_client.h"

namespace oly::testing {
namespace {

using std::chrono::milliseconds;

// Where the screenshots go: $OLY_SCREENSHOT_DIR, else the test's working directory.
std::string screenshot_path(const std::string& name) {
  const char* dir = std::getenv("OLY_SCREENSHOT_DIR");
  const std::filesystem::path p = std::filesystem::path(dir != nullptr ? dir : ".") / name;
  return std::filesystem::absolute(p).string();
}

// The database's version of every key, as "score/Curling" -> version.
std::map<std::string, uint64_t> database_versions(ProcessCluster& cluster) {
  std::map<std::string, uint64_t> out;
  const auto reply = cluster.ask("db", GetScoreboard{});
  if (!reply || !reply->is<Scoreboard>()) return out;
  for (const auto& s : reply->as<Scoreboard>().scores) out[Key::score(s.event).str()] = s.version;
  for (const auto& t : reply->as<Scoreboard>().tallies) out[Key::tally(t.team).str()] = t.version;
  return out;
}

// JavaScript: whether every row of the page shows the version given for its key.
std::string page_shows(const std::map<std::string, uint64_t>& versions) {
  nlohmann::json want = nlohmann::json::object();
  for (const auto& [k, v] : versions) want[k] = v;
  return "(() => { const want = " + want.dump() +
         "; return Object.entries(want).every(([k, v]) => { const tr = document.querySelector(`tr[data-key=\"${k}\"]`);"
         " return tr && Number(tr.dataset.version) === v; }); })()";
}

// Publishes the updates of `feed` (one per line, cacofonix's scripted format) and waits for their acks.
void publish(ProcessCluster& cluster, const std::string& feed) {
  const std::string path = cluster.run_file("feed-" + std::to_string(std::hash<std::string>{}(feed)) + ".txt");
  std::ofstream(path) << feed;
  cluster.start_cacofonix({"--feed", path});
  ASSERT_EQ(cluster.wait("cacofonix", ms(20000)), 0) << cluster.log_tail("cacofonix");
}

TEST(ScoreboardPage, ShowsScoresFollowsUpdatesAndSurvivesItsFrontEndsDeath) {
  ProcessCluster cluster([](Config& c) {
    tolerate_descheduling(c);
    c.events = {"Curling", "Skating", "Skiing", "Ice Hockey", "Luge", "Biathlon"};
    const auto ports = free_ports(2);
    c.frontends[0].http = "127.0.0.1:" + std::to_string(ports[0]);
    c.frontends[1].http = "127.0.0.1:" + std::to_string(ports[1]);
  });
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  publish(cluster,
          "set_score Curling 3 2\nset_score Skating 1 4\nset_score Skiing 2 2\nset_score Ice Hockey 5 3\n"
          "set_score Luge 0 1\nset_score Biathlon 2 0\nincrement_medal_tally Gauls gold\n"
          "increment_medal_tally Gauls silver\nincrement_medal_tally Romans bronze\n");
  const auto& fe1 = cluster.config().frontends[0].http;

  ChromiumOptions options;
  options.width = 1280;
  options.height = 720;
  Chromium browser(options);
  SCOPED_TRACE(::testing::Message() << "page console:\n" << [&] {
    std::string all;
    for (const auto& m : browser.console_messages()) all += m + "\n";
    return all;
  }());

  // 1. The page opens and shows what the database has, live from fe1.
  browser.navigate("http://" + fe1 + "/");
  ASSERT_TRUE(browser.wait_for("document.body.dataset.state === 'live'", milliseconds(10000)))
      << browser.evaluate("document.body.innerText");
  EXPECT_EQ(browser.evaluate("document.body.dataset.frontend"), "fe1");
  ASSERT_TRUE(browser.wait_for(page_shows(database_versions(cluster)), milliseconds(5000)))
      << browser.evaluate("document.body.innerText");
  EXPECT_EQ(browser.evaluate("document.querySelectorAll('tr[data-key]').length"), 8);
  const std::string curling_row = "document.querySelector('tr[data-key=\"score/Curling\"]').innerText";
  EXPECT_NE(browser.evaluate(curling_row).get<std::string>().find("Curling\t3\t2"), std::string::npos)
      << browser.evaluate(curling_row);
  browser.screenshot(screenshot_path("scoreboard.png"));

  // 2. A score published now is on the page within a second of its acknowledgement.
  publish(cluster, "set_score Curling 4 2\n");
  const auto now_versions = database_versions(cluster);
  EXPECT_TRUE(browser.wait_for(page_shows(now_versions), milliseconds(1000)))
      << browser.evaluate(curling_row);
  EXPECT_NE(browser.evaluate(curling_row).get<std::string>().find("Curling\t4\t2"), std::string::npos);

  // 3. Its front end dies: the page moves to fe2 and goes on updating. (How fast the cluster
  // fails over is judged elsewhere; the bounds here are generous.)
  cluster.signal("fe1", SIGKILL);
  ASSERT_TRUE(browser.wait_for("document.body.dataset.frontend === 'fe2' && document.body.dataset.state === 'live'",
                               milliseconds(10000)))
      << browser.evaluate("document.getElementById('status').innerText");
  publish(cluster, "set_score Skating 2 4\nincrement_medal_tally Romans gold\n");
  EXPECT_TRUE(browser.wait_for(page_shows(database_versions(cluster)), milliseconds(3000)))
      << browser.evaluate("document.body.innerText");
  EXPECT_NE(browser.evaluate("document.querySelector('tr[data-key=\"score/Skating\"]').innerText")
                .get<std::string>()
                .find("Skating\t2\t4"),
            std::string::npos);
  browser.screenshot(screenshot_path("scoreboard-after-failover.png"));

  // 4. On a phone: one column (the medals below the scores), nothing wider than the screen.
  browser.call("Emulation.setDeviceMetricsOverride",
               {{"width", 390}, {"height", 844}, {"deviceScaleFactor", 1}, {"mobile", true}});
  EXPECT_TRUE(browser.wait_for(
      "(() => { const s = document.querySelectorAll('section'); return s.length === 2 && "
      "s[1].getBoundingClientRect().top >= s[0].getBoundingClientRect().bottom; })()",
      milliseconds(2000)));
  EXPECT_LE(browser.evaluate("document.documentElement.scrollWidth").get<int>(), 390);
  browser.screenshot(screenshot_path("scoreboard-phone.png"));
  // And on a wall screen the type grows with the window.
  browser.call("Emulation.setDeviceMetricsOverride",
               {{"width", 2560}, {"height", 1440}, {"deviceScaleFactor", 1}, {"mobile", false}});
  EXPECT_TRUE(browser.wait_for("parseFloat(getComputedStyle(document.documentElement).fontSize) >= 30",
                               milliseconds(2000)))
      << browser.evaluate("getComputedStyle(document.documentElement).fontSize");
  std::printf("screenshots: %s, %s, %s\n", screenshot_path("scoreboard.png").c_str(),
              screenshot_path("scoreboard-after-failover.png").c_str(), screenshot_path("scoreboard-phone.png").c_str());
}

}  // namespace
}  // namespace oly::testing
