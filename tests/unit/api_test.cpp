// The front end's HTTP API, piece by piece (api/): routing and refusals, the board's version
// vectors, and the event streams' rules (never back, snapshots for new, resuming and slow clients).
#include <gtest/gtest.h>

#include <map>

#include "api/board.h"
#include "api/json.h"
#include "api/routes.h"
#include "api/stream_hub.h"
#include "common/key.h"
#include "http/url.h"

namespace oly::api {
namespace {

Config small_config() {
  Config c;
  c.events = {"Curling", "Ski Jumping"};
  return c;
}

http::Request get(std::string target, http::Headers headers = {}) {
  return http::Request{1, "GET", std::move(target), "HTTP/1.1", std::move(headers), "127.0.0.1:1"};
}

Route routed(const http::Request& r, const Config& c = small_config()) {
  auto v = route(r, c);
  EXPECT_TRUE(std::holds_alternative<Route>(v)) << std::get<http::Response>(v).body;
  return std::holds_alternative<Route>(v) ? std::get<Route>(v) : Route{};
}

http::Response refused(const http::Request& r, const Config& c = small_config()) {
  auto v = route(r, c);
  EXPECT_TRUE(std::holds_alternative<http::Response>(v));
  return std::holds_alternative<http::Response>(v) ? std::get<http::Response>(v) : http::Response{};
}

std::string header_of(const http::Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

TEST(ApiRoutes, RoutesEachPathAndDecodesNames) {
  EXPECT_EQ(routed(get("/")).kind, Route::Kind::kPage);
  EXPECT_EQ(routed(get("/index.html")).kind, Route::Kind::kPage);
  EXPECT_EQ(routed(get("/api/scoreboard")).kind, Route::Kind::kScoreboard);
  EXPECT_EQ(routed(get("/metrics")).kind, Route::Kind::kMetrics);
  const Route s = routed(get("/api/scores/Ski%20Jumping?x=1"));
  EXPECT_EQ(s.kind, Route::Kind::kScore);
  EXPECT_EQ(s.name, "Ski Jumping");
  const Route m = routed(get("http://127.0.0.1:8101/api/medals/Gauls"));
  EXPECT_EQ(m.kind, Route::Kind::kMedals);
  EXPECT_EQ(m.name, "Gauls");
  EXPECT_EQ(routed(get("/api/scores/Curling", {{"if-none-match", "\"4\""}})).if_none_match, "\"4\"");
}

TEST(ApiRoutes, TakesLastEventIdFromTheHeaderOrTheQuery) {
  EXPECT_EQ(routed(get("/api/stream", {{"Last-Event-ID", "1.2.3.4"}})).last_event_id, "1.2.3.4");
  EXPECT_EQ(routed(get("/api/stream?last_event_id=1.2.3.4")).last_event_id, "1.2.3.4");
  EXPECT_EQ(routed(get("/api/stream")).last_event_id, std::nullopt);
}

TEST(ApiRoutes, RefusesUnknownNamesAndPathsWithJsonErrors) {
  http::Response r = refused(get("/api/scores/Hurling"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"code\":\"unknown_event\",\"error\":\"unknown event 'Hurling'\"}\n");
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(refused(get("/api/medals/Britons")).status, 404);
  EXPECT_EQ(refused(get("/api/scores/")).status, 400);
  EXPECT_EQ(refused(get("/nothing")).status, 404);
  EXPECT_EQ(refused(get("/api/scores/Curling/extra")).status, 404);  // "Curling/extra" is no event
}

TEST(ApiRoutes, RefusesBadNamesWithoutEchoingThem) {
  for (const char* target : {"/api/scores/%FF%FE", "/api/scores/%zz", "/api/medals/%C3"}) {
    const http::Response r = refused(get(target));
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find("\"bad_name\""), std::string::npos);
    EXPECT_EQ(r.body.find('%'), std::string::npos) << r.body;
    for (unsigned char ch : r.body) EXPECT_LT(ch, 0x80) << r.body;
  }
  const http::Response longer = refused(get("/api/scores/" + std::string(kMaxName + 1, 'a')));
  EXPECT_EQ(longer.status, 400);
  EXPECT_EQ(longer.body.find("aaaa"), std::string::npos);
}

TEST(ApiRoutes, AnswersOptionsAndRefusesOtherMethods) {
  http::Request options = get("/api/scoreboard");
  options.method = "OPTIONS";
  const http::Response o = refused(options);
  EXPECT_EQ(o.status, 204);
  EXPECT_EQ(header_of(o, "Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  http::Request post = get("/api/scoreboard");
  post.method = "POST";
  const http::Response p = refused(post);
  EXPECT_EQ(p.status, 405);
  EXPECT_EQ(header_of(p, "Allow"), "GET, HEAD, OPTIONS");
  http::Request head = get("/api/scoreboard");
  head.method = "HEAD";
  EXPECT_EQ(routed(head).kind, Route::Kind::kScoreboard);
}

TEST(ApiRoutes, PercentDecodingAndEtagMatching) {
  EXPECT_EQ(http::percent_decode("a%20b%2Fc+d"), "a b/c+d");
  EXPECT_EQ(http::percent_decode("%4"), std::nullopt);
  EXPECT_EQ(http::percent_decode("%"), std::nullopt);
  EXPECT_EQ(http::percent_decode("%G0"), std::nullopt);
  EXPECT_TRUE(etag_matches("\"5\"", "\"5\""));
  EXPECT_TRUE(etag_matches("\"4\", W/\"5\"", "\"5\""));
  EXPECT_TRUE(etag_matches("*", "\"5\""));
  EXPECT_FALSE(etag_matches("\"55\"", "\"5\""));
  EXPECT_FALSE(etag_matches("5", "\"5\""));
}

KeyValue score(const std::string& event, uint64_t version, int64_t gauls = 1, int64_t romans = 0) {
  return KeyValue{Key::score(event).str(), version, Score{event, gauls, romans, version, 1000}, std::nullopt};
}

KeyValue tally(const std::string& team, uint64_t version) {
  return KeyValue{Key::tally(team).str(), version, std::nullopt, Tally{team, static_cast<int64_t>(version), 0, 0, version}};
}

TEST(ApiBoard, KeepsTheNewestValuePerKeyAndWritesVersionVectors) {
  Board b(small_config());
  EXPECT_EQ(b.keys(), (std::vector<std::string>{"score/Curling", "score/Ski Jumping", "tally/Gauls", "tally/Romans"}));
  EXPECT_TRUE(b.take(score("Curling", 3)));
  EXPECT_FALSE(b.take(score("Curling", 2)));  // never back
  EXPECT_FALSE(b.take(score("Curling", 3)));
  EXPECT_FALSE(b.take(score("Hurling", 9)));  // not on the board
  EXPECT_TRUE(b.take(tally("Romans", 0)));    // known, at version 0
  EXPECT_EQ(b.known(), 2u);
  EXPECT_EQ(Board::vector_text(b.versions()), "3.0.0.0");
  EXPECT_EQ(b.value(0)["gauls"], 1);
  EXPECT_EQ(b.parse_vector("3.0.0.7"), (Versions{3, 0, 0, 7}));
  for (const char* bad : {"", "3.0.0", "3.0.0.0.0", "3..0.0", "3.0.0.x", "3.0.0.0.", "-1.0.0.0"}) {
    EXPECT_EQ(b.parse_vector(bad), std::nullopt) << bad;
  }
}

TEST(ApiJson, ScoresAndTalliesCarryTheirKeyVersionAndUpdateTime) {
  const nlohmann::json s = value_json(score("Curling", 4, 2, 1));
  EXPECT_EQ(dump(s), "{\"event\":\"Curling\",\"gauls\":2,\"key\":\"score/Curling\",\"romans\":1,\"updated_at\":1000,\"version\":4}");
  const nlohmann::json t = value_json(tally("Gauls", 2));
  EXPECT_EQ(t["updated_at"], nullptr);
  EXPECT_EQ(t["gold"], 2);
  EXPECT_EQ(dump(nlohmann::json("a\xff" "b")), "\"a\xef\xbf\xbd" "b\"");  // never invalid UTF-8 out
}

// A sink that records what each stream was sent and can pretend a client does not read.
class Recorder final : public StreamSink {
 public:
  bool write(uint64_t id, std::string_view bytes) override {
    if (gone.count(id)) return false;
    sent[id] += bytes;
    if (stalled.count(id)) unsent_[id] += bytes.size();
    return true;
  }
  size_t unsent(uint64_t id) const override {
    auto it = unsent_.find(id);
    return it == unsent_.end() ? 0 : it->second;
  }
  void drain(uint64_t id) { unsent_[id] = 0; stalled.erase(id); }
  // The events of stream `id` since the last call: (event, id, data).
  std::vector<std::tuple<std::string, std::string, nlohmann::json>> events(uint64_t id) {
    std::vector<std::tuple<std::string, std::string, nlohmann::json>> out;
    std::string& text = sent[id];
    size_t end;
    while ((end = text.find("\n\n")) != std::string::npos) {
      const std::string block = text.substr(0, end);
      text.erase(0, end + 2);
      std::string event, eid, data;
      size_t pos = 0;
      while (pos < block.size()) {
        size_t nl = block.find('\n', pos);
        if (nl == std::string::npos) nl = block.size();
        const std::string line = block.substr(pos, nl - pos);
        if (line.starts_with("event: ")) event = line.substr(7);
        if (line.starts_with("id: ")) eid = line.substr(4);
        if (line.starts_with("data: ")) data = line.substr(6);
        pos = nl + 1;
      }
      if (!event.empty()) out.emplace_back(event, eid, nlohmann::json::parse(data));
    }
    return out;
  }
  std::map<uint64_t, std::string> sent;
  std::set<uint64_t> gone, stalled;

 private:
  std::map<uint64_t, size_t> unsent_;
};

class ApiStreams : public ::testing::Test {
 protected:
  // The gateway's two ways of learning a value: the cache took it now (current now), or a read
  // started at the current mark returned it.
  void put(const KeyValue& kv) {
    board.take(kv);
    board.confirm(*board.index(kv.key), board.mark());
  }
  // Every key of the small config at version v, current now.
  void fill_board(uint64_t v = 1) {
    put(score("Curling", v));
    put(score("Ski Jumping", v));
    put(tally("Gauls", v));
    put(tally("Romans", v));
  }
  void open(uint64_t id, const std::optional<std::string>& last_event_id = std::nullopt) {
    hub.open(id, last_event_id, board.new_mark(), t0);
  }
  Board board{small_config()};
  Recorder sink;
  StreamHub hub{board, sink, "fe1"};
  TimePoint t0{};
};

TEST_F(ApiStreams, ANewStreamGetsOneSnapshotOnceEveryKeyIsConfirmedThenOneEventPerChange) {
  open(1);
  put(score("Curling", 3));
  hub.flush(t0 + ms(10));
  EXPECT_TRUE(sink.events(1).empty());  // waits for the whole board (up to kFirstWait)
  put(score("Ski Jumping", 1));
  put(tally("Gauls", 2));
  put(tally("Romans", 0));
  hub.flush(t0 + ms(20));
  auto ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<0>(ev[0]), "snapshot");
  EXPECT_EQ(std::get<1>(ev[0]), "3.1.2.0");
  EXPECT_EQ(std::get<2>(ev[0])["scores"].size(), 2u);
  EXPECT_EQ(std::get<2>(ev[0])["medals"].size(), 2u);
  EXPECT_EQ(std::get<2>(ev[0])["frontend"], "fe1");

  put(score("Curling", 4, 5, 5));
  put(tally("Romans", 1));
  hub.flush(t0 + ms(30));
  ev = sink.events(1);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<0>(ev[0]), "score");
  EXPECT_EQ(std::get<1>(ev[0]), "4.1.2.0");
  EXPECT_EQ(std::get<2>(ev[0])["gauls"], 5);
  EXPECT_EQ(std::get<2>(ev[0])["frontend"], "fe1");
  EXPECT_EQ(std::get<0>(ev[1]), "medals");
  EXPECT_EQ(std::get<1>(ev[1]), "4.1.2.1");
  hub.flush(t0 + ms(40));
  EXPECT_TRUE(sink.events(1).empty());
  EXPECT_EQ(hub.snapshots_sent(), 1u);
  EXPECT_EQ(hub.events_sent(), 2u);
}

TEST_F(ApiStreams, ValuesKnownBeforeAStreamOpenedWaitUntilAReadAfterItConfirmsThem) {
  fill_board(5);  // current before the stream opened; an update may have been acknowledged since
  open(1);
  hub.flush(t0 + StreamHub::kFirstWait * 2);
  EXPECT_TRUE(sink.events(1).empty());
  // The stream's own reads come back: Curling is newer, the rest unchanged.
  const uint64_t at_open = board.mark();
  board.take(score("Curling", 6));
  for (size_t i = 0; i < board.keys().size(); ++i) board.confirm(i, at_open);
  hub.flush(t0 + StreamHub::kFirstWait * 2);
  auto ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<1>(ev[0]), "6.5.5.5");
}

TEST_F(ApiStreams, AnInvalidatedKeyIsNotSentUntilItIsConfirmedAgain) {
  fill_board(1);
  open(1);
  fill_board(1);  // the stream's reads
  hub.flush(t0);
  sink.events(1);
  board.unconfirm(0);  // Curling invalidated: changed to we know not what
  board.take(score("Curling", 2));
  hub.flush(t0 + ms(1));
  EXPECT_TRUE(sink.events(1).empty());
  open(2);  // a new stream waits for Curling too, even after the first wait
  put(score("Ski Jumping", 2));
  put(tally("Gauls", 1));
  put(tally("Romans", 1));
  hub.flush(t0 + StreamHub::kFirstWait);
  auto ev = sink.events(2);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<2>(ev[0])["scores"].size(), 1u);  // Ski Jumping only
  EXPECT_EQ(std::get<1>(ev[0]), "0.2.1.1");
  put(score("Curling", 3));
  hub.flush(t0 + StreamHub::kFirstWait + ms(1));
  EXPECT_EQ(std::get<1>(sink.events(1).back()), "3.2.1.1");  // after Ski Jumping's "1.2.1.1"
  ev = sink.events(2);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<1>(ev[0]), "3.2.1.1");
}

