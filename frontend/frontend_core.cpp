#include "frontend/frontend_core.h"

#include <algorithm>

#include "common/log.h"

namespace oly {

namespace {
// How often a front end that does not know the master (or whose last request to the database
// went unanswered) asks the database.
constexpr Duration kMasterPollUnknown = ms(200);
// How often it asks anyway, as a backstop to heartbeats.
constexpr Duration kMasterPollKnown = ms(2000);
// A tablet counts as served by this front end if it read within this window.
constexpr Duration kTabletWindow = ms(5000);
}  // namespace

FrontendCore::FrontendCore(const Config& cfg, std::string id, uint64_t req_base)
    : cfg_(cfg),
      id_(std::move(id)),
      events_(cfg.events.begin(), cfg.events.end()),
      next_req_(req_base),
      cache_(static_cast<size_t>(cfg.cache.capacity)),
      ttr_(cfg.pull),
      directory_(ms(cfg.lease.duration_ms), ms(cfg.heartbeat.interval_ms)),
      incarnation_(req_base | 1),
      detector_(
          [&] {
            std::vector<std::string> peers;
            for (const auto& f : cfg.frontends) {
              if (f.id != id_) peers.push_back(f.id);
            }
            return peers;
          }(),
          ms(cfg.heartbeat.timeout_ms)) {
  for (const auto& f : cfg_.frontends) frontends_.push_back({f.id, f.address, f.pub});
  for (const char* c : {"requests", "reads", "cache_hits", "cache_misses", "fills", "invalidations_sent",
                        "invalidations_received", "polls_sent", "not_modified", "flushes", "takeovers", "handoffs"}) {
    counters_[c] = 0;
  }
}

const FrontendInfo* FrontendCore::info_of(const std::string& id) const {
  for (const auto& f : frontends_) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

void FrontendCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) {
  if (notice) return;  // front ends subscribe to nothing
  const bool internal = msg.is<Heartbeat>() || msg.is<Invalidate>() || msg.is<LeaseRequest>() ||
                        msg.is<InvalidateAck>() || msg.is<Fetch>() || msg.is<Poll>() || msg.is<HandOver>();
  if (internal && info_of(from) == nullptr) {
    // Only the configured front ends (by endpoint name) take part in consistency and heartbeats.
    ++counters_["unauthorised"];
    out.send(from, msg.req, make_error(code::kUnauthorised, "'" + from + "' is not a front end of this cluster"));
    return;
  }
  if (from != id_ && info_of(from) != nullptr && !msg.is<Heartbeat>()) on_peer_heard(from, 0, now);
  if (from == cfg_.database.id) {
    database_failing_ = false;
    last_database_reply_ = now;
  }
  if (pending_.count(msg.req) && is_reply(msg.body)) {
    on_reply(msg, now, out);
  } else if (msg.is<Heartbeat>()) {
    on_heartbeat(msg.as<Heartbeat>(), now, out);
  } else if (auto* h = std::get_if<HandOver>(&msg.body)) {
    on_hand_over(*h, now, out);
  } else if (msg.is<Invalidate>()) {
    on_invalidate(from, msg, out);
  } else if (msg.is<LeaseRequest>()) {
    on_lease_request(from, msg, now, out);
  } else if (auto* a = std::get_if<InvalidateAck>(&msg.body)) {
    send_held(directory_.on_ack(from, a->key, a->version), now, out);
  } else if (is_reply(msg.body)) {
    ++counters_["late_replies"];
  } else {
    on_client_request(from, msg, now, out);
  }
  recompute_wake();
}

void FrontendCore::on_client_request(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  ++counters_["requests"];
  auto seen = [&](const std::optional<std::string>& tablet) {
    if (tablet) tablets_seen_[*tablet] = now;
    ++counters_["reads"];
  };
  if (auto* g = std::get_if<GetScore>(&msg.body)) {
    if (!events_.count(g->event)) {
      out.send(from, msg.req, make_error(code::kUnknownEvent, "unknown event '" + g->event + "'"));
      return;
    }
    seen(g->tablet);
    serve("score/" + g->event, Waiter{Waiter::Kind::kTablet, from, msg.req, g->min_version.value_or(0), 0}, now, out);
  } else if (auto* t = std::get_if<GetMedalTally>(&msg.body)) {
    if (std::find(teams().begin(), teams().end(), t->team) == teams().end()) {
      out.send(from, msg.req, make_error(code::kUnknownTeam, "unknown team '" + t->team + "'"));
      return;
    }
    seen(t->tablet);
    serve("tally/" + t->team, Waiter{Waiter::Kind::kTablet, from, msg.req, t->min_version.value_or(0), 0}, now, out);
  } else if (auto* b = std::get_if<GetScoreboard>(&msg.body)) {
    seen(b->tablet);
    ask(cfg_.database.id, GetScoreboard{}, {Pending::Kind::kRead, from, msg.req, now, "", {}}, out);
  } else if (auto* f = std::get_if<Fetch>(&msg.body)) {
    if (!is_master()) {
      out.send(from, msg.req, not_master_error());
      return;
    }
    serve(f->key, Waiter{Waiter::Kind::kPeerFetch, from, msg.req, 0, 0}, now, out);
  } else if (auto* p = std::get_if<Poll>(&msg.body)) {
    if (!is_master()) {
      out.send(from, msg.req, not_master_error());
      return;
    }
    ++counters_["polls_received"];
    serve(p->key, Waiter{Waiter::Kind::kPeerPoll, from, msg.req, 0, p->version}, now, out);
  } else if (auto* r = std::get_if<Register>(&msg.body)) {
    ++counters_["registrations"];
    std::vector<std::string> ids;
    for (const auto& fe : frontends_) ids.push_back(fe.id);
    ask(cfg_.database.id, AssignHome{r->tablet, ids}, {Pending::Kind::kRegister, from, msg.req, now, "", {}}, out);
  } else if (msg.is<SetScore>() || msg.is<IncrementMedalTally>()) {
    on_update(from, msg, now, out);
  } else if (msg.is<GetStats>()) {
    out.send(from, msg.req, stats(now));
  } else {
    ++counters_["errors"];
    out.send(from, msg.req,
             make_error(code::kUnexpectedOp, "a front end does not serve '" + std::string(op_name(msg.body)) + "'"));
  }
}

void FrontendCore::on_update(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  ++counters_["updates_received"];
  const std::optional<std::string>& token =
      msg.is<SetScore>() ? msg.as<SetScore>().token : msg.as<IncrementMedalTally>().token;
  if (!token || *token != cfg_.cacofonix.token) {
    ++counters_["unauthorised"];
    out.send(from, msg.req, make_error(code::kUnauthorised, "publisher token missing or wrong"));
    return;
  }
  if (!is_master()) {
    ++counters_["not_master"];
    out.send(from, msg.req, not_master_error());
    return;
  }
  if (handoff_ != Handoff::kNone) {
    // Handing mastership back: forwarded later if the handoff fails, else answered not_master.
    ++counters_["updates_held_for_handoff"];
    held_updates_.push_back({from, std::move(msg)});
    return;
  }
  if (auto* s = std::get_if<SetScore>(&msg.body)) {
    if (!events_.count(s->event)) {
      out.send(from, msg.req, make_error(code::kUnknownEvent, "unknown event '" + s->event + "'"));
      return;
    }
    s->token.reset();
    s->epoch = epoch_;
  } else {
    auto& m = msg.as<IncrementMedalTally>();
    m.token.reset();
    m.epoch = epoch_;
  }
  const std::string key = msg.is<SetScore>() ? "score/" + msg.as<SetScore>().event
                                             : "tally/" + msg.as<IncrementMedalTally>().team;
  updating_[key].insert(now);
  ask(cfg_.database.id, std::move(msg.body), {Pending::Kind::kUpdate, from, msg.req, now, key, {}}, out);
}

void FrontendCore::update_done(const Pending& p, TimePoint now, Effects& out, bool answered) {
  auto it = updating_.find(p.key);
  if (it == updating_.end()) return;
  if (auto t = it->second.find(p.sent_at); t != it->second.end()) it->second.erase(t);
  if (it->second.empty()) updating_.erase(it);
  // An update whose answer was lost may have changed the key: re-read it, so that the master's
  // cache is not left behind the database.
  if (!answered && is_master() && !filling_.count(p.key)) start_fill(p.key, now, out);
}

uint64_t FrontendCore::ask(const std::string& to, Body body, Pending p, Effects& out) {
  const uint64_t req = next_req_++;
  if (p.timeout == Duration(0)) p.timeout = ms(cfg_.database.request_timeout_ms);
  deadlines_.emplace(p.sent_at + p.timeout, req);
  pending_.emplace(req, std::move(p));
  out.send(to, req, std::move(body));
  return req;
}

void FrontendCore::on_reply(Message& msg, TimePoint now, Effects& out) {
  auto it = pending_.find(msg.req);
  Pending p = std::move(it->second);
  pending_.erase(it);
  deadlines_.erase({p.sent_at + p.timeout, msg.req});
  switch (p.kind) {
    case Pending::Kind::kRead:
      out.send(p.client, p.client_req, std::move(msg.body));
      return;
    case Pending::Kind::kRegister:
      if (auto* h = std::get_if<TabletHome>(&msg.body)) {
        out.send(p.client, p.client_req, Registered{h->tablet, h->home, frontends_});
      } else {
        out.send(p.client, p.client_req, std::move(msg.body));
      }
      return;
    case Pending::Kind::kUpdate:
      update_done(p, now, out, true);
      on_update_acked(p, msg, now, out);
      return;
    case Pending::Kind::kGetMaster:
      if (auto* m = std::get_if<MasterInfo>(&msg.body)) on_master_info(*m, now, out);
      return;
    case Pending::Kind::kClaim:
      on_claim_answer(p, msg, now, out);
      return;
    case Pending::Kind::kRenew:
      on_renew_answer(p, msg, now, out);
      return;
    case Pending::Kind::kLease:
      if (auto* g = std::get_if<LeaseGrant>(&msg.body); g && g->epoch == epoch_ && !is_master()) {
        // The lease runs from when we asked, so it ends here before it ends at the master.
        lease_until_ = std::max(lease_until_, p.sent_at + ms(g->duration_ms));
      }
      return;
    case Pending::Kind::kFill:
    case Pending::Kind::kFetch:
    case Pending::Kind::kPoll:
      on_poll_answer(p, msg, now, out);
      return;
  }
}

void FrontendCore::on_update_acked(Pending& p, Message& msg, TimePoint now, Effects& out) {
  if (auto* e = std::get_if<Error>(&msg.body); e && e->code == code::kFenced) {
    on_fenced(*e, now, out);
    out.send(p.client, p.client_req, not_master_error());
    return;
  }
  auto* ack = std::get_if<Ack>(&msg.body);
  if (ack == nullptr) {
    out.send(p.client, p.client_req, std::move(msg.body));
    return;
  }
  ++counters_["updates_acked"];
  // Write through, then (push) make the peers drop their copies before the publisher hears.
  // The value on the ack is the key's current one (its version may be newer than the ack's).
  KeyValue kv{ack->key, ack->version, ack->score, ack->tally};
  if (kv.score) kv.version = kv.score->version;
  if (kv.tally) kv.version = kv.tally->version;
  if (is_master() && (kv.score || kv.tally)) cache_.put(kv, now, ttr_.initial());
  HeldReply reply{p.client, p.client_req, std::move(msg.body)};
  if (!push() || !is_master()) {
    out.send(reply.to, reply.req, std::move(reply.body));
    return;
  }
  const auto held = directory_.on_update(kv.key, kv.version, reply, now);
  spdlog::debug("t={} ack {} v{}: invalidating {} peers, held={}", to_us(now), kv.key, kv.version,
                held.invalidate.size(), held.held);
  for (const auto& peer : held.invalidate) {
    ++counters_["invalidations_sent"];
    out.send(peer, 0, Invalidate{kv.key, kv.version, epoch_});
  }
  if (!held.held) send_held({std::move(reply)}, now, out);
}

void FrontendCore::adopt_master(const std::string& master, uint64_t epoch, TimePoint now, Effects& out) {
  if (epoch < epoch_) return;
  if (epoch > epoch_ && master_ == id_ && master != id_) {
    if (handoff_ == Handoff::kHandedOver) {
      spdlog::info("{} took mastership over at epoch {} (handoff done)", master, epoch);
    } else {
      spdlog::warn("epoch {} of {} supersedes ours ({}); no longer master", epoch, master, epoch_);
    }
    claimed_ = false;
  }
  const bool changed = master != master_ || epoch != epoch_;
  if (changed) spdlog::info("master is {} (epoch {})", master.empty() ? "unknown" : master, epoch);
  master_ = master;
  epoch_ = epoch;
  if (changed) master_disowned_ = false;
  if (changed) {
    on_role_change(out);
    send_heartbeats(now, out);  // so that a new master hears at once that we follow it
  }
  set_role(is_master() ? "master" : "peer");
}

void FrontendCore::on_role_change(Effects& out) {
  // Correctness first: whatever was cached under the old master may be stale.
  flush_cache("master changed");
  lease_until_ = TimePoint{};
  // Updates waiting for invalidations are durable; the publisher resends them to the new master,
  // whose answer (a duplicate ack) comes once that master knows every copy is gone.
  for (auto& held : directory_.clear()) out.send(held.to, held.req, not_master_error());
  for (auto& held : std::exchange(settling_, {})) out.send(held.to, held.req, not_master_error());
  for (auto& held : std::exchange(held_updates_, {})) out.send(held.from, held.msg.req, not_master_error());
  handoff_ = Handoff::kNone;
  master_lease_until_ = TimePoint{};
  to_confirm_.clear();
}

void FrontendCore::on_heartbeat(const Heartbeat& hb, TimePoint now, Effects& out) {
  ++counters_["heartbeats_received"];
  if (info_of(hb.from) == nullptr || hb.from == id_) return;
  on_peer_heard(hb.from, hb.incarnation, now);
  if (hb.epoch > epoch_) adopt_master(hb.master, hb.epoch, now, out);
  if (hb.from == master_) master_disowned_ = hb.epoch == epoch_ && hb.master != master_;
  peer_view_[hb.from].database_ok = hb.database_ok;
  confirmed(hb.from, hb.epoch, now, out);
}

void FrontendCore::on_tick(TimePoint now, Effects& out) {
  if (!started_) {
    started_ = true;
    set_role("starting");
  }
  if (now >= next_master_poll_) {
    ask(cfg_.database.id, GetMaster{}, {Pending::Kind::kGetMaster, "", 0, now, "", {}}, out);
    const bool unsure = master_.empty() || (master_ == id_ && !claimed_) || database_failing_;
    next_master_poll_ = now + (unsure ? kMasterPollUnknown : kMasterPollKnown);
  }
  tick_membership(now, out);
  tick_consistency(now, out);
  expire_pending(now, out);
  if (now >= next_prune_) {  // O(tablets): once a second, not every heartbeat
    for (auto it = tablets_seen_.begin(); it != tablets_seen_.end();) {
      it = now - it->second > kTabletWindow ? tablets_seen_.erase(it) : std::next(it);
    }
    next_prune_ = now + ms(1000);
  }
  recompute_wake();
}

void FrontendCore::expire_pending(TimePoint now, Effects& out) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t req = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto p = pending_.find(req);
    if (p == pending_.end()) continue;
    Pending gone = std::move(p->second);
    pending_.erase(p);
    ++counters_["request_timeouts"];
    const bool to_database = gone.kind != Pending::Kind::kFetch && gone.kind != Pending::Kind::kPoll &&
                             gone.kind != Pending::Kind::kLease;
    // Failing only if nothing came from the database since this request was sent.
    if (to_database && last_database_reply_ < gone.sent_at) database_failing_ = true;
    switch (gone.kind) {
      case Pending::Kind::kClaim:
        claim_in_flight_ = false;
        break;
      case Pending::Kind::kRenew:
        if (handoff_ == Handoff::kReleasing) abandon_handoff(now, out);  // the database did not answer
        break;
      case Pending::Kind::kFetch:
      case Pending::Kind::kPoll:
        fill_failed(gone.key, now, out);
        break;
      case Pending::Kind::kFill:
        fill_failed(gone.key, now, out);
        break;
      case Pending::Kind::kUpdate:
        update_done(gone, now, out, false);
        out.send(gone.client, gone.client_req, make_error(code::kUnavailable, "no answer in time from the database"));
        break;
      default:
        if (!gone.client.empty()) {
          out.send(gone.client, gone.client_req, make_error(code::kUnavailable, "no answer in time from upstream"));
        }
    }
  }
}

