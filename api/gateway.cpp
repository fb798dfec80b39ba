#include "api/gateway.h"


#include "api/json.h"
#include "api/page.h"
#include "common/codec.h"
#include "common/error_code.h"
#include "common/key.h"
#include "common/reads.h"
#include "metrics/prometheus.h"

namespace oly::api {

namespace {

// The HTTP status for an error the core answered a read with.
int status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownEvent:
    case ErrorCode::kUnknownTeam: return 404;
    case ErrorCode::kBadValue:
    case ErrorCode::kMalformed: return 400;
    default: return 503;
  }
}

http::Response error_response(const Error& e) {
  return json_error(status_of(e.code), std::string(error_code_name(e.code)), e.error);
}

// The answer for a value whose version is `etag`: 304 for a client that has it (If-None-Match),
// else 200 with `body` and the ETag.
http::Response with_etag(const std::optional<std::string>& if_none_match, const std::string& etag,
                         const nlohmann::json& body) {
  http::Response r;
  if (if_none_match && etag_matches(*if_none_match, etag)) {
    r.status = 304;
    add_common_headers(r);
  } else {
    r = json_ok(body);
  }
  r.headers.emplace_back("ETag", etag);
  return r;
}

// The error response for a read that did not return a value.
http::Response failed_read(const Body& answer) {
  const auto* e = std::get_if<Error>(&answer);
  return e ? error_response(*e) : json_error(502, "bad_answer", "unexpected answer");
}

std::optional<int64_t> staleness_of(const Body& answer) {
  if (const auto* s = std::get_if<ScoreReply>(&answer)) return s->staleness_bound_ms;
  if (const auto* t = std::get_if<TallyReply>(&answer)) return t->staleness_bound_ms;
  return std::nullopt;
}

}  // namespace

class ApiGateway::ServerSink final : public StreamSink {
 public:
  explicit ServerSink(http::Server& server) : server_(server) {}
  bool write(uint64_t id, std::string_view bytes) override { return server_.write(id, bytes); }
  size_t unsent(uint64_t id) const override { return server_.unsent(id); }

 private:
  http::Server& server_;
};

ApiGateway::ApiGateway(Transport& inner, http::Server& server, const Clock& clock, const Config& cfg,
                       std::string frontend, std::function<std::string()> metrics)
    : RelayTransport(inner, std::string(kEndpointPrefix)),
      server_(server),
      clock_(clock),
      cfg_(cfg),
      frontend_(std::move(frontend)),
      metrics_(std::move(metrics)),
      board_(cfg),
      sink_(std::make_unique<ServerSink>(server)),
      hub_(board_, *sink_, frontend_) {}

ApiGateway::~ApiGateway() = default;

void ApiGateway::on_cache_change(const std::string& key, uint64_t version, const KeyValue* value) {
  const auto i = board_.index(key);
  if (!i) return;
  if (value != nullptr) {
    // The cache took it just now: current as of now, as a tablet's read of it would be.
    board_.take(*value);
    if (board_.version(*i) >= value->version) board_.confirm(*i, board_.mark());
    hub_.flush(clock_.now());
  } else if (version > board_.version(*i)) {
    board_.unconfirm(*i);  // changed to we know not what
    if (hub_.size() > 0) read_key(key, version, clock_.now());
  }
}

void ApiGateway::answered(uint64_t id, std::string frame) {
  auto it = asks_.find(id);
  if (it == asks_.end()) return;  // answered already (timed out)
  Done done = std::move(it->second.done);
  asks_.erase(it);
  const Decoded d = decode(frame);
  done(d.ok ? d.message.body : Body{make_error(ErrorCode::kUnavailable, "the front end's answer could not be read")});
}

void ApiGateway::ask(Body read, Done done, TimePoint now) {
  const uint64_t id = next_ask_++;
  asks_[id] = Ask{std::move(done), now + kAnswerTimeout};
  deliver(id, encode(Message{id, std::move(read)}));
}