TEST_F(ApiStreams, AKeyFirstKnownAtVersionZeroIsStillSent) {
  open(1);
  put(score("Curling", 1));
  hub.flush(t0 + StreamHub::kFirstWait);  // a snapshot of Curling alone
  sink.events(1);
  put(tally("Gauls", 0));
  hub.flush(t0 + StreamHub::kFirstWait + ms(1));
  const auto ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<0>(ev[0]), "medals");
  EXPECT_EQ(std::get<2>(ev[0])["version"], 0);
}

TEST_F(ApiStreams, AResumedStreamGetsOnlyWhatItMissedAndNeverGoesBack) {
  // The client saw Curling at 7 elsewhere (this front end is behind there) and Ski Jumping at 1.
  open(1, "7.1.1.1");
  put(score("Curling", 5));
  put(score("Ski Jumping", 2));
  put(tally("Gauls", 1));
  put(tally("Romans", 1));
  hub.flush(t0);
  auto ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<0>(ev[0]), "score");
  EXPECT_EQ(std::get<2>(ev[0])["event"], "Ski Jumping");
  EXPECT_EQ(std::get<1>(ev[0]), "7.2.1.1");
  put(score("Curling", 6));  // still older than the client's
  hub.flush(t0 + ms(1));
  EXPECT_TRUE(sink.events(1).empty());
  put(score("Curling", 8));
  hub.flush(t0 + ms(2));
  ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<1>(ev[0]), "8.2.1.1");
}

