// FrontendCore's roles and their transitions (role.h): heartbeats, claims, the master lease,
// the serving set and the ordered handoff. The rules are in frontend_core.h ("Roles") and
// DESIGN.md section 5.
#include <algorithm>

#include "common/log.h"
#include "frontend/frontend_core.h"

namespace oly {

namespace {
// The master republishes the serving set this often, for tablets that missed a change.
constexpr Duration kServingRepeat = ms(1000);
}  // namespace

// ---------------------------------------------------------------- becoming a role

void FrontendCore::become_peer() {
  const bool was_master = is_master();
  role_ = Role::kPeer;
  step_ = &FrontendCore::step_follower;
  timers_.cancel(Timer::kServing);
  timers_.cancel(Timer::kHandoffDeadline);
  if (!was_master) return;
  master_lease_until_ = TimePoint{};
  to_confirm_.clear();
  uncertain_.clear();
  settling_.clear();
  // Correctness first: nothing written through while master is known to be current now.
  flush_cache(cache_, counters_, "no longer master");
  consistency_->reset();
}

void FrontendCore::become_claiming(TimePoint now, Effects& out) {
  role_ = Role::kClaiming;
  step_ = &FrontendCore::step_follower;
  timers_.cancel(Timer::kClaimRetry);
  claim_prev_master_ = master_;
  claim_epoch_ = epoch_ + 1;
  spdlog::info("claiming mastership with epoch {} (master was {})", claim_epoch_, master_.empty() ? "nobody" : master_);
  // A short timeout: a claim is safe to send again (see on_claim_answer), and a lost one should
  // not keep the cluster without a master for a whole database timeout.
  ask_database(ClaimMaster{id_, claim_epoch_}, {Pending::Kind::kClaim, "", 0, now, "", fill_timeout()}, out);
}

void FrontendCore::become_master(TimePoint claim_sent, uint64_t epoch, TimePoint now, Effects& out) {
  role_ = Role::kMaster;
  step_ = &FrontendCore::step_master;
  const bool replaced_self = claim_prev_master_ == id_;
  ++counters_[claim_prev_master_.empty() || replaced_self ? "claims" : "takeovers"];
  spdlog::info("master with epoch {} (after {})", epoch, claim_prev_master_.empty() ? "nobody" : claim_prev_master_);
  adopt_master(id_, epoch, now, out);  // flushes the cache, heartbeats the new epoch, renews
  // The database started our lease when the claim arrived; ours runs from when we sent it.
  master_lease_until_ = claim_sent + ms(cfg_.heartbeat.timeout_ms);
  // Push: a master grants read leases only within its own master lease, so every lease an
  // earlier master granted ended before the database let this claim through. Except when that
  // master was an earlier incarnation of ours, which the database lets us replace at once: then
  // acknowledge nothing until each other peer has confirmed our epoch in a heartbeat (and so
  // flushed what it cached) or that incarnation's master lease has certainly run out.
  acks_from_ = now;
  to_confirm_.clear();
  if (replaced_self && consistency_->acks_settle()) {
    acks_from_ = now + ms(cfg_.heartbeat.timeout_ms);
    for (const auto& f : members_.frontends()) {
      if (f != id_) to_confirm_.insert(f);
    }
  }
  const auto* me = info_of(id_);
  out.publish("publisher", MasterChanged{id_, me ? me->address : "", epoch});
  serving_.clear();
  serving_seq_ = 0;
  timers_.set(Timer::kServing, now);
  publish_serving(now, out);
}

void FrontendCore::become_handing_over(TimePoint target_up, TimePoint now) {
  role_ = Role::kHandingOver;
  step_ = &FrontendCore::step_handing_over;
  handoff_ = Handoff::kDraining;
  handoff_target_up_ = target_up;
  timers_.set(Timer::kHandoffDeadline, now + ms(cfg_.database.request_timeout_ms + cfg_.heartbeat.timeout_ms));
}

void FrontendCore::adopt_master(const std::string& master, uint64_t epoch, TimePoint now, Effects& out) {
  if (epoch < epoch_) return;
  if (is_master() && master != id_) {
    if (role_ == Role::kHandingOver && handoff_ == Handoff::kHandedOver) {
      spdlog::info("{} took mastership over at epoch {} (handoff done)", master, epoch);
    } else {
      spdlog::warn("epoch {} of {} supersedes ours ({}); no longer master", epoch, master, epoch_);
    }
    become_peer();
  }
  if (master == master_ && epoch == epoch_) return;
  spdlog::info("master is {} (epoch {})", master.empty() ? "unknown" : master, epoch);
  master_ = master;
  epoch_ = epoch;
  master_disowned_ = false;
  // Correctness first: whatever was cached under the old master may be stale.
  flush_cache(cache_, counters_, "master changed");
  consistency_->reset();
  drain_held(out);
  send_heartbeats(now, out);  // so that a new master hears at once that we follow it
}

// ---------------------------------------------------------------- heartbeats and membership

void FrontendCore::send_heartbeats(TimePoint now, Effects& out) {
  for (const auto& f : members_.frontends()) {
    if (f != id_) out.send(f, 0, Heartbeat{id_, master_, epoch_, incarnation_, !database_.failing()});
  }
  const Duration within = ms(cfg_.heartbeat.timeout_ms);
  if (auto lease = consistency_->on_heartbeat(view())) {
    ask(master_, std::move(*lease), {Pending::Kind::kLease, "", 0, now, "", within}, out);
  }
  if (role_ == Role::kMaster) {
    ask_database(RenewMaster{id_, epoch_, false}, {Pending::Kind::kRenew, "", 0, now, "", within}, out);
  }
  timers_.set(Timer::kHeartbeat, now + ms(cfg_.heartbeat.interval_ms));
}

void FrontendCore::on_heartbeat(const Heartbeat& hb, TimePoint now, Effects& out) {
  ++counters_["heartbeats_received"];
  if (!members_.is_frontend(hb.from) || hb.from == id_) return;
  members_.heard(hb.from, hb.incarnation, now);
  if (hb.epoch > epoch_) adopt_master(hb.master, hb.epoch, now, out);
  if (hb.from == master_) master_disowned_ = hb.epoch == epoch_ && hb.master != master_;
  members_.said(hb.from, hb.epoch, hb.database_ok);
  confirmed(hb.from, hb.epoch, now, out);
}

void FrontendCore::confirmed(const std::string& peer, uint64_t epoch, TimePoint now, Effects& out) {
  if (!is_master() || epoch < epoch_ || !to_confirm_.erase(peer) || !to_confirm_.empty()) return;
  // Every peer has flushed what it cached under earlier masters: acknowledgements may go out.
  if (now < acks_from_) acks_from_ = now;
  release(now, out);
}

bool FrontendCore::master_silent(TimePoint now) const {
  if (is_master() || master_.empty()) return false;
  return members_.silent(master_, now);
}

void FrontendCore::tick_membership(TimePoint now, Effects& out) {
  members_.start(now);
  for (const auto& p : members_.tick(now)) {
    spdlog::warn("suspecting {}: silent for {} ms{}", p, cfg_.heartbeat.timeout_ms, p == master_ ? " (the master)" : "");
  }
  if (timers_.due(Timer::kHeartbeat, now)) send_heartbeats(now, out);
  switch (role_) {
    case Role::kPeer:
      maybe_claim(now, out);
      break;
    case Role::kMaster:
      tick_master(now, out);
      break;
    case Role::kHandingOver:
      tick_handoff(now, out);
      if (is_master()) publish_serving(now, out);
      break;
    case Role::kStarting:
    case Role::kClaiming:
      break;
  }
}

// ---------------------------------------------------------------- takeover

void FrontendCore::maybe_claim(TimePoint now, Effects& out) {
  if (role_ != Role::kPeer) return;
  if (timers_.is_set(Timer::kClaimRetry)) {
    if (!timers_.due(Timer::kClaimRetry, now)) return;
    timers_.cancel(Timer::kClaimRetry);
  }
  // The database names us (an earlier incarnation, or a claim whose answer was lost): nobody else
  // will claim while we heartbeat, so we must, whatever our priority.
  if (master_ == id_) {
    become_claiming(now, out);
    return;
  }
  // Nobody at all, a suspected master, or one that says it is master no more (it lost its lease:
  // cut off from the database): the first living front end in config order claims.
  if (!master_.empty() && !members_.detector().suspected(master_) && !master_disowned_) return;
  if (members_.first_living(master_)) become_claiming(now, out);
}

void FrontendCore::on_claim_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  if (role_ == Role::kClaiming) become_peer();  // until the answer below says otherwise
  if (auto* e = std::get_if<Error>(&msg.body);
      e && e->code == ErrorCode::kFenced && e->master == id_ && e->epoch == claim_epoch_ && epoch_ < claim_epoch_) {
    msg.body = MasterInfo{id_, claim_epoch_, {}};  // an earlier send of this claim won; its answer was lost
  }
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (e->code == ErrorCode::kLeaseHeld) {
      ++counters_["claims_lease_held"];
      timers_.set(Timer::kClaimRetry,
                  now + ms(std::max<int64_t>(1, e->retry_after_ms.value_or(cfg_.heartbeat.interval_ms))));
      spdlog::info("claim refused: {}", e->error);
    } else if (e->code == ErrorCode::kFenced) {
      spdlog::warn("claim refused: {}", e->error);
      adopt_master(e->master.value_or(""), e->epoch.value_or(epoch_), now, out);
    } else {
      spdlog::warn("claim failed: {}", e->error);
      timers_.set(Timer::kClaimRetry, now + ms(cfg_.heartbeat.interval_ms));
    }
    return;
  }
  auto* m = std::get_if<MasterInfo>(&msg.body);
  if (m == nullptr) return;
  if (m->frontend != id_) {
    adopt_master(m->frontend, m->epoch, now, out);
  } else if (!is_master()) {
    become_master(p.sent_at, m->epoch, now, out);
  }
}

