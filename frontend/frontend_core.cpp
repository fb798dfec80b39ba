// FrontendCore: dispatch, the requests every role serves, and the requests it sends. The rules
// are in frontend_core.h; roles and transitions are in mastership.cpp, the update path in
// update_path.cpp, the read path in read_path.cpp.
#include "frontend/frontend_core.h"

#include <algorithm>
#include <cmath>

#include "common/key.h"
#include "common/version.h"
#include "common/log.h"

namespace oly {

namespace {
// How often a front end that does not know the master (or whose last request to the database
// went unanswered) asks the database.
constexpr Duration kMasterPollUnknown = ms(200);
// How often it asks anyway, as a backstop to heartbeats.
constexpr Duration kMasterPollKnown = ms(2000);
// How often it asks the replicated database tier for its membership (replicas join and leave).
constexpr Duration kDatabaseMembersPoll = ms(1000);
// A tablet counts as served by this front end if it read within this window.
constexpr Duration kTabletWindow = ms(5000);

std::vector<std::string> frontend_ids(const Config& cfg) {
  std::vector<std::string> ids;
  for (const auto& f : cfg.frontends) ids.push_back(f.id);
  return ids;
}
}  // namespace

FrontendCore::FrontendCore(const Config& cfg, std::string id, uint64_t req_base)
    : cfg_(cfg),
      id_(std::move(id)),
      next_req_(req_base),
      database_(cfg.database_ids()),
      cache_(static_cast<size_t>(cfg.cache.capacity)),
      consistency_(ConsistencyProtocol::make(cfg_, cache_, counters_)),
      incarnation_(req_base | 1),
      members_(id_, frontend_ids(cfg), ms(cfg.heartbeat.timeout_ms), ms(cfg.heartbeat.settle_ms),
               ms(cfg.heartbeat.interval_ms)) {
  for (const auto& f : cfg_.frontends) frontends_.push_back({f.id, f.address, f.pub, f.tcp});
  for (const auto& e : cfg_.events) event_keys_.emplace(e, Key::score(e).str());
  for (const auto& t : teams()) team_keys_.emplace(t, Key::tally(t).str());
  for (const char* c : {"requests", "reads", "cache_hits", "cache_misses", "fills", "invalidations_sent",
                        "invalidations_received", "polls_sent", "not_modified", "flushes", "takeovers", "handoffs"}) {
    counters_[c] = 0;
  }
  // Due at the first tick.
  for (Timer t : {Timer::kHeartbeat, Timer::kMasterPoll, Timer::kPrune}) timers_.set(t, TimePoint{});
  if (cfg_.replicated()) timers_.set(Timer::kDatabaseMembers, TimePoint{});
  // Gossip mode: any replica answers; reads carry the newest vector timestamp seen (docs/gossip.md).
  database_.set_gossip(cfg_.replicated() && cfg_.replication == Replication::kGossip);
  if (cfg_.byzantine) {
    agreement_ = std::make_unique<Agreement>(id_, frontend_ids(cfg_), ms(cfg_.byzantine_round_ms), counters_);
  }
}

void FrontendCore::set_publisher_key(std::string key) {
  if (agreement_) agreement_->set_publisher_key(std::move(key));
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
                        msg.is<InvalidateAck>() || msg.is<Fetch>() || msg.is<Poll>() || msg.is<HandOver>() ||
                        msg.is<Propose>() || msg.is<Relay>();
  const bool peer = members_.is_frontend(from);
  if (internal && !peer) {
    // Only the configured front ends (by endpoint name) take part in consistency and heartbeats.
    ++counters_["unauthorised"];
    out.send(from, msg.req, make_error(ErrorCode::kUnauthorised, "'" + from + "' is not a front end of this cluster"));
    return;
  }
  if (from != id_ && peer && !msg.is<Heartbeat>()) members_.heard(from, 0, now);
  database_.heard(from, now);
  const bool reply = is_reply(msg.body);
  const auto asked = reply ? pending_.find(msg.req) : pending_.end();
  if (asked != pending_.end() && !from_asked(from, asked->second)) {
    // An answer to one of our requests from an endpoint we did not ask (a client guessing request
    // ids, say, to fill the cache with its value): dropped, never answered or used.
    ++counters_["foreign_replies"];
  } else if (asked != pending_.end()) {
    // The database client consumes the answers it retries elsewhere (not_leader).
    if (!database_.owns(msg.req) || database_.on_reply(from, msg, now, out)) on_reply(msg, now, out);
  } else if (reply && msg.req >= DatabaseClient::kOwnReq && database_.owns(msg.req) && database_.is_node(from)) {
    database_.on_reply(from, msg, now, out);  // gossip mode: the answer to a kept update it sent again
  } else if (const auto* hb = std::get_if<Heartbeat>(&msg.body)) {
    on_heartbeat(*hb, now, out);
  } else if (const auto* inv = std::get_if<Invalidate>(&msg.body)) {
    // Gossip mode: the database is read with at least the clock that covers the update.
    if (inv->clock) database_.merge_clock(*inv->clock);
    consistency_->on_invalidate(*inv, view());
    out.send(from, msg.req, InvalidateAck{inv->key, inv->version});
  } else if (const auto* ack = std::get_if<InvalidateAck>(&msg.body)) {
    consistency_->on_invalidate_ack(from, *ack);
    release(now, out);
  } else if (msg.is<LeaseRequest>()) {
    consistency_->on_lease_request(from, msg, view(), now, out);
  } else if (msg.is<Propose>() || msg.is<Relay>()) {
    if (!agreement_) {
      ++counters_["ignored"];
    } else {
      if (msg.is<Propose>()) agreement_->on_propose(from, msg.as<Propose>(), now, out);
      else agreement_->on_relay(from, msg.as<Relay>(), now, out);
      submit_decisions("", 0, now, out);
    }
  } else if (reply) {
    ++counters_["late_replies"];
  } else if (agreement_ && role_ != Role::kStarting && (msg.is<SetScore>() || msg.is<IncrementMedalTally>())) {
    command_update(from, msg, now, out);
  } else if (!(this->*step_)(from, msg, now, out)) {
    on_request(from, msg, now, out);
  }
  recompute_wake(now);
}

// ---------------------------------------------------------------- the ops of each role

bool FrontendCore::step_follower(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  if (msg.is<SetScore>() || msg.is<IncrementMedalTally>()) {
    if (check_token(from, msg, out)) {
      ++counters_["not_master"];
      out.send(from, msg.req, not_master_error());
    }
  } else if (msg.is<Fetch>() || msg.is<Poll>()) {
    ++requests_;
    out.send(from, msg.req, not_master_error());
  } else if (const auto* h = std::get_if<HandOver>(&msg.body)) {
    on_hand_over(*h, now, out);
  } else {
    return false;
  }
  return true;
}

bool FrontendCore::valid_key(const std::string& from, uint64_t req, std::string_view op, const std::string& key,
                             Effects& out) {
  if (Key::parse(key)) return true;
  // Not echoed: the text may be anything a peer sent.
  out.send(from, req, make_error(ErrorCode::kBadValue, std::string(op) + ": key is not score/<event> or tally/<team>"));
  return false;
}

bool FrontendCore::step_master(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  if (msg.is<SetScore>() || msg.is<IncrementMedalTally>()) {
    if (check_token(from, msg, out)) forward_update(from, msg, now, out);
  } else if (const auto* f = std::get_if<Fetch>(&msg.body)) {
    ++requests_;
    if (!valid_key(from, msg.req, Fetch::kOp, f->key, out)) return true;
    serve(f->key, Waiter{Waiter::Kind::kPeerFetch, from, msg.req, 0, 0, f->since, now}, now, out);
  } else if (const auto* p = std::get_if<Poll>(&msg.body)) {
    ++requests_;
    ++counters_["polls_received"];
    if (!valid_key(from, msg.req, Poll::kOp, p->key, out)) return true;
    serve(p->key, Waiter{Waiter::Kind::kPeerPoll, from, msg.req, 0, p->version, p->since, now}, now, out);
  } else if (msg.is<HandOver>()) {
    ++counters_["hand_overs_ignored"];
  } else {
    return false;
  }
  return true;
}

bool FrontendCore::step_handing_over(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  if (!msg.is<SetScore>() && !msg.is<IncrementMedalTally>()) return step_master(from, msg, now, out);
  if (check_token(from, msg, out)) {
    // Forwarded if the handoff fails, else answered not_master naming the new master.
    ++counters_["updates_held_for_handoff"];
    held_.hold({Held::Kind::kUpdate, from, msg.req, std::move(msg.body), 0, now});
  }
  return true;
}

// ---------------------------------------------------------------- what every role serves

void FrontendCore::on_request(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  ++requests_;
  auto seen = [&](const std::optional<std::string>& tablet) {
    note_read(tablet ? std::optional<std::string_view>(*tablet) : std::nullopt, now);
  };
  if (auto* g = std::get_if<GetScore>(&msg.body)) {
    const auto key = event_keys_.find(g->event);
    if (key == event_keys_.end()) {
      out.send(from, msg.req, make_error(ErrorCode::kUnknownEvent, "unknown event '" + g->event + "'"));
      return;
    }
    seen(g->tablet);
    serve(key->second, Waiter{Waiter::Kind::kTablet, from, msg.req, g->min_version.value_or(0), 0, std::nullopt, now}, now, out);
  } else if (auto* t = std::get_if<GetMedalTally>(&msg.body)) {
    const auto key = team_keys_.find(t->team);
    if (key == team_keys_.end()) {
      out.send(from, msg.req, make_error(ErrorCode::kUnknownTeam, "unknown team '" + t->team + "'"));
      return;
    }
    seen(t->tablet);
    serve(key->second, Waiter{Waiter::Kind::kTablet, from, msg.req, t->min_version.value_or(0), 0, std::nullopt, now}, now, out);
  } else if (auto* b = std::get_if<GetScoreboard>(&msg.body)) {
    if (!members_.is_frontend(from)) seen(b->tablet);  // a peer's, asked for a tablet, counted there
    read_board(from, msg.req, now, out);
  } else if (auto* f = std::get_if<GetFeed>(&msg.body)) {
    if (f->event && !event_keys_.count(*f->event)) {
      out.send(from, msg.req, make_error(ErrorCode::kUnknownEvent, "unknown event '" + *f->event + "'"));
    } else if (f->limit && (*f->limit == 0 || *f->limit > GetFeed::kFeedMax)) {
      out.send(from, msg.req, make_error(ErrorCode::kBadValue, "limit: expected 1 to " + std::to_string(GetFeed::kFeedMax)));
    } else {
      ask_database(*f, {Pending::Kind::kRead, from, msg.req, now, "", {}}, out);
    }
  } else if (auto* r = std::get_if<Register>(&msg.body)) {
    ++counters_["registrations"];
    ask_database(AssignHome{r->tablet, members_.frontends()}, {Pending::Kind::kRegister, from, msg.req, now, "", {}},
                 out);
  } else if (msg.is<GetStats>()) {
    out.send(from, msg.req, stats(now));
  } else {
    ++counters_["errors"];
    out.send(from, msg.req,
             make_error(ErrorCode::kUnexpectedOp, "a front end does not serve '" + std::string(op_name(msg.body)) + "'"));
  }
}

void FrontendCore::note_read(std::optional<std::string_view> tablet, TimePoint now) {
  ++reads_;
  if (!tablet) return;
  if (auto it = tablets_seen_.find(*tablet); it != tablets_seen_.end()) {
    it->second = now;
  } else {
    tablets_seen_.emplace(std::string(*tablet), now);
  }
}

// ---------------------------------------------------------------- requests we send

void FrontendCore::read_board(const std::string& client, uint64_t client_req, TimePoint now, Effects& out) {
  if (database_.gossip() && !agreement_ && !is_master()) {
    if (members_.is_frontend(client)) {
      // A peer that takes us for master, which we are not (or no longer): it reads elsewhere. Never
      // passed on, so no ping-pong.
      out.send(client, client_req, not_master_error());
      return;
    }
    if (!master_.empty() && !master_silent(now)) {
      ++counters_["boards_from_master"];
      ask(master_, GetScoreboard{}, {Pending::Kind::kBoard, client, client_req, now, "", fill_timeout()}, out);
      return;
    }
    ++counters_["boards_from_database"];
  }
  ask_database(GetScoreboard{}, {Pending::Kind::kRead, client, client_req, now, "", {}}, out);
}

void FrontendCore::read_board_alone(const Pending& asked_master, TimePoint now, Effects& out) {
  ++counters_["boards_from_database"];
  Pending p{Pending::Kind::kRead, asked_master.client, asked_master.client_req, now, "", {}};
  p.unvouched = true;
  ask_database(GetScoreboard{}, std::move(p), out);
}

bool FrontendCore::from_asked(const std::string& from, const Pending& p) const {
  return p.asked.empty() ? database_.is_node(from) : from == p.asked;
}

uint64_t FrontendCore::ask(const std::string& to, Body body, Pending p, Effects& out) {
  const uint64_t req = next_req_++;
  p.asked = to;
  if (p.timeout == Duration(0)) p.timeout = ms(cfg_.database.request_timeout_ms);
  deadlines_.emplace(p.sent_at + p.timeout, req);
  pending_.emplace(req, std::move(p));
  out.send(to, req, std::move(body));
  return req;
}

uint64_t FrontendCore::ask_database(Body body, Pending p, Effects& out) {
  const uint64_t req = next_req_++;
  if (p.timeout == Duration(0)) p.timeout = ms(cfg_.database.request_timeout_ms);
  deadlines_.emplace(p.sent_at + p.timeout, req);
  const auto& stored = pending_.emplace(req, std::move(p)).first->second;
  database_.send(req, std::move(body), stored.timeout, stored.sent_at, out);
  return req;
}

Body FrontendCore::read_answer(const Pending& p, Body answer) {
  if (auto* b = std::get_if<Scoreboard>(&answer); b != nullptr && p.unvouched) b->partial = true;
  uint64_t version = 0;
  if (const auto* s = std::get_if<ScoreReply>(&answer)) {
    version = s->score.version;
  } else if (const auto* t = std::get_if<TallyReply>(&answer)) {
    version = t->tally.version;
  } else {
    return answer;
  }
  if (version >= p.min_version) return answer;
  // The database's linearizable read has every acknowledged version, so a min_version beyond it
  // was never served by any front end: say so rather than answer older than asked.
  ++counters_["min_version_ahead"];
  return make_error(ErrorCode::kBadValue, "min_version " + std::to_string(p.min_version) + " is ahead of the newest version of " +
                                              p.key + " (" + std::to_string(version) + "): no front end served it");
}

void FrontendCore::on_reply(Message& msg, TimePoint now, Effects& out) {
  auto it = pending_.find(msg.req);
  Pending p = std::move(it->second);
  pending_.erase(it);
  deadlines_.erase({p.sent_at + p.timeout, msg.req});
  switch (p.kind) {
    case Pending::Kind::kRead:
      out.send(p.client, p.client_req, read_answer(p, std::move(msg.body)));
      return;
    case Pending::Kind::kBoard:
      if (const auto* board = std::get_if<Scoreboard>(&msg.body)) {
        if (board->clock) database_.merge_clock(*board->clock);
        out.send(p.client, p.client_req, std::move(msg.body));
      } else {  // the master could not read it, or is no longer master
        read_board_alone(p, now, out);
      }
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
      on_update_answer(p, msg, now, out);
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
    case Pending::Kind::kRelease:
      on_release_answer(msg, now, out);
      return;
    case Pending::Kind::kLease:
      if (auto* g = std::get_if<LeaseGrant>(&msg.body)) consistency_->on_lease_grant(*g, p.sent_at, view());
      return;
    case Pending::Kind::kMembers:
      if (auto* m = std::get_if<Members>(&msg.body)) database_.learn(*m, out);
      return;
    case Pending::Kind::kFill:
    case Pending::Kind::kFetch:
    case Pending::Kind::kPoll:
      on_fill_answer(p, msg, now, out);
      return;
    case Pending::Kind::kSettle:
      on_settle_answer(p, msg, now, out);
      return;
  }
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
    database_.timed_out(req);  // the tier is failing if nothing came from it since this was sent
    switch (gone.kind) {
      case Pending::Kind::kClaim:
        if (role_ == Role::kClaiming) become_peer();
        break;
      case Pending::Kind::kRelease:
        if (role_ == Role::kHandingOver && handoff_ == Handoff::kReleasing) abandon_handoff(now, out);
        break;
      case Pending::Kind::kFetch:
      case Pending::Kind::kPoll:
      case Pending::Kind::kFill:
        fill_failed(gone, now, out);
        break;
      case Pending::Kind::kBoard:
        read_board_alone(gone, now, out);
        break;
      case Pending::Kind::kSettle:
        settling_.erase(gone.key);
        if (is_master() && uncertain_.count(gone.key)) settle(gone.key, now, out);
        break;
      case Pending::Kind::kUpdate:
        update_done(gone, now, out, false);
        answer_client(gone, make_error(ErrorCode::kUnavailable, "no answer in time from the database"), out);
        break;
      default:
        if (!gone.client.empty()) {
          out.send(gone.client, gone.client_req, make_error(ErrorCode::kUnavailable, "no answer in time from upstream"));
        }
    }
  }
}