void ApiGateway::read_key(const std::string& key, uint64_t min_version, TimePoint now) {
  ask(read_of_key(key, min_version > 0 ? std::optional<uint64_t>(min_version) : std::nullopt), [this, mark = board_.mark()](const Body& answer) { take(answer, mark); }, now);
}

std::optional<KeyValue> ApiGateway::take(const Body& answer, uint64_t mark) {
  auto kv = value_in(answer);
  if (!kv) return kv;
  board_.take(*kv);
  // A read started at `mark` returned this version: the board's (as new or newer) is current then.
  if (const auto i = board_.index(kv->key); i && board_.version(*i) >= kv->version) board_.confirm(*i, mark);
  hub_.flush(clock_.now());
  return kv;
}

void ApiGateway::pump() {
  const TimePoint now = clock_.now();
  // Asks are numbered in order and all wait kAnswerTimeout: the expired ones come first.
  for (auto it = asks_.begin(); it != asks_.end() && it->second.deadline <= now;) {
    ++timed_out_;
    Done done = std::move(it->second.done);
    it = asks_.erase(it);
    done(Body{make_error(ErrorCode::kUnavailable, "the front end did not answer within " +
                                                       std::to_string(static_cast<int64_t>(to_ms(kAnswerTimeout))) + " ms")});
  }
  // The HTTP server's pass (an eventfd read, libmicrohttpd's epoll_wait) only when its
  // descriptor was found readable or its own timeout is due.
  if (!take_readable() && now < next_run_) {
    pump_timed(now);
    return;
  }
  next_run_ = now + std::chrono::duration_cast<Duration>(server_.timeout().value_or(kRunAtLeastEvery));
  for (http::Request& request : server_.run()) {
    ++requests_;
    auto routed = route(request, cfg_);
    if (auto* refusal = std::get_if<http::Response>(&routed)) {
      if (refusal->status >= 400) ++refused_;
      server_.respond(request.id, std::move(*refusal));
      continue;
    }
    serve(request, std::move(std::get<Route>(routed)), now);
  }
  pump_timed(now);
}

void ApiGateway::pump_timed(TimePoint now) {
  if (hub_.size() == 0) return;
  if (now >= next_refresh_) refresh(now);
  // Changes go out as they are taken (take, on_cache_change); what is left for here is only
  // timing (pings, a slow client that caught up), so not at every pass of the loop.
  if (now >= next_flush_) {
    hub_.flush(now);
    next_flush_ = now + kTimedFlushEvery;
  }
}

void ApiGateway::serve(const http::Request& request, Route route, TimePoint now) {
  switch (route.kind) {
    case Route::Kind::kPage: {
      http::Response r;
      r.headers = {{"Content-Type", "text/html; charset=utf-8"}, {"Cache-Control", "no-cache"}};
      r.body = std::string(index_html());
      server_.respond(request.id, std::move(r));
      return;
    }
    case Route::Kind::kMetrics: {
      http::Response r;
      r.headers = {{"Content-Type", std::string(metrics::kContentType)}};
      r.body = metrics_ ? metrics_() : "";
      server_.respond(request.id, std::move(r));
      return;
    }
    case Route::Kind::kScore:
      serve_value(request.id, GetScore{route.name, std::nullopt, std::nullopt, std::nullopt}, route, now);
      return;
    case Route::Kind::kMedals:
      serve_value(request.id, GetMedalTally{route.name, std::nullopt, std::nullopt, std::nullopt}, route, now);
      return;
    case Route::Kind::kScoreboard:
      serve_scoreboard(request.id, route, now);
      return;
    case Route::Kind::kStream:
      if (request.method == "HEAD") {
        http::Response r;
        r.headers = {{"Content-Type", "text/event-stream"}};
        add_common_headers(r);
        server_.respond(request.id, std::move(r));
        return;
      }
      open_stream(request.id, route, now);
      return;
  }
}

