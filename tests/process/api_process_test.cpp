// The front ends' HTTP API (api/, docs/api.md) on the real binaries: values and the scoreboard as
// the database has them, ETags and 304s, CORS, JSON errors, /metrics on every process, and the
// event stream: every change in order, never back, resumed on the other front end from
// Last-Event-ID. In push and in pull mode.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/board.h"
#include "common/key.h"
#include "tests/support/cluster.h"
#include "tests/support/http_client.h"

namespace oly::testing {
namespace {

using std::chrono::milliseconds;

// A cluster whose front ends, replicas and Cacofonix serve HTTP on free ports.
ProcessCluster api_cluster(Consistency mode) {
  return ProcessCluster([mode](Config& c) {
    c.consistency = mode;
    tolerate_descheduling(c);
    const auto ports = free_ports(4);
    c.frontends[0].http = "127.0.0.1:" + std::to_string(ports[0]);
    c.frontends[1].http = "127.0.0.1:" + std::to_string(ports[1]);
    c.database.metrics = "127.0.0.1:" + std::to_string(ports[2]);
    c.cacofonix.metrics = "127.0.0.1:" + std::to_string(ports[3]);
  });
}

// The database's version of every key, in the board's order.
api::Versions database_versions(ProcessCluster& cluster) {
  const auto reply = cluster.ask("db", GetScoreboard{});
  EXPECT_TRUE(reply && reply->is<Scoreboard>());
  api::Board board(cluster.config());
  if (reply && reply->is<Scoreboard>()) {
    for (const auto& s : reply->as<Scoreboard>().scores) board.take({Key::score(s.event).str(), s.version, s, std::nullopt});
    for (const auto& t : reply->as<Scoreboard>().tallies) board.take({Key::tally(t.team).str(), t.version, std::nullopt, t});
  }
  return board.versions();
}

void publish(ProcessCluster& cluster, int count, int rate = 200) {
  cluster.start_cacofonix({"--count", std::to_string(count), "--rate", std::to_string(rate)});
  ASSERT_EQ(cluster.wait("cacofonix", ms(30000)), 0) << cluster.log_tail("cacofonix");
}

class ApiProcess : public ::testing::TestWithParam<Consistency> {};

TEST_P(ApiProcess, ServesTheDatabasesValuesWithEtagsCorsAndJsonErrors) {
  ProcessCluster cluster = api_cluster(GetParam());
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  publish(cluster, 80);
  const api::Versions want = database_versions(cluster);
  const api::Board keys(cluster.config());

  for (const auto& fe : cluster.config().frontends) {
    SCOPED_TRACE(fe.id);
    // Pull mode may serve a value up to its staleness bound old: wait for it to catch up.
    nlohmann::json board;
    api::Versions got;
    ASSERT_TRUE(eventually(
        [&] {
          const HttpAnswer a = http_get(fe.http, "/api/scoreboard");
          if (a.status != 200) return false;
          board = nlohmann::json::parse(a.body);
          got.clear();
          for (const auto& s : board["scores"]) got.push_back(s["version"]);
          for (const auto& t : board["medals"]) got.push_back(t["version"]);
          return got == want;
        },
        ms(5000)))
        << api::Board::vector_text(got) << " vs " << api::Board::vector_text(want);
    EXPECT_EQ(board["frontend"], fe.id);
    EXPECT_EQ(board["frontends"].size(), 2u);
    EXPECT_EQ(board["frontends"][1]["api"], "http://" + cluster.config().frontends[1].http);

    const HttpAnswer s = http_get(fe.http, "/api/scores/Curling");
    ASSERT_EQ(s.status, 200);
    const auto score = nlohmann::json::parse(s.body);
    const uint64_t v = want[*keys.index(Key::score("Curling").str())];
    EXPECT_EQ(score["version"], v);
    EXPECT_EQ(score["event"], "Curling");
    EXPECT_EQ(score["frontend"], fe.id);
    EXPECT_EQ(s.headers.at("etag"), "\"" + std::to_string(v) + "\"");
    EXPECT_EQ(s.headers.at("access-control-allow-origin"), "*");
    EXPECT_EQ(s.headers.at("content-type"), "application/json");

    const HttpAnswer same = http_get(fe.http, "/api/scores/Curling", {{"If-None-Match", s.headers.at("etag")}});
    EXPECT_EQ(same.status, 304);
    EXPECT_EQ(same.body, "");
    const HttpAnswer other = http_get(fe.http, "/api/scores/Curling", {{"If-None-Match", "\"999999\""}});
    EXPECT_EQ(other.status, 200);
    const HttpAnswer medals = http_get(fe.http, "/api/medals/Romans");
    ASSERT_EQ(medals.status, 200);
    EXPECT_EQ(nlohmann::json::parse(medals.body)["team"], "Romans");

    const HttpAnswer unknown = http_get(fe.http, "/api/scores/Hurling");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(nlohmann::json::parse(unknown.body)["code"], "unknown_event");
    EXPECT_EQ(http_get(fe.http, "/api/medals/%FF").status, 400);
    EXPECT_EQ(http_get(fe.http, "/nowhere").status, 404);
    EXPECT_EQ(http_get(fe.http, "/api/scoreboard", {}, "DELETE").status, 405);
    const HttpAnswer page = http_get(fe.http, "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<title>Olympic scores"), std::string::npos);

    const HttpAnswer m = http_get(fe.http, "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(m.body.find("oly_read_latency_seconds_count{node=\"" + fe.id + "\"}"), std::string::npos);
    EXPECT_NE(m.body.find("oly_cache_hits_total{node=\"" + fe.id + "\"}"), std::string::npos);
    EXPECT_NE(m.body.find("oly_epoch{node=\"" + fe.id + "\"} 1"), std::string::npos) << m.body;
  }
  const HttpAnswer fe1 = http_get(cluster.config().frontends[0].http, "/metrics");
  EXPECT_EQ(fe1.body.find("oly_ack_latency_seconds_count{node=\"fe1\"} 0\n"), std::string::npos)
      << "the master acknowledged 80 updates";
  const HttpAnswer db = http_get(cluster.config().database.metrics, "/metrics");
  EXPECT_EQ(db.status, 200);
  EXPECT_NE(db.body.find("oly_info{node=\"db\",role=\"database\""), std::string::npos) << db.body;
  EXPECT_EQ(http_get(cluster.config().database.metrics, "/other").status, 404);
}

// Reads `stream` until its version vector reaches `want`; checks every event on the way: a known
// kind, an id that is a vector, each key's version never going back, the data's version equal to
// the id's. Returns the last id.
std::string follow_until(EventStreamClient& stream, const api::Board& keys, const api::Versions& want,
                         api::Versions& seen, size_t& events) {
  std::string last;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(10000);
  while (seen != want && std::chrono::steady_clock::now() < deadline) {
    const auto e = stream.next(milliseconds(2000));
    if (!e) continue;
    ++events;
    EXPECT_TRUE(e->event == "snapshot" || e->event == "score" || e->event == "medals") << e->event;
    const auto id = keys.parse_vector(e->id);
    EXPECT_TRUE(id.has_value()) << e->id;
    if (!id) continue;
    for (size_t i = 0; i < id->size(); ++i) EXPECT_GE((*id)[i], seen[i]) << "key " << keys.keys()[i] << " went back";
    const auto data = nlohmann::json::parse(e->data);
    if (e->event != "snapshot") {
      const auto i = keys.index(data["key"].get<std::string>());
      EXPECT_TRUE(i.has_value());
      if (i) {
        EXPECT_EQ(data["version"], (*id)[*i]);
      }
    }
    seen = *id;
    last = e->id;
  }
  return last;
}

TEST_P(ApiProcess, StreamsEveryChangeInOrderAndResumesOnTheOtherFrontEnd) {
  ProcessCluster cluster = api_cluster(GetParam());
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  const api::Board keys(cluster.config());
  const auto& fe1 = cluster.config().frontends[0].http;
  const auto& fe2 = cluster.config().frontends[1].http;

  EventStreamClient stream(fe2);
  ASSERT_TRUE(stream.head_ok());
  EXPECT_EQ(stream.head().at("access-control-allow-origin"), "*");
  const auto first = stream.next(milliseconds(5000));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->event, "snapshot");
  EXPECT_EQ(nlohmann::json::parse(first->data)["frontend"], "fe2");

