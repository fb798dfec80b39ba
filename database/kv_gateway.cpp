#include "database/kv_gateway.h"

#include <spdlog/spdlog.h>


#include "common/codec.h"
#include "common/kv_rules.h"
#include "http/url.h"

namespace oly::database {

namespace {

const std::string kUsage = "GET /<key> reads a key, GET /<key>=<value> sets one (see docs/kvstore.md)";

}  // namespace

http::Response kv_error(int status, const std::string& text) {
  http::Response r;
  r.status = status;
  r.headers = {{"Content-Type", "text/plain"}};
  r.body = text + "\n";
  return r;
}

std::variant<Body, http::Response> kv_request(const http::Request& request) {
  if (request.method != "GET") {
    http::Response r = kv_error(405, "only GET is allowed: " + kUsage);
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  std::string_view target = request.target;
  std::string_view query;
  if (const size_t q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  if (target.starts_with('/')) target.remove_prefix(1);
  bool local = false;
  if (query == "local" || query == "local=1" || query == "local=true") {
    local = true;
  } else if (!query.empty()) {
    return kv_error(400, "unknown option after '?': the only one is ?local (a '?' inside a key or value is written %3F)");
  }
  const auto decoded = http::percent_decode(target);
  if (!decoded) return kv_error(400, "malformed percent-encoding in the target: '%' must be followed by two hex digits");
  if (decoded->empty()) return kv_error(404, "no key given: " + kUsage);
  const size_t eq = decoded->find('=');
  const std::string key = decoded->substr(0, eq);
  if (std::string problem = kv_key_problem(key); !problem.empty()) return kv_error(400, problem);
  if (eq == std::string::npos) return Body{KvGet{key, local}};
  if (local) return kv_error(400, "?local is for reads; a set always goes through the leader");
  KvSet set{key, decoded->substr(eq + 1)};
  if (std::string problem = kv_value_problem(set.value); !problem.empty()) return kv_error(400, problem);
  return Body{std::move(set)};
}

http::Response kv_response(const Body& answer) {
  if (const auto* kv = std::get_if<KvValue>(&answer)) {
    http::Response r;
    r.headers = {{"Content-Type", "text/plain"}, {"X-Kv-Found", kv->value ? "yes" : "no"}};
    if (kv->leader) r.headers.emplace_back("X-Leader", *kv->leader);
    if (kv->applied_index) {
      r.headers.emplace_back("X-Applied-Index", std::to_string(*kv->applied_index));
      r.headers.emplace_back("X-Behind-Ms", kv->behind_ms ? std::to_string(*kv->behind_ms) : "unknown");
    }
    r.body = kv->key + "=" + (kv->value ? *kv->value : "NIL");
    return r;
  }
  if (const auto* e = std::get_if<Error>(&answer)) {
    int status = 500;
    switch (e->code) {
      case ErrorCode::kBadValue: status = 400; break;
      case ErrorCode::kStoreFull: status = 507; break;
      case ErrorCode::kNotLeader:
      case ErrorCode::kUnavailable: status = 503; break;
      default: break;
    }
    http::Response r = kv_error(status, e->error);
    if (e->leader_http) r.headers.emplace_back("X-Leader", *e->leader_http);
    return r;
  }
  return kv_error(500, "unexpected answer '" + std::string(op_name(answer)) + "' from the database");
}

KvGateway::KvGateway(Transport& inner, http::Server& server, const Clock& clock)
    : RelayTransport(inner, std::string(kEndpointPrefix)), server_(server), clock_(clock) {}

void KvGateway::answered(uint64_t id, std::string frame) {
  if (waiting_.erase(id) == 0) return;  // answered already (timed out)
  const Decoded d = decode(frame);
  server_.respond(id, d.ok ? kv_response(d.message.body) : kv_error(500, "the database's answer could not be read"));
}

void KvGateway::pump() {
  const TimePoint now = clock_.now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    ++timed_out_;
    server_.respond(it->first, kv_error(503, "the database did not answer within " +
                                                 std::to_string(static_cast<int64_t>(to_ms(kAnswerTimeout))) +
                                                 " ms; a set may or may not have taken effect"));
    it = waiting_.erase(it);
  }
  for (http::Request& request : server_.run()) {
    ++requests_;
    auto asked = kv_request(request);
    if (auto* refusal = std::get_if<http::Response>(&asked)) {
      ++refused_;
      server_.respond(request.id, std::move(*refusal));
      continue;
    }
    waiting_[request.id] = now + kAnswerTimeout;
    Message msg{request.id, std::move(std::get<Body>(asked))};
    deliver(request.id, encode(msg));
  }
}

}  // namespace oly::database