void FrontendCore::recompute_wake() {
  TimePoint w = std::min({next_heartbeat_, next_master_poll_, directory_.next_deadline(), detector_.next_deadline()});
  if (!is_master() && !claim_in_flight_ && next_claim_ > TimePoint{}) w = std::min(w, next_claim_);
  if (handoff_ != Handoff::kNone) w = std::min(w, handoff_deadline_);
  if (is_master()) w = std::min(w, next_serving_);
  if (!settling_.empty()) w = std::min(w, acks_from_);
  if (!deadlines_.empty()) w = std::min(w, deadlines_.begin()->first);
  next_wake_ = w;
}

Error FrontendCore::not_master_error() const {
  Error e = make_error(code::kNotMaster, master_.empty() ? std::string("no master is known yet; retry shortly")
                                                          : id_ + " is not master; " + master_ + " is");
  if (!master_.empty() && master_ != id_) {
    e.master = master_;
    if (const auto* f = info_of(master_)) e.address = f->address;
  }
  e.epoch = epoch_;
  return e;
}

Stats FrontendCore::stats(TimePoint now) const {
  Stats s;
  s.node = id_;
  s.role = is_master() ? "master" : "peer";
  s.counters = counters_;
  int64_t served = 0;
  for (const auto& [t, at] : tablets_seen_) served += (now - at <= kTabletWindow);
  s.counters["tablets_served"] = served;
  s.counters["epoch"] = static_cast<int64_t>(epoch_);
  s.counters["pending_requests"] = static_cast<int64_t>(pending_.size());
  s.counters["cache_size"] = static_cast<int64_t>(cache_.size());
  s.counters["cache_evictions"] = static_cast<int64_t>(cache_.evictions());
  s.counters["held_acks"] = static_cast<int64_t>(directory_.waiting());
  s.counters["lease_valid"] = (holds_master_lease(now) || (!is_master() && now < lease_until_)) ? 1 : 0;
  s.counters["suspicions"] = detector_.suspicions();
  s.counters["false_suspicions"] = detector_.false_suspicions();
  s.counters["restarts_seen"] = detector_.restarts();
  s.info["suspected"] = comma_joined(detector_.suspects());
  if (is_master()) s.info["serving"] = comma_joined(serving_);
  if (handoff_ != Handoff::kNone) s.info["handoff"] = "in progress";
  s.info["master"] = master_;
  s.info["epoch"] = std::to_string(epoch_);
  s.info["consistency"] = to_string(cfg_.consistency);
  if (!push()) s.info["ttr"] = cfg_.pull.adaptive ? "adaptive" : "fixed";
  return s;
}

}  // namespace oly
