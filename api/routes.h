// Routes: what an HTTP request to a front end asks for (docs/api.md), or the error that refuses
// it. Pure: the gateway (gateway.h) serves what it returns.
//
//   GET /                      the live scoreboard page (also /index.html)
//   GET /api/scoreboard        every score and tally, the front ends' API addresses
//   GET /api/scores/{event}    one event's score      (404 unknown_event)
//   GET /api/medals/{team}     one team's tally       (404 unknown_team)
//   GET /api/stream            server-sent events; resumes from Last-Event-ID or ?last_event_id=
//   GET /metrics               Prometheus text format
// HEAD is served as GET (without the body); OPTIONS gets 204 with the allowed methods (a CORS
// preflight); any other method 405. A name in a path is percent-decoded and must be valid UTF-8
// of at most kMaxName bytes (400 bad_name, which never echoes the name); an unknown path is 404
// not_found. Every refusal is JSON: {"error": ..., "code": ...}.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "common/config.h"
#include "http/server.h"

namespace oly::api {

inline constexpr size_t kMaxName = 128;

struct Route {
  enum class Kind { kPage, kScoreboard, kScore, kMedals, kStream, kMetrics };
  Kind kind = Kind::kPage;
  std::string name;                          // kScore: the event; kMedals: the team
  std::optional<std::string> if_none_match;  // the If-None-Match header, as sent
  std::optional<std::string> last_event_id;  // kStream: the Last-Event-ID header or query parameter
};

std::variant<Route, http::Response> route(const http::Request& request, const Config& cfg);

// Whether an If-None-Match header value names `etag` (a quoted tag, in a list or as W/"..."; *).
bool etag_matches(const std::string& if_none_match, const std::string& etag);

// The value of header `name` (case-insensitive), if sent.
std::optional<std::string> header(const http::Request& request, std::string_view name);

}  // namespace oly::api
