// Asking servers from a tool or at a process's start: requests to servers, all at once with one
// deadline.
//
// Requests go out through a fresh ZmqTransport (one DEALER per server, without ZMQ_IMMEDIATE, so
// a request to a server that is still connecting is queued rather than dropped). A server that
// is down or paused simply does not answer before the deadline. With CurveZMQ set for the process
// (set_request_curve, common/cluster_curve.h), each request's peer must be a name of the key ring.
//
// Errors: none thrown; a missing answer is nullopt.
//
// Thread-safety: free functions; each call uses its own sockets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/message.h"
#include "common/zmq_transport.h"

namespace oly {

struct Request {
  std::string peer;     // the server's endpoint name (database id or front end id)
  std::string address;  // its ROUTER
  Body body;
};

// Sends every request at once and waits until each has its answer or `timeout` passed.
// Element i of the result answers requests[i] (an Error reply is an answer too).
std::vector<std::optional<Message>> request_all(const std::vector<Request>& requests,
                                                Duration timeout);
// The same with these CurveZMQ options instead of the process's (nullopt: plain TCP).
std::vector<std::optional<Message>> request_all(const std::vector<Request>& requests, Duration timeout,
                                                const std::optional<CurveOptions>& curve);

}  // namespace oly