// ---------------------------------------------------------------- time

void FrontendCore::on_peer_lost(const std::string& peer, TimePoint now, Effects& out) {
  database_.lost(peer, now, out);
}

void FrontendCore::on_tick(TimePoint now, Effects& out) {
  if (timers_.due(Timer::kMasterPoll, now)) {
    ask_database(GetMaster{}, {Pending::Kind::kGetMaster, "", 0, now, "", {}}, out);
    const bool unsure = master_.empty() || (master_ == id_ && !is_master()) || database_.failing();
    timers_.set(Timer::kMasterPoll, now + (unsure ? kMasterPollUnknown : kMasterPollKnown));
  }
  if (timers_.due(Timer::kDatabaseMembers, now)) {
    // Replicas join and leave the database tier at run time: learn its membership.
    ask_database(GetMembers{}, {Pending::Kind::kMembers, "", 0, now, "", {}}, out);
    timers_.set(Timer::kDatabaseMembers, now + kDatabaseMembersPoll);
  }
  tick_membership(now, out);
  if (agreement_) {
    agreement_->tick(now, out);
    submit_decisions("", 0, now, out);
  }
  consistency_->tick(view(), now, out);
  if (is_master()) release(now, out);
  expire_pending(now, out);
  database_.tick(now, out);
  if (timers_.due(Timer::kPrune, now)) {  // O(tablets): once a second, not every heartbeat
    for (auto it = tablets_seen_.begin(); it != tablets_seen_.end();) {
      it = now - it->second > kTabletWindow ? tablets_seen_.erase(it) : std::next(it);
    }
    timers_.set(Timer::kPrune, now + ms(1000));
  }
  recompute_wake(now);
}

