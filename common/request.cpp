#include "common/request.h"

#include <unistd.h>

#include <atomic>

#include "common/cluster_curve.h"
#include "common/codec.h"
#include "common/zmq_transport.h"

namespace oly {

std::vector<std::optional<Message>> request_all(const std::vector<Request>& requests,
                                                Duration timeout) {
  return request_all(requests, timeout, request_curve());
}

std::vector<std::optional<Message>> request_all(const std::vector<Request>& requests, Duration timeout,
                                                const std::optional<CurveOptions>& curve) {
  std::vector<std::optional<Message>> replies(requests.size());
  if (requests.empty()) return replies;
  // A name of our own per call: servers' ROUTERs hand a routing id over to the newest
  // connection, so two tools (or two calls) must not share one.
  static std::atomic<uint64_t> calls{0};
  // With CURVE, a routing id starts with the name of the key (common/zmq_transport.h).
  const auto own = curve ? curve->ring->by_key(curve->keys.public_key) : std::nullopt;
  const std::string name = (own ? own->name : std::string(kOperatorName)) + "-" + std::to_string(::getpid()) + "-" +
                           std::to_string(++calls);
  try {
    ZmqOptions options;
    options.drop_when_disconnected = false;  // queue for a server still connecting
    options.curve = curve;
    ZmqTransport t(name, options);
    for (size_t i = 0; i < requests.size(); ++i) {
      t.add_peer(requests[i].peer, requests[i].address);
      t.send(requests[i].peer, encode(Message{i + 1, requests[i].body}));
    }
    SteadyClock clock;
    const TimePoint deadline = clock.now() + timeout;
    size_t pending = requests.size();
    while (pending > 0) {
      while (auto in = t.receive()) {
        Decoded d = decode(in->frame);
        if (!d.ok || d.message.req == 0 || d.message.req > requests.size()) continue;
        auto& slot = replies[d.message.req - 1];
        if (!slot && requests[d.message.req - 1].peer == in->from) {
          slot = std::move(d.message);
          --pending;
        }
      }
      const TimePoint now = clock.now();
      if (pending == 0 || now >= deadline) break;
      t.wait(deadline - now);
    }
  } catch (const std::exception&) {
    // A bad address: whatever was answered is returned; the rest count as not answering.
  }
  return replies;
}

}  // namespace oly
