// FrontendCore's update path: a publisher's update, forwarded by the master to the database,
// and its acknowledgement, written through to the cache and released to the publisher through
// the hold queue once nothing holds it back. See frontend_core.h ("The path of an update").
#include "common/key.h"
#include "common/log.h"
#include "frontend/frontend_core.h"

namespace oly {

bool FrontendCore::check_token(const std::string& from, const Message& msg, Effects& out) {
  ++requests_;
  ++counters_["updates_received"];
  const std::optional<std::string>& token =
      msg.is<SetScore>() ? msg.as<SetScore>().token : msg.as<IncrementMedalTally>().token;
  if (token && *token == cfg_.cacofonix.token) return true;
  ++counters_["unauthorised"];
  out.send(from, msg.req, make_error(ErrorCode::kUnauthorised, "publisher token missing or wrong"));
  return false;
}

void FrontendCore::forward_update(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  std::string key;
  if (auto* s = std::get_if<SetScore>(&msg.body)) {
    if (!event_keys_.count(s->event)) {
      out.send(from, msg.req, make_error(ErrorCode::kUnknownEvent, "unknown event '" + s->event + "'"));
      return;
    }
    s->token.reset();
    s->epoch = epoch_;
    key = Key::score(s->event).str();
  } else {
    auto& m = msg.as<IncrementMedalTally>();
    m.token.reset();
    m.epoch = epoch_;
    key = Key::tally(m.team).str();
  }
  updating_[key].insert(now);
  ask_database(std::move(msg.body), {Pending::Kind::kUpdate, from, msg.req, now, key, {}}, out);
}

void FrontendCore::command_update(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  if (!check_token(from, msg, out)) return;
  byzantine::Update u = msg.is<SetScore>() ? byzantine::Update(std::move(msg.as<SetScore>()))
                                           : byzantine::Update(std::move(msg.as<IncrementMedalTally>()));
  if (!agreement_->signed_ok(u)) {
    ++counters_["unauthorised"];
    out.send(from, msg.req, make_error(ErrorCode::kUnauthorised, std::string(op_name(msg.body)) +
                                                                     ": the publisher's signature is missing or wrong"));
    return;
  }
  if (const auto* s = std::get_if<SetScore>(&u); s && !event_keys_.count(s->event)) {
    out.send(from, msg.req, make_error(ErrorCode::kUnknownEvent, "unknown event '" + s->event + "'"));
    return;
  }
  agreement_->command(std::move(u), out);
  submit_decisions(from, msg.req, now, out);
}

void FrontendCore::submit_decisions(const std::string& client, uint64_t client_req, TimePoint now, Effects& out) {
  for (auto& d : agreement_->take_decisions()) {
    const bool mine = d.commander == id_;
    std::string key = std::visit([&](auto& m) {
      m.epoch = epoch_;
      if constexpr (std::is_same_v<std::decay_t<decltype(m)>, SetScore>) return Key::score(m.event).str();
      else return Key::tally(m.team).str();
    }, d.update);
    ++counters_["submissions"];
    updating_[key].insert(now);
    Body body = std::visit([](auto& m) { return Body(std::move(m)); }, d.update);
    ask_database(std::move(body), {Pending::Kind::kUpdate, mine ? client : "", mine ? client_req : 0, now, key, {}}, out);
  }
}

void FrontendCore::answer_client(const Pending& p, Body body, Effects& out) {
  if (!p.client.empty()) out.send(p.client, p.client_req, std::move(body));
}

void FrontendCore::update_done(const Pending& p, TimePoint now, Effects& out, bool answered) {
  auto it = updating_.find(p.key);
  if (it == updating_.end()) return;
  if (auto t = it->second.find(p.sent_at); t != it->second.end()) it->second.erase(t);
  if (it->second.empty()) updating_.erase(it);
  // An update whose answer was lost may have changed the key: re-read it, so that the master's
  // cache is not left behind the database.
  // Until a read started after now comes back, the master does not serve the key from its cache,
  // and its hints name it unsettled.
  if (answered || !is_master()) return;
  uncertain_[p.key] = now;
  settle(p.key, now, out);
}

void FrontendCore::on_update_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  if (auto* e = std::get_if<Error>(&msg.body); e && e->code == ErrorCode::kFenced) {
    on_fenced(*e, now, out);
    answer_client(p, not_master_error(), out);
    return;
  }
  auto* ack = std::get_if<Ack>(&msg.body);
  if (ack == nullptr) {
    answer_client(p, std::move(msg.body), out);
    return;
  }
  ++counters_["updates_acked"];
  // Byzantine mode: this front end vouches to Cacofonix for what the database acknowledged.
  if (agreement_) out.publish("publisher", *ack);
  // Write through. The value on the ack is the key's current one (its version may be newer than
  // the ack's, for a duplicate).
  KeyValue kv{ack->key, ack->version, ack->score, ack->tally};
  if (kv.score) kv.version = kv.score->version;
  if (kv.tally) kv.version = kv.tally->version;
  if (!is_master()) {
    answer_client(p, std::move(msg.body), out);
    return;
  }
  if (kv.score || kv.tally) put_cached(kv, now, consistency_->ttr_after_fetch());
  // Push: the peers caching the key must drop it before the publisher hears.
  const uint64_t hold = ++next_hold_;
  const bool waits = consistency_->on_update(kv.key, kv.version, hold, view(), now, out);
  held_.hold({Held::Kind::kAck, p.client, p.client_req, std::move(msg.body), waits ? hold : 0, p.sent_at});
  release(now, out);
}

void FrontendCore::release(TimePoint now, Effects& out) {
  auto ready = [&](const Held& h) {
    if (h.kind == Held::Kind::kUpdate) return role_ == Role::kMaster;  // the handoff was abandoned
    return now >= acks_from_ && (h.hold == 0 || !consistency_->waiting(h.hold));
  };
  for (auto& h : held_.take(ready)) {
    if (h.kind == Held::Kind::kAck) {
      if (h.to.empty()) continue;  // Byzantine mode: a lieutenant's own submission
      latencies_.acks.observe(now - h.since);
      out.send(h.to, h.req, std::move(h.body));
    } else {
      Message m{h.req, std::move(h.body)};
      forward_update(h.to, m, now, out);
    }
  }
}

void FrontendCore::drain_held(Effects& out) {
  // Acks held back are durable: the publisher resends them to the new master, whose answer (a
  // duplicate ack) comes once that master knows every copy is gone. Held updates were never sent.
  for (auto& h : held_.take_all()) out.send(h.to, h.req, not_master_error());
}

}  // namespace oly
