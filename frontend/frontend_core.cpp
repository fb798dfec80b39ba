#include "frontend/frontend_core.h"

#include <algorithm>

#include "common/log.h"

namespace oly {

namespace {
// How often a front end that does not know the master asks the database.
constexpr Duration kMasterPollUnknown = ms(200);
// How often it asks anyway, as a backstop to heartbeats.
constexpr Duration kMasterPollKnown = ms(2000);
// A tablet counts as served by this front end if it read within this window.
constexpr Duration kTabletWindow = ms(5000);
}  // namespace

FrontendCore::FrontendCore(const Config& cfg, std::string id, uint64_t req_base)
    : cfg_(cfg), id_(std::move(id)), events_(cfg.events.begin(), cfg.events.end()), next_req_(req_base) {
  for (const auto& f : cfg_.frontends) frontends_.push_back({f.id, f.address, f.pub});
  counters_["requests"] = 0;
}

const FrontendInfo* FrontendCore::info_of(const std::string& id) const {
  for (const auto& f : frontends_) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

void FrontendCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) {
  if (notice) return;  // front ends subscribe to nothing
  if (from == cfg_.database.id) {
    on_database_reply(msg, now, out);
  } else if (msg.is<Heartbeat>()) {
    on_heartbeat(msg.as<Heartbeat>(), now, out);
  } else {
    on_client_request(from, msg, now, out);
  }
  recompute_wake();
}

void FrontendCore::on_client_request(const std::string& from, Message& msg, TimePoint now, Effects& out) {
  ++counters_["requests"];
  auto read = [&](Body body, const std::optional<std::string>& tablet) {
    if (tablet) tablets_seen_[*tablet] = now;
    ++counters_["reads"];
    ask_database(std::move(body), {Pending::Kind::kRead, from, msg.req, now}, out);
  };
  if (auto* g = std::get_if<GetScore>(&msg.body)) {
    if (!events_.count(g->event)) {
      out.send(from, msg.req, make_error(code::kUnknownEvent, "unknown event '" + g->event + "'"));
      return;
    }
    read(GetScore{g->event, std::nullopt, std::nullopt}, g->tablet);
  } else if (auto* t = std::get_if<GetMedalTally>(&msg.body)) {
    if (std::find(teams().begin(), teams().end(), t->team) == teams().end()) {
      out.send(from, msg.req, make_error(code::kUnknownTeam, "unknown team '" + t->team + "'"));
      return;
    }
    read(GetMedalTally{t->team, std::nullopt, std::nullopt}, t->tablet);
  } else if (auto* b = std::get_if<GetScoreboard>(&msg.body)) {
    read(GetScoreboard{}, b->tablet);
  } else if (auto* r = std::get_if<Register>(&msg.body)) {
    ++counters_["registrations"];
    std::vector<std::string> ids;
    for (const auto& f : frontends_) ids.push_back(f.id);
    ask_database(AssignHome{r->tablet, ids}, {Pending::Kind::kRegister, from, msg.req, now}, out);
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
  ask_database(std::move(msg.body), {Pending::Kind::kUpdate, from, msg.req, now}, out);
}

void FrontendCore::ask_database(Body body, Pending p, Effects& out) {
  const uint64_t req = next_req_++;
  pending_.emplace(req, std::move(p));
  pending_order_.push_back(req);
  out.send(cfg_.database.id, req, std::move(body));
}

void FrontendCore::on_database_reply(Message& msg, TimePoint now, Effects& out) {
  auto it = pending_.find(msg.req);
  if (it == pending_.end()) {
    ++counters_["late_replies"];
    return;
  }
  Pending p = std::move(it->second);
  pending_.erase(it);
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
      if (auto* e = std::get_if<Error>(&msg.body); e && e->code == code::kFenced) {
        spdlog::warn("fenced by the database (epoch {} is stale, current {}); demoting", epoch_, e->epoch.value_or(0));
        ++counters_["fenced"];
        claimed_ = false;
        adopt_master(e->master.value_or(""), e->epoch.value_or(epoch_), now, out);
        out.send(p.client, p.client_req, not_master_error());
        return;
      }
      if (msg.is<Ack>()) ++counters_["updates_acked"];
      out.send(p.client, p.client_req, std::move(msg.body));
      return;
    case Pending::Kind::kGetMaster:
      if (auto* m = std::get_if<MasterInfo>(&msg.body)) on_master_info(*m, false, now, out);
      return;
    case Pending::Kind::kClaim:
      claim_in_flight_ = false;
      if (auto* m = std::get_if<MasterInfo>(&msg.body)) {
        on_master_info(*m, true, now, out);
      } else if (auto* e = std::get_if<Error>(&msg.body)) {
        spdlog::warn("claim of mastership refused: {}", e->error);
        adopt_master(e->master.value_or(""), e->epoch.value_or(epoch_), now, out);
      }
      return;
  }
}

void FrontendCore::on_master_info(const MasterInfo& info, bool claim_reply, TimePoint now, Effects& out) {
  if (claim_reply && info.frontend == id_) {
    claimed_ = true;
    spdlog::info("claimed mastership with epoch {}", info.epoch);
    adopt_master(id_, info.epoch, now, out);
    const auto* me = info_of(id_);
    out.publish("publisher", MasterChanged{id_, me ? me->address : "", info.epoch});
    return;
  }
  // The home master takes mastership at start, fencing any earlier incarnation of itself.
  if (is_home_master() && !claimed_ && !claim_in_flight_) {
    claim_in_flight_ = true;
    ask_database(ClaimMaster{id_, info.epoch + 1}, {Pending::Kind::kClaim, "", 0, now}, out);
    return;
  }
  adopt_master(info.frontend, info.epoch, now, out);
}

void FrontendCore::adopt_master(const std::string& master, uint64_t epoch, TimePoint, Effects&) {
  if (epoch < epoch_) return;
  if (epoch > epoch_ && master_ == id_ && master != id_) {
    spdlog::warn("epoch {} of {} supersedes ours ({}); no longer master", epoch, master, epoch_);
    claimed_ = false;
  }
  if (master != master_ || epoch != epoch_) {
    spdlog::info("master is {} (epoch {})", master.empty() ? "unknown" : master, epoch);
  }
  master_ = master;
  epoch_ = epoch;
  set_role(is_master() ? "master" : "peer");
}

void FrontendCore::on_heartbeat(const Heartbeat& hb, TimePoint now, Effects& out) {
  ++counters_["heartbeats_received"];
  if (hb.epoch > epoch_) adopt_master(hb.master, hb.epoch, now, out);
}

void FrontendCore::on_tick(TimePoint now, Effects& out) {
  if (!started_set_) {
    started_ = now;
    started_set_ = true;
    set_role("starting");
  }
  if (now >= next_heartbeat_) {
    for (const auto& f : frontends_) {
      if (f.id != id_) out.send(f.id, 0, Heartbeat{id_, master_, epoch_});
    }
    next_heartbeat_ = now + ms(cfg_.heartbeat.interval_ms);
  }
  if (now >= next_master_poll_) {
    if (!claim_in_flight_) ask_database(GetMaster{}, {Pending::Kind::kGetMaster, "", 0, now}, out);
    next_master_poll_ = now + (master_.empty() || (is_home_master() && !claimed_) ? kMasterPollUnknown : kMasterPollKnown);
  }
  expire_pending(now, out);
  for (auto it = tablets_seen_.begin(); it != tablets_seen_.end();) {
    it = now - it->second > kTabletWindow ? tablets_seen_.erase(it) : std::next(it);
  }
  recompute_wake();
}

void FrontendCore::expire_pending(TimePoint now, Effects& out) {
  const Duration timeout = ms(cfg_.database.request_timeout_ms);
  while (!pending_order_.empty()) {
    auto it = pending_.find(pending_order_.front());
    if (it == pending_.end()) {
      pending_order_.pop_front();
      continue;
    }
    if (now - it->second.sent_at < timeout) break;
    ++counters_["database_timeouts"];
    if (!it->second.client.empty()) {
      out.send(it->second.client, it->second.client_req,
               make_error(code::kUnavailable, "the database did not answer in time"));
    }
    if (it->second.kind == Pending::Kind::kClaim) claim_in_flight_ = false;
    pending_.erase(it);
    pending_order_.pop_front();
  }
}

void FrontendCore::recompute_wake() {
  TimePoint w = std::min(next_heartbeat_, next_master_poll_);
  if (!pending_order_.empty()) {
    auto it = pending_.find(pending_order_.front());
    if (it != pending_.end()) w = std::min(w, it->second.sent_at + ms(cfg_.database.request_timeout_ms));
  }
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
  s.counters["pending_database"] = static_cast<int64_t>(pending_.size());
  s.info["master"] = master_;
  s.info["epoch"] = std::to_string(epoch_);
  s.info["consistency"] = to_string(cfg_.consistency);
  return s;
}

}  // namespace oly