TEST_F(ApiStreams, AnUnknownLastEventIdCountsAsNone) {
  open(1, "garbage");
  fill_board();
  hub.flush(t0);
  auto ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<0>(ev[0]), "snapshot");
}

TEST_F(ApiStreams, AClientThatFallsBehindGetsOneSnapshotOnceItCatchesUpNotABacklog) {
  open(1);
  open(2);
  fill_board();
  hub.flush(t0);
  sink.events(1);
  sink.events(2);
  sink.stalled.insert(1);
  uint64_t v = 1;
  // Client 1 stops reading; client 2 reads. Changes keep coming.
  while (sink.unsent(1) <= StreamHub::kMaxUnsent) {
    ++v;
    put(score("Curling", v, static_cast<int64_t>(v)));
    hub.flush(t0 + ms(static_cast<int64_t>(v)));
  }
  const size_t stuck = sink.sent[1].size();
  for (int i = 0; i < 100; ++i) {
    ++v;
    put(score("Curling", v, static_cast<int64_t>(v)));
    hub.flush(t0 + ms(static_cast<int64_t>(v)));
  }
  EXPECT_EQ(sink.sent[1].size(), stuck);  // nothing more while it does not read
  EXPECT_EQ(sink.events(2).size(), v - 1);  // the reader got every change
  sink.events(1);
  sink.drain(1);
  hub.flush(t0 + ms(static_cast<int64_t>(v) + 1));
  auto ev = sink.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<0>(ev[0]), "snapshot");
  EXPECT_EQ(std::get<1>(ev[0]), std::to_string(v) + ".1.1.1");
}

