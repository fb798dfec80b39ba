// KvGateway: the key-value store's HTTP front door on a replica (docs/kvstore.md).
//
// It is a Transport around the replica's own (ZeroMQ) one: each complete HTTP request the
// http::Server hands over becomes one message (kv_get or kv_set) from the endpoint "http/<id>",
// received by the replica's Node like any other frame; the core's answer, sent back to that
// endpoint, becomes the HTTP response. So the core stays deterministic and knows no HTTP, and
// the simulator drives the same messages. Requests that are not a key-value request (another
// method, a malformed target, a key or value breaking the limits) are answered here at once and
// never reach the core. A request the core has not answered within kAnswerTimeout gets a 503.
//
// The mapping itself is two pure functions, kv_request() and kv_response(), tested on their own.
//
// Thread-safety: none; the replica's loop thread only.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "common/clock.h"
#include "common/message.h"
#include "common/relay_transport.h"
#include "http/server.h"

namespace oly::database {

// The message an HTTP request asks for, or the response that refuses it (400, 404, 405).
std::variant<Body, http::Response> kv_request(const http::Request& request);

// The HTTP response for the core's answer: 200 for a kv_value, else the error's status (400
// bad_value, 503 not_leader or unavailable, 507 store_full, 500 otherwise).
http::Response kv_response(const Body& answer);

// An error response with a one-line body.
http::Response kv_error(int status, const std::string& text);

class KvGateway final : public RelayTransport {
 public:
  static constexpr std::string_view kEndpointPrefix = "http/";
  static constexpr Duration kAnswerTimeout = ms(5000);

  // Serves `server`'s requests to whoever receives from this transport. Both outlive it.
  KvGateway(Transport& inner, http::Server& server, const Clock& clock);

  // receive() gives the inner transport's frames and the HTTP requests that arrived (the server
  // is run by pump(): see RelayTransport); the core's answer to "http/<id>" answers that request.

  uint64_t requests() const { return requests_; }
  uint64_t refused() const { return refused_; }
  uint64_t timed_out() const { return timed_out_; }

 private:
  void pump() override;
  void answered(uint64_t id, std::string frame) override;

  http::Server& server_;
  const Clock& clock_;
  std::map<uint64_t, TimePoint> waiting_;  // requests handed to the core, by id: their deadlines
  uint64_t requests_ = 0, refused_ = 0, timed_out_ = 0;
};

}  // namespace oly::database