  // Over 3 s, so that pull mode's polls (every few hundred ms) see the changes in several rounds.
  publish(cluster, 150, 50);
  api::Versions seen(keys.keys().size(), 0);
  size_t events = 0;
  std::string last = follow_until(stream, keys, database_versions(cluster), seen, events);
  EXPECT_EQ(seen, database_versions(cluster));
  EXPECT_GE(events, 10u);  // one event per change as they came, not only a final snapshot

  // The page moves to fe1 with the last id it saw: no snapshot, only what changes from there.
  EventStreamClient resumed(fe1, "/api/stream", last);
  ASSERT_TRUE(resumed.head_ok());
  const auto nothing = resumed.next(milliseconds(1500));
  EXPECT_FALSE(nothing.has_value()) << nothing->event << " " << nothing->id;
  publish(cluster, 30);
  size_t more = 0;
  follow_until(resumed, keys, database_versions(cluster), seen, more);
  EXPECT_EQ(seen, database_versions(cluster));
  EXPECT_GE(more, 1u);
}

TEST_P(ApiProcess, ANewStreamNeverStartsOlderThanWhatWasAcknowledgedBeforeIt) {
  if (GetParam() != Consistency::kPush) GTEST_SKIP() << "pull mode states a staleness bound instead";
  ProcessCluster cluster = api_cluster(GetParam());
  ASSERT_TRUE(cluster.start_database());
  ASSERT_TRUE(cluster.start_frontend("fe1"));
  ASSERT_TRUE(cluster.start_frontend("fe2"));
  const api::Board keys(cluster.config());
  const auto& fe2 = cluster.config().frontends[1].http;
  for (int round = 0; round < 3; ++round) {
    {  // a stream fills fe2's board, then goes away
      EventStreamClient first(fe2);
      ASSERT_TRUE(first.next(milliseconds(5000)).has_value());
    }
    publish(cluster, 40);  // acknowledged while no stream is open on fe2
    const api::Versions acked = database_versions(cluster);
    EventStreamClient second(fe2);
    const auto e = second.next(milliseconds(5000));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->event, "snapshot");
    const auto got = keys.parse_vector(e->id);
    ASSERT_TRUE(got.has_value()) << e->id;
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_GE((*got)[i], acked[i]) << keys.keys()[i] << ": the snapshot is older than an acknowledged update";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ApiProcess, ::testing::Values(Consistency::kPush, Consistency::kPull),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace oly::testing
