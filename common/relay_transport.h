// RelayTransport: a Transport around another (a process's ZeroMQ one) that also delivers frames
// of its own making. It is the shape of a gateway that turns outside requests (HTTP) into
// messages for the process's core, and the core's answers, sent to the gateway's own endpoints,
// back into outside answers: database/kv_gateway.h and api/gateway.h.
//
// A subclass's endpoints are `prefix` + a number ("http/7"): it queues frames from them with
// deliver(), is handed the frames sent to them by answered() (the rest go to the inner
// transport), and does its outside work in pump(), which receive() runs
// whenever the inner transport has nothing, and every kPumpEvery frames when it always has (so
// that a busy inner transport cannot starve the outside).
//
// Readiness: pump() runs many times per pass of the loop, mostly to find nothing. When the loop
// reports the gateway's descriptor readable (readiness(), ZmqTransport::watch_fd's callback), a
// subclass may skip its system calls in a pump() with no such report since its last look
// (take_readable()), doing only what is due by time.
//
// Thread-safety: none, as any Transport.
#pragma once

#include <charconv>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/transport.h"

namespace oly {

class RelayTransport : public Transport {
 public:
  RelayTransport(Transport& inner, std::string prefix) : inner_(inner), prefix_(std::move(prefix)) {}

  const std::string& name() const override { return inner_.name(); }
  // To one of our endpoints: answered(); anything else to the inner transport.
  void send(const std::string& to, std::string frame) final {
    if (!to.starts_with(prefix_)) {
      inner_.send(to, std::move(frame));
      return;
    }
    uint64_t id = 0;
    const std::string_view digits = std::string_view(to).substr(prefix_.size());
    std::from_chars(digits.data(), digits.data() + digits.size(), id);
    answered(id, std::move(frame));
  }
  void connect(const std::string& name, const std::string& address) override { inner_.connect(name, address); }
  void publish(const std::string& topic, std::string frame) override { inner_.publish(topic, std::move(frame)); }
  void subscribe(const std::string& publisher, const std::string& prefix) override { inner_.subscribe(publisher, prefix); }
  // The callback for ZmqTransport::watch_fd of the gateway's descriptor: from now on the loop
  // reports it readable through this after every wait that finds it so (it is level-triggered),
  // and pump() may skip its system calls when it was not.
  std::function<void()> readiness() {
    gated_ = true;
    return [this] { readable_ = true; };
  }
  // The frames deliver() queued, then the inner transport's, with pump() run as above.
  std::optional<Incoming> receive() final {
    if (arrived_.empty() && ++since_pump_ >= kPumpEvery) run_pump();
    if (arrived_.empty()) {
      if (auto in = inner_.receive()) return in;
      run_pump();
    }
    if (arrived_.empty()) return std::nullopt;
    Incoming in = std::move(arrived_.front());
    arrived_.pop_front();
    return in;
  }

 protected:
  static constexpr size_t kPumpEvery = 64;
  // The outside work: accept requests, deliver() their messages, expire what waited too long.
  virtual void pump() = 0;
  // A frame sent to our endpoint number `id`.
  virtual void answered(uint64_t id, std::string frame) = 0;
  // Whether the descriptor may have work: always, without readiness(); with it, once per report
  // of the loop (take_readable() takes it).
  bool take_readable() { return !gated_ || std::exchange(readable_, false); }
  // Queues `frame` as if endpoint number `id` had sent it.
  void deliver(uint64_t id, std::string frame) { deliver_as(endpoint(id), std::move(frame)); }
  // The same, for a subclass that keeps each endpoint's name (a string less to build per frame).
  void deliver_as(std::string endpoint, std::string frame) { arrived_.push_back(Incoming{std::move(endpoint), std::move(frame)}); }
  // The name of our endpoint number `id`.
  std::string endpoint(uint64_t id) const { return prefix_ + std::to_string(id); }

 private:
  void run_pump() {
    since_pump_ = 0;
    pump();
  }

  Transport& inner_;
  const std::string prefix_;
  std::deque<Incoming> arrived_;
  size_t since_pump_ = 0;
  bool gated_ = false;
  bool readable_ = true;
};

}  // namespace oly