TEST_F(ApiStreams, ManyMissedKeysComeAsOneSnapshot) {
  Config c;
  c.events.clear();
  for (int i = 0; i < 20; ++i) c.events.push_back("E" + std::to_string(i));
  Board big(c);
  Recorder rec;
  StreamHub h(big, rec, "fe2");
  h.open(1, Board::vector_text(Versions(big.keys().size(), 0)), big.new_mark(), t0);
  for (size_t i = 0; i < big.keys().size(); ++i) {
    const auto key = *Key::parse(big.keys()[i]);
    big.take(key.is_score() ? score(std::string(key.name()), 1) : tally(std::string(key.name()), 1));
    big.confirm(i, big.mark());
  }
  h.flush(t0);
  auto ev = rec.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<0>(ev[0]), "snapshot");
  EXPECT_EQ(std::get<2>(ev[0])["scores"].size(), 20u);
}

TEST_F(ApiStreams, PingsAnIdleStreamAndDropsOneWhoseClientLeft) {
  open(1);
  fill_board();
  hub.flush(t0);
  sink.events(1);
  sink.sent[1].clear();
  hub.flush(t0 + StreamHub::kKeepAlive - ms(1));
  EXPECT_EQ(sink.sent[1], "");
  hub.flush(t0 + StreamHub::kKeepAlive);
  EXPECT_EQ(sink.sent[1], "event: ping\ndata: {\"frontend\":\"fe1\"}\n\n");
  sink.gone.insert(1);
  hub.flush(t0 + 2 * StreamHub::kKeepAlive);
  EXPECT_EQ(hub.size(), 0u);
}

}  // namespace
}  // namespace oly::api
