// Drives one FrontendCore by hand in unit tests: ticks, deliveries and database answers at a
// virtual time the test moves.
#pragma once

#include <gtest/gtest.h>

#include "frontend/frontend_core.h"

namespace oly {

struct Harness {
  explicit Harness(const std::string& id, Config c = {}) : cfg(std::move(c)), core(cfg, id, 1000) {}
  // Moves virtual time on by `d`, then ticks.
  std::vector<Effects::Out> advance(Duration d) {
    now += d;
    return tick();
  }
  // A heartbeat from peer `from`, which believes `master` is master at `epoch`.
  std::vector<Effects::Out> heartbeat(const std::string& from, const std::string& master, uint64_t epoch,
                                      uint64_t incarnation = 7) {
    return deliver(from, Message{0, Heartbeat{from, master, epoch, incarnation, true}});
  }
  std::vector<Effects::Out> tick() {
    Effects out;
    core.on_tick(now, out);
    return out.decoded_items();
  }
  std::vector<Effects::Out> deliver(const std::string& from, Message m) {
    Effects out;
    core.on_message(from, std::move(m), false, now, out);
    return out.decoded_items();
  }
  // Starts the front end and lets it claim: the database says `seen` is master, then grants the
  // claim as `granted`. Returns what the grant made the front end send.
  std::vector<Effects::Out> start_and_claim(const MasterInfo& seen, const MasterInfo& granted) {
    auto sent = answer_db(tick(), "get_master", seen);
    return answer_db(sent, "claim_master", granted);
  }
  // Answers the database request in `sent` (by op) with `reply`.
  std::vector<Effects::Out> answer_db(const std::vector<Effects::Out>& sent, std::string_view op, Body reply) {
    for (const auto& s : sent) {
      if (s.to == "db" && op_name(s.msg.body) == op) return deliver("db", Message{s.msg.req, std::move(reply)});
    }
    ADD_FAILURE() << "no " << op << " sent to the database";
    return {};
  }
  // Answers every request of op `op` in `sent` with `reply`; what the core did in answer.
  std::vector<Effects::Out> answer_all(const std::vector<Effects::Out>& sent, std::string_view op, const Body& reply) {
    std::vector<Effects::Out> all;
    for (const auto& s : sent) {
      if (op_name(s.msg.body) != op) continue;
      for (auto& o : deliver(s.to, Message{s.msg.req, reply})) all.push_back(std::move(o));
    }
    return all;
  }
  const Effects::Out* find(const std::vector<Effects::Out>& v, std::string_view op) {
    for (const auto& s : v) {
      if (op_name(s.msg.body) == op) return &s;
    }
    return nullptr;
  }
  Config cfg;
  TimePoint now = TimePoint(ms(1000));
  FrontendCore core;
};

}  // namespace oly