void FrontendCore::recompute_wake(TimePoint now) {
  TimePoint w = std::min({timers_.next(), consistency_->next_deadline(), members_.detector().next_deadline(),
                          database_.next_deadline()});
  if (!deadlines_.empty()) w = std::min(w, deadlines_.begin()->first);
  if (held_.acks() > 0 && acks_from_ > now) w = std::min(w, acks_from_);
  if (agreement_) w = std::min(w, agreement_->next_deadline());
  next_wake_ = w;
}

// ---------------------------------------------------------------- answers

Error FrontendCore::not_master_error() const {
  Error e = make_error(ErrorCode::kNotMaster, master_.empty() ? std::string("no master is known yet; retry shortly")
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
  const auto& detector = members_.detector();
  s.counters["tablets_served"] = served;
  s.counters["epoch"] = static_cast<int64_t>(epoch_);
  s.counters["pending_requests"] = static_cast<int64_t>(pending_.size());
  s.counters["cache_size"] = static_cast<int64_t>(cache_.size());
  s.counters["cache_evictions"] = static_cast<int64_t>(cache_.evictions());
  s.counters["held_acks"] = static_cast<int64_t>(held_.acks());
  s.counters["held_updates"] = static_cast<int64_t>(held_.updates());
  s.counters["lease_valid"] = holds_master_lease(now) ? 1 : 0;
  s.counters["suspicions"] = detector.suspicions();
  s.counters["false_suspicions"] = detector.false_suspicions();
  s.counters["restarts_seen"] = detector.restarts();
  s.info["state"] = std::string(to_string(role_));
  s.info["suspected"] = comma_joined(detector.suspects());
  if (is_master()) s.info["serving"] = comma_joined(serving_);
  if (role_ == Role::kHandingOver) s.info["handoff"] = "in progress";
  s.info["master"] = master_;
  if (database_.gossip()) {
    s.counters["database_partial_reads"] = database_.partial_reads();
    std::string clock;
    for (const auto& [replica, n] : database_.clock()) clock += (clock.empty() ? "" : " ") + replica + ":" + std::to_string(n);
    s.info["database_clock"] = clock;
  }
  std::vector<std::string> replicas;
  for (size_t i = 0; i < database_.replicas().size(); ++i) {
    if (!database_.removed(i)) replicas.push_back(database_.replicas()[i]);
  }
  s.info["database_replicas"] = comma_joined(replicas);
  s.info["epoch"] = std::to_string(epoch_);
  s.info["consistency"] = to_string(consistency_->mode());
  s.info["version"] = std::string(kVersion);
  // Upper estimates from the latency histograms (their bucket bounds), in microseconds.
  const auto p99_us = [](const metrics::Histogram& h) {
    const double q = h.quantile(0.99);
    return std::isinf(q) ? int64_t{-1} : static_cast<int64_t>(q * 1e6);
  };
  if (latencies_.reads.count() > 0) s.counters["read_p99_us"] = p99_us(latencies_.reads);
  if (latencies_.acks.count() > 0) s.counters["ack_p99_us"] = p99_us(latencies_.acks);
  s.info["database"] = database_.leader();
  consistency_->add_stats(s, view(), now);
  return s;
}

}  // namespace oly