void FrontendCore::on_master_info(const MasterInfo& info, TimePoint now, Effects& out) {
  if (role_ == Role::kStarting) become_peer();
  if (info.epoch > epoch_ || (info.epoch == epoch_ && master_.empty())) adopt_master(info.frontend, info.epoch, now, out);
  maybe_claim(now, out);
}

// ---------------------------------------------------------------- the master lease

void FrontendCore::on_renew_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (e->code == ErrorCode::kFenced) on_fenced(*e, now, out);
    return;
  }
  auto* m = std::get_if<MasterInfo>(&msg.body);
  if (m == nullptr || role_ != Role::kMaster || m->frontend != id_ || m->epoch != epoch_ || !m->lease_ms) return;
  master_lease_until_ = std::max(master_lease_until_, p.sent_at + ms(*m->lease_ms));
}

void FrontendCore::on_fenced(const Error& e, TimePoint now, Effects& out) {
  if (e.epoch.value_or(0) <= epoch_ && !is_master()) return;  // a late answer: we know already
  // An answer to a request sent under an earlier epoch of ours (a resend through a new database
  // leader): the database's current master is still us.
  if (is_master() && e.epoch.value_or(0) == epoch_ && e.master.value_or("") == id_) return;
  spdlog::warn("fenced by the database (our epoch {} is stale, current {}); demoting", epoch_, e.epoch.value_or(0));
  ++counters_["fenced"];
  become_peer();
  adopt_master(e.master.value_or(""), e.epoch.value_or(epoch_), now, out);
  drain_held(out);
}

