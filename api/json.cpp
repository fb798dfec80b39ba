#include "api/json.h"

namespace oly::api {

nlohmann::json score_json(const Score& s) {
  return {{"key", "score/" + s.event}, {"event", s.event},     {"gauls", s.gauls},
          {"romans", s.romans},        {"version", s.version}, {"updated_at", s.updated_at > 0 ? nlohmann::json(s.updated_at) : nlohmann::json()}};
}

nlohmann::json tally_json(const Tally& t) {
  return {{"key", "tally/" + t.team}, {"team", t.team},       {"gold", t.gold},       {"silver", t.silver},
          {"bronze", t.bronze},       {"version", t.version}, {"updated_at", nullptr}};
}

nlohmann::json value_json(const KeyValue& kv) {
  if (kv.score) return score_json(*kv.score);
  if (kv.tally) return tally_json(*kv.tally);
  return nullptr;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void add_common_headers(http::Response& r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Access-Control-Expose-Headers", "ETag");
  r.headers.emplace_back("Cache-Control", "no-cache");
}

http::Response json_error(int status, const std::string& code, const std::string& text) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  add_common_headers(r);
  r.body = dump({{"error", text}, {"code", code}}) + "\n";
  return r;
}

http::Response json_ok(const nlohmann::json& body) {
  http::Response r;
  r.headers.emplace_back("Content-Type", "application/json");
  add_common_headers(r);
  r.body = dump(body) + "\n";
  return r;
}

}  // namespace oly::api
