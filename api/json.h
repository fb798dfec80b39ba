// The JSON of the front end's HTTP API (docs/api.md): values, the scoreboard, errors. Pure.
//
// A score: {"key": "score/Curling", "event", "gauls", "romans", "version", "updated_at"} with
// updated_at in milliseconds since the Unix epoch (null before the first update). A tally:
// {"key": "tally/Gauls", "team", "gold", "silver", "bronze", "version", "updated_at": null} (the
// database keeps no update time for tallies).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/message.h"
#include "http/server.h"

namespace oly::api {

nlohmann::json score_json(const Score& s);
nlohmann::json tally_json(const Tally& t);
// The value of `kv` (a score or a tally); null when it holds neither.
nlohmann::json value_json(const KeyValue& kv);

// JSON text that never throws: invalid UTF-8 (which no caller should pass) becomes U+FFFD.
std::string dump(const nlohmann::json& j);

// An error response: `status`, and the body {"error": text, "code": code}.
http::Response json_error(int status, const std::string& code, const std::string& text);
// A 200 response with this JSON body.
http::Response json_ok(const nlohmann::json& body);

// Headers every API answer carries: CORS for GET from any origin, and no caching without
// revalidation (the ETag makes revalidation cheap).
void add_common_headers(http::Response& r);

}  // namespace oly::api