void FrontendCore::tick_master(TimePoint now, Effects& out) {
  if (now >= master_lease_until_ + ms(cfg_.database.request_timeout_ms)) {
    step_down(now, out);
    return;
  }
  const std::string& home = members_.home_master();
  TimePoint up;
  if (home != id_ && now >= next_handoff_ && members_.ready_to_lead(home, epoch_, now, &up)) {
    // The home master is back, has settled, follows us and reaches the database: hand back.
    spdlog::info("home master {} is back; handing mastership over (draining)", home);
    become_handing_over(up, now);
    tick_handoff(now, out);
  }
  if (is_master()) publish_serving(now, out);
}

void FrontendCore::step_down(TimePoint now, Effects& out) {
  // Our renewals go unanswered for a whole database timeout (not a mere slow commit): the
  // database may be cut off from us while peers still hear us, so they would never suspect us.
  // Step down and say so in heartbeats; a peer takes over (or we claim again once the database
  // answers).
  spdlog::warn("master lease lapsed {} ms ago (the database does not answer renewals); stepping down",
               cfg_.database.request_timeout_ms);
  ++counters_["step_downs"];
  become_peer();
  adopt_master("", epoch_, now, out);
  drain_held(out);
}

// ---------------------------------------------------------------- serving set

void FrontendCore::publish_serving(TimePoint now, Effects& out) {
  // Until every peer has been heard or suspected once, the picture is incomplete.
  if (!members_.complete()) {
    timers_.set(Timer::kServing, now + ms(cfg_.heartbeat.interval_ms));
    return;
  }
  auto s = members_.serving();
  if (s == serving_ && !timers_.due(Timer::kServing, now)) return;
  if (s != serving_) spdlog::info("tablets are served by {}", comma_joined(s));
  serving_ = std::move(s);
  out.publish(std::string(Serving::kOp), Serving{epoch_, ++serving_seq_, serving_});  // topic: the op's name
  timers_.set(Timer::kServing, now + kServingRepeat);
}

