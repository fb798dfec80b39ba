#include "api/routes.h"

#include <strings.h>

#include <algorithm>

#include "api/json.h"
#include "common/utf8.h"
#include "http/url.h"

namespace oly::api {

namespace {

// The path and query of a target ("/a?b", or an absolute "http://host/a?b").
std::pair<std::string_view, std::string_view> split_target(std::string_view t) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (t.starts_with(scheme)) {
      const size_t slash = t.find('/', scheme.size());
      t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
    }
  }
  const size_t q = t.find('?');
  if (q == std::string_view::npos) return {t, {}};
  return {t.substr(0, q), t.substr(q + 1)};
}

// The decoded value of query parameter `name`, if present and well formed.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const size_t eq = part.find('=');
    if (part.substr(0, eq) == name) return http::percent_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return std::nullopt;
}

// The name in a path segment, or the 400 that refuses it.
std::variant<std::string, http::Response> path_name(std::string_view segment, const char* what) {
  auto name = http::percent_decode(segment);
  if (!name) return json_error(400, "bad_name", std::string("the ") + what + " name has a malformed percent escape");
  if (!valid_utf8(*name)) return json_error(400, "bad_name", std::string("the ") + what + " name is not valid UTF-8");
  if (name->empty()) return json_error(400, "bad_name", std::string("the ") + what + " name is empty");
  if (name->size() > kMaxName) {
    return json_error(400, "bad_name", std::string("the ") + what + " name is longer than " + std::to_string(kMaxName) + " bytes");
  }
  return std::move(*name);
}

}  // namespace

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view tag = rest.substr(0, comma);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return false;
}

std::optional<std::string> header(const http::Request& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return std::nullopt;
}

std::variant<Route, http::Response> route(const http::Request& request, const Config& cfg) {
  if (request.method == "OPTIONS") {
    http::Response r;
    r.status = 204;
    r.headers = {{"Allow", "GET, HEAD, OPTIONS"},
                 {"Access-Control-Allow-Origin", "*"},
                 {"Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"},
                 {"Access-Control-Allow-Headers", "If-None-Match, Last-Event-ID, Cache-Control"},
                 {"Access-Control-Max-Age", "86400"}};
    return r;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = json_error(405, "method_not_allowed", "only GET, HEAD and OPTIONS are served");
    r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
    return r;
  }
  const auto [path, query] = split_target(request.target);
  Route r;
  r.if_none_match = header(request, "If-None-Match");
  if (path == "/" || path == "/index.html" || path.empty()) {
    r.kind = Route::Kind::kPage;
  } else if (path == "/api/scoreboard") {
    r.kind = Route::Kind::kScoreboard;
  } else if (path == "/api/stream") {
    r.kind = Route::Kind::kStream;
    r.last_event_id = header(request, "Last-Event-ID");
    if (!r.last_event_id) r.last_event_id = query_param(query, "last_event_id");
  } else if (path == "/metrics") {
    r.kind = Route::Kind::kMetrics;
  } else if (path.starts_with("/api/scores/") || path.starts_with("/api/medals/")) {
    const bool score = path.starts_with("/api/scores/");
    const std::string_view segment = path.substr(std::string_view(score ? "/api/scores/" : "/api/medals/").size());
    auto name = path_name(segment, score ? "event" : "team");
    if (auto* refusal = std::get_if<http::Response>(&name)) return std::move(*refusal);
    r.name = std::move(std::get<std::string>(name));
    r.kind = score ? Route::Kind::kScore : Route::Kind::kMedals;
    if (score && std::find(cfg.events.begin(), cfg.events.end(), r.name) == cfg.events.end()) {
      return json_error(404, "unknown_event", "unknown event '" + r.name + "'");
    }
    if (!score && std::find(teams().begin(), teams().end(), r.name) == teams().end()) {
      return json_error(404, "unknown_team", "unknown team '" + r.name + "'");
    }
  } else {
    return json_error(404, "not_found", "no such path; see /api/scoreboard, /api/scores/{event}, /api/medals/{team}, "
                                        "/api/stream, /metrics and /");
  }
  return r;
}

}  // namespace oly::api