void ApiGateway::serve_value(uint64_t id, Body read, const Route& route, TimePoint now) {
  ask(std::move(read),
      [this, id, inm = route.if_none_match, mark = board_.mark()](const Body& answer) {
        const auto kv = take(answer, mark);
        if (!kv) {
          server_.respond(id, failed_read(answer));
          return;
        }
        nlohmann::json body = value_json(*kv);
        body["frontend"] = frontend_;
        const auto bound = staleness_of(answer);
        body["staleness_bound_ms"] = bound ? nlohmann::json(*bound) : nlohmann::json();
        server_.respond(id, with_etag(inm, "\"" + std::to_string(kv->version) + "\"", body));
      },
      now);
}

void ApiGateway::serve_scoreboard(uint64_t id, const Route& route, TimePoint now) {
  // One read per key; answered when the last is in.
  struct Gather {
    std::vector<std::optional<Body>> answers;
    size_t left = 0;
  };
  const auto& keys = board_.keys();
  auto g = std::make_shared<Gather>();
  g->answers.resize(keys.size());
  g->left = keys.size();
  for (size_t i = 0; i < keys.size(); ++i) {
    ask(read_of_key(keys[i]),
        [this, id, g, i, inm = route.if_none_match, mark = board_.mark()](const Body& answer) {
          g->answers[i] = answer;
          if (--g->left > 0) return;
          nlohmann::json scores = nlohmann::json::array();
          nlohmann::json medals = nlohmann::json::array();
          Versions versions;
          std::optional<int64_t> bound;
          for (const auto& a : g->answers) {
            const auto kv = take(*a, mark);
            if (!kv) {
              server_.respond(id, failed_read(*a));
              return;
            }
            versions.push_back(kv->version);
            if (const auto b = staleness_of(*a)) bound = std::max(bound.value_or(0), *b);
            (kv->score ? scores : medals).push_back(value_json(*kv));
          }
          const nlohmann::json body = {{"frontend", frontend_},
                                       {"consistency", to_string(cfg_.consistency)},
                                       {"staleness_bound_ms", bound ? nlohmann::json(*bound) : nlohmann::json()},
                                       {"scores", std::move(scores)},
                                       {"medals", std::move(medals)},
                                       {"frontends", frontends_json()}};
          server_.respond(id, with_etag(inm, "\"" + Board::vector_text(versions) + "\"", body));
        },
        now);
  }
}

nlohmann::json ApiGateway::frontends_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : cfg_.frontends) {
    if (f.http.empty()) continue;
    list.push_back({{"id", f.id}, {"api", "http://" + f.http}});
  }
  return list;
}

void ApiGateway::open_stream(uint64_t id, const Route& route, TimePoint now) {
  if (hub_.size() >= kMaxStreams) {
    server_.respond(id, json_error(503, "unavailable", "this front end already serves " + std::to_string(kMaxStreams) +
                                                           " event streams; try another (see /api/scoreboard)"));
    return;
  }
  http::Response head;
  head.headers = {{"Content-Type", "text/event-stream"}, {"X-Accel-Buffering", "no"}};
  add_common_headers(head);
  head.body = ": " + frontend_ + "\nretry: 1000\n\n";
  if (!server_.start_stream(id, std::move(head))) return;
  // The stream is sent only values confirmed from here on: read every key now.
  hub_.open(id, route.last_event_id, board_.new_mark(), now);
  for (const auto& key : board_.keys()) read_key(key, 0, now);
}

void ApiGateway::refresh(TimePoint now) {
  next_refresh_ = now + kRefreshEvery;
  if (refreshing_ > 0) return;
  refreshing_ = board_.keys().size();
  for (const auto& key : board_.keys()) {
    ask(read_of_key(key),
        [this, mark = board_.mark()](const Body& answer) {
          --refreshing_;
          take(answer, mark);
        },
        now);
  }
}

}  // namespace oly::api