// ---------------------------------------------------------------- ordered handoff

void FrontendCore::tick_handoff(TimePoint now, Effects& out) {
  if (handoff_ == Handoff::kDraining && updating_.empty() && held_.acks() == 0) {
    // Every update we forwarded is acknowledged: stop serving as master and release the lease.
    handoff_ = Handoff::kReleasing;
    master_lease_until_ = TimePoint{};
    ask_database(RenewMaster{id_, epoch_, true},
                 {Pending::Kind::kRelease, "", 0, now, "", ms(cfg_.heartbeat.timeout_ms)}, out);
  }
  const std::string& home = members_.home_master();
  if (!members_.same_run(home, handoff_target_up_)) {
    spdlog::warn("{} was suspected or restarted during the handoff; resuming as master", home);
    abandon_handoff(now, out);
  } else if (timers_.due(Timer::kHandoffDeadline, now)) {
    spdlog::warn("handoff to {} did not complete in time; resuming as master", home);
    abandon_handoff(now, out);
  }
}

void FrontendCore::on_release_answer(Message& msg, TimePoint now, Effects& out) {
  const bool releasing = role_ == Role::kHandingOver && handoff_ == Handoff::kReleasing;
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (e->code == ErrorCode::kFenced) on_fenced(*e, now, out);
    if (releasing && role_ == Role::kHandingOver) abandon_handoff(now, out);
    return;
  }
  auto* m = std::get_if<MasterInfo>(&msg.body);
  if (m == nullptr || !releasing || m->frontend != id_ || m->epoch != epoch_) return;
  handoff_ = Handoff::kHandedOver;
  const std::string& home = members_.home_master();
  spdlog::info("lease released; handing mastership over to {}", home);
  out.send(home, 0, HandOver{id_, epoch_});
}

void FrontendCore::abandon_handoff(TimePoint now, Effects& out) {
  role_ = Role::kMaster;
  step_ = &FrontendCore::step_master;
  timers_.cancel(Timer::kHandoffDeadline);
  next_handoff_ = now + ms(cfg_.heartbeat.settle_ms);
  ++counters_["handoffs_failed"];
  send_heartbeats(now, out);  // renews the master lease
  release(now, out);          // forwards the updates held meanwhile
}

void FrontendCore::on_hand_over(const HandOver& h, TimePoint now, Effects& out) {
  if (h.from != master_ || h.epoch != epoch_) {
    ++counters_["hand_overs_ignored"];
    return;
  }
  spdlog::info("{} hands mastership over", h.from);
  ++counters_["handoffs"];
  become_claiming(now, out);
}

}  // namespace oly
