// ApiGateway: a front end's HTTP face (docs/api.md): the JSON API, the event stream, the page and
// /metrics, on the front end's `http` address.
//
// Like the key-value store's gateway (database/kv_gateway.h) it is a Transport around the front
// end's own: a read the API needs becomes a get_score or get_medal_tally message from the
// endpoint "api/<n>", served by FrontendCore exactly as a tablet's read (the same cache, the same
// consistency: push's leases and invalidations, pull's time to refresh), and the core's answer,
// sent back to that endpoint, becomes the HTTP response. /api/scoreboard is one such read per
// key, answered when all are in.
//
// The event stream is fed by the cache itself (FrontendCore::observe_cache, wired to
// on_cache_change): a value the cache takes (push: a fill after an invalidation, the master's
// write-through; pull: a poll's answer or its hints) goes on the board and out to the streams at
// once; an invalidation (push), which carries no value, marks the key unconfirmed and becomes a
// read of that key at least that new. A new stream is sent only values confirmed after it opened
// (board.h, "Marks"): opening one reads every key. While any stream is open, every key is also
// read every kRefreshEvery, so that the board stays current in pull mode too (the reads are the
// page's own, served from the cache, and count as reads in the front end's statistics).
//
// A request the core has not answered within kAnswerTimeout gets 503.
//
// Thread-safety: none; the front end's loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api/board.h"
#include "api/routes.h"
#include "api/stream_hub.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/message.h"
#include "common/relay_transport.h"
#include "http/server.h"

namespace oly::api {

class ApiGateway final : public RelayTransport {
 public:
  static constexpr std::string_view kEndpointPrefix = "api/";
  static constexpr Duration kAnswerTimeout = ms(5000);
  static constexpr Duration kRefreshEvery = ms(1000);
  // Event streams one front end serves at most (beyond: 503), so that streams cannot take every
  // connection from the API and /metrics.
  static constexpr size_t kMaxStreams = 512;
  // How often the streams are looked at for pings and for slow clients that caught up.
  static constexpr Duration kTimedFlushEvery = ms(100);
  // The HTTP server is run at least this often even when its descriptor says nothing.
  static constexpr std::chrono::milliseconds kRunAtLeastEvery{1000};

  // Serves `server`'s requests for front end `frontend` of `cfg`; `metrics` renders GET /metrics.
  // `inner`, `server` and `clock` outlive it.
  ApiGateway(Transport& inner, http::Server& server, const Clock& clock, const Config& cfg, std::string frontend,
             std::function<std::string()> metrics);
  ~ApiGateway() override;

  // FrontendCore::observe_cache's observer (Cache::Observer).
  void on_cache_change(const std::string& key, uint64_t version, const KeyValue* value);

  // receive() gives the inner transport's frames and the reads the API asks for (the HTTP server
  // is run by pump(): see RelayTransport); the core's answer to "api/<n>" is that read's.

  // For /metrics and stats.
  uint64_t requests() const { return requests_; }
  uint64_t refused() const { return refused_; }
  uint64_t timed_out() const { return timed_out_; }
  size_t streams() const { return hub_.size(); }
  const StreamHub& hub() const { return hub_; }

 private:
  using Done = std::function<void(const Body&)>;
  struct Ask {
    Done done;
    TimePoint deadline;
  };
  class ServerSink;

  void pump() override;
  // What pump() does by time alone: the streams' refresh and timed flush.
  void pump_timed(TimePoint now);
  void answered(uint64_t id, std::string frame) override;
  void serve(const http::Request& request, Route route, TimePoint now);
  void serve_value(uint64_t id, Body read, const Route& route, TimePoint now);
  void serve_scoreboard(uint64_t id, const Route& route, TimePoint now);
  void open_stream(uint64_t id, const Route& route, TimePoint now);
  // Asks the core for `read`; `done` gets the answer (an Error after kAnswerTimeout).
  void ask(Body read, Done done, TimePoint now);
  // Reads every key (for the streams), unless such a refresh is under way.
  void refresh(TimePoint now);
  // Reads `key` (at least `min_version`) for the board, confirming it at the current mark.
  void read_key(const std::string& key, uint64_t min_version, TimePoint now);
  // Takes the answer of a read started at board mark `mark` onto the board; the value, if any.
  std::optional<KeyValue> take(const Body& answer, uint64_t mark);
  nlohmann::json frontends_json() const;

  http::Server& server_;
  const Clock& clock_;
  const Config& cfg_;
  const std::string frontend_;
  std::function<std::string()> metrics_;
  Board board_;
  std::unique_ptr<ServerSink> sink_;
  StreamHub hub_;
  std::map<uint64_t, Ask> asks_;  // reads handed to the core, by id
  uint64_t next_ask_ = 1;
  size_t refreshing_ = 0;  // reads of the running refresh not yet answered
  TimePoint next_refresh_{};
  TimePoint next_flush_{};
  TimePoint next_run_{};  // the HTTP server's next pass even with its descriptor quiet
  uint64_t requests_ = 0, refused_ = 0, timed_out_ = 0;
};

}  // namespace oly::api
