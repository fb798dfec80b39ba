// FrontendCore: failure detection, takeover, the master lease, the serving set and the ordered
// handoff. The rules are in frontend_core.h ("Mastership and failures") and DESIGN.md section 5.
#include <algorithm>

#include "common/log.h"
#include "frontend/frontend_core.h"

namespace oly {

namespace {
// The master republishes the serving set this often, for tablets that missed a change.
constexpr Duration kServingRepeat = ms(1000);
}  // namespace

void FrontendCore::send_heartbeats(TimePoint now, Effects& out) {
  for (const auto& f : frontends_) {
    if (f.id != id_) out.send(f.id, 0, Heartbeat{id_, master_, epoch_, incarnation_, !database_failing_});
  }
  const Duration within = ms(cfg_.heartbeat.timeout_ms);
  if (push() && !is_master() && !master_.empty()) {
    ask(master_, LeaseRequest{id_, epoch_}, {Pending::Kind::kLease, "", 0, now, "", within}, out);
  }
  if (is_master() && handoff_ == Handoff::kNone) {
    ask(cfg_.database.id, RenewMaster{id_, epoch_, false}, {Pending::Kind::kRenew, "", 0, now, "", within}, out);
  }
  next_heartbeat_ = now + ms(cfg_.heartbeat.interval_ms);
}

bool FrontendCore::master_silent(TimePoint now) const {
  if (is_master() || master_.empty()) return false;
  if (detector_.suspected(master_)) return true;
  const auto heard = detector_.last_heard(master_);
  return !heard || now - *heard >= 2 * ms(cfg_.heartbeat.interval_ms);
}

void FrontendCore::on_peer_heard(const std::string& peer, uint64_t incarnation, TimePoint now) {
  switch (detector_.heard(peer, now, incarnation)) {
    case FailureDetector::Heard::kRecovered:
      spdlog::info("{} is heard again, same incarnation: the suspicion was false", peer);
      rejoining_.insert(peer);
      break;
    case FailureDetector::Heard::kRestarted:
      spdlog::info("{} has restarted", peer);
      rejoining_.insert(peer);
      peer_view_.erase(peer);
      break;
    default:
      break;
  }
}

void FrontendCore::confirmed(const std::string& peer, uint64_t epoch, TimePoint now, Effects& out) {
  peer_view_[peer].epoch = epoch;
  if (!is_master() || epoch < epoch_ || !to_confirm_.erase(peer) || !to_confirm_.empty()) return;
  // Every peer has flushed what it cached under earlier masters: acknowledgements may go out.
  if (now < acks_from_) acks_from_ = now;
  if (!settling_.empty()) send_held(std::exchange(settling_, {}), now, out);
}

void FrontendCore::tick_membership(TimePoint now, Effects& out) {
  if (started_at_ == TimePoint{}) {
    started_at_ = now;
    detector_.start(now);
  }
  for (const auto& p : detector_.check(now)) {
    spdlog::warn("suspecting {}: silent for {} ms{}", p, cfg_.heartbeat.timeout_ms, p == master_ ? " (the master)" : "");
    peer_view_.erase(p);
    rejoining_.insert(p);
  }
  for (auto it = rejoining_.begin(); it != rejoining_.end();) {
    const auto up = detector_.up_since(*it);
    it = (up && now - *up >= ms(cfg_.heartbeat.settle_ms)) ? rejoining_.erase(it) : std::next(it);
  }
  if (now >= next_heartbeat_) send_heartbeats(now, out);
  maybe_claim(now, out);
  if (is_master() && handoff_ == Handoff::kNone &&
      now >= master_lease_until_ + ms(cfg_.database.request_timeout_ms)) {
    // Our renewals go unanswered for a whole database timeout (not a mere slow commit): the
    // database may be cut off from us while peers still hear us, so they would never suspect us.
    // Step down and say so in heartbeats; a peer takes over (or we claim again once the database
    // answers).
    spdlog::warn("master lease lapsed {} ms ago (the database does not answer renewals); stepping down",
                 cfg_.database.request_timeout_ms);
    ++counters_["step_downs"];
    claimed_ = false;
    adopt_master("", epoch_, now, out);
  }
  if (is_master()) {
    tick_handoff(now, out);
    publish_serving(now, out);
  }
}

// ---------------------------------------------------------------- takeover

void FrontendCore::maybe_claim(TimePoint now, Effects& out) {
  if (is_master() || claim_in_flight_ || !db_known_ || now < next_claim_) return;
  next_claim_ = TimePoint{};  // due: no further wake-up for it
  // The database names us (an earlier incarnation, or a claim whose answer was lost): nobody else
  // will claim while we heartbeat, so we must, whatever our priority.
  if (master_ == id_) {
    claim(now, out);
    return;
  }
  // Nobody at all, a suspected master, or one that says it is master no more (it lost its lease:
  // cut off from the database): the first living front end in config order claims.
  if (!master_.empty() && !detector_.suspected(master_) && !master_disowned_) return;
  for (const auto& f : frontends_) {
    if (f.id == id_) break;                                    // we come first among the living
    if (f.id != master_ && !detector_.suspected(f.id)) return;  // an earlier one will claim
  }
  claim(now, out);
}

void FrontendCore::claim(TimePoint now, Effects& out) {
  claim_in_flight_ = true;
  claim_prev_master_ = master_;
  claim_epoch_ = epoch_ + 1;
  spdlog::info("claiming mastership with epoch {} (master was {})", epoch_ + 1, master_.empty() ? "nobody" : master_);
  // A short timeout: a claim is safe to send again (see on_claim_answer), and a lost one should
  // not keep the cluster without a master for a whole database timeout.
  ask(cfg_.database.id, ClaimMaster{id_, claim_epoch_}, {Pending::Kind::kClaim, "", 0, now, "", fill_timeout()}, out);
}

void FrontendCore::on_claim_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  claim_in_flight_ = false;
  if (auto* e = std::get_if<Error>(&msg.body);
      e && e->code == code::kFenced && e->master == id_ && e->epoch == claim_epoch_ && epoch_ < claim_epoch_) {
    msg.body = MasterInfo{id_, claim_epoch_, {}};  // an earlier send of this claim won; its answer was lost
  }
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (e->code == code::kLeaseHeld) {
      ++counters_["claims_lease_held"];
      next_claim_ = now + ms(std::max<int64_t>(1, e->retry_after_ms.value_or(cfg_.heartbeat.interval_ms)));
      spdlog::info("claim refused: {}", e->error);
    } else if (e->code == code::kFenced) {
      spdlog::warn("claim refused: {}", e->error);
      adopt_master(e->master.value_or(""), e->epoch.value_or(epoch_), now, out);
    } else {
      spdlog::warn("claim failed: {}", e->error);
      next_claim_ = now + ms(cfg_.heartbeat.interval_ms);
    }
    return;
  }
  auto* m = std::get_if<MasterInfo>(&msg.body);
  if (m == nullptr) return;
  if (m->frontend != id_) {
    adopt_master(m->frontend, m->epoch, now, out);
    return;
  }
  claimed_ = true;
  ++counters_[claim_prev_master_.empty() || claim_prev_master_ == id_ ? "claims" : "takeovers"];
  spdlog::info("master with epoch {} (after {})", m->epoch, claim_prev_master_.empty() ? "nobody" : claim_prev_master_);
  adopt_master(id_, m->epoch, now, out);  // flushes the cache, heartbeats the new epoch
  // The database started our lease when the claim arrived; ours runs from when we sent it.
  master_lease_until_ = p.sent_at + ms(cfg_.heartbeat.timeout_ms);
  // Push: a master grants read leases only within its own master lease (read_path.cpp), so every
  // lease an earlier master granted ended before the database let this claim through. Except when
  // that master was an earlier incarnation of ours, which the database lets us replace at once:
  // then acknowledge nothing until each other peer has confirmed our epoch in a heartbeat (and so
  // flushed what it cached) or that incarnation's master lease has certainly run out.
  acks_from_ = now;
  if (claim_prev_master_ == id_) {
    acks_from_ = now + ms(cfg_.heartbeat.timeout_ms);
    for (const auto& f : frontends_) {
      if (f.id != id_) to_confirm_.insert(f.id);
    }
  }
  const auto* me = info_of(id_);
  out.publish("publisher", MasterChanged{id_, me ? me->address : "", m->epoch});
  serving_.clear();
  serving_seq_ = 0;
  next_serving_ = now;
  publish_serving(now, out);
}

void FrontendCore::on_master_info(const MasterInfo& info, TimePoint now, Effects& out) {
  db_known_ = true;
  if (info.epoch > epoch_ || (info.epoch == epoch_ && master_.empty())) adopt_master(info.frontend, info.epoch, now, out);
  maybe_claim(now, out);
}

void FrontendCore::on_renew_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (e->code == code::kFenced) on_fenced(*e, now, out);
    if (p.key == "release" && handoff_ == Handoff::kReleasing) abandon_handoff(now, out);
    return;
  }
  auto* m = std::get_if<MasterInfo>(&msg.body);
  if (m == nullptr || !is_master() || m->frontend != id_ || m->epoch != epoch_) return;
  if (p.key == "release") {
    if (handoff_ != Handoff::kReleasing) return;
    handoff_ = Handoff::kHandedOver;
    const std::string& home = frontends_.front().id;
    spdlog::info("lease released; handing mastership over to {}", home);
    out.send(home, 0, HandOver{id_, epoch_});
    return;
  }
  if (handoff_ == Handoff::kNone && m->lease_ms) {
    master_lease_until_ = std::max(master_lease_until_, p.sent_at + ms(*m->lease_ms));
  }
}

void FrontendCore::on_fenced(const Error& e, TimePoint now, Effects& out) {
  if (e.epoch.value_or(0) <= epoch_ && !is_master()) return;  // a late answer: we know already
  spdlog::warn("fenced by the database (our epoch {} is stale, current {}); demoting", epoch_, e.epoch.value_or(0));
  ++counters_["fenced"];
  claimed_ = false;
  master_lease_until_ = TimePoint{};
  adopt_master(e.master.value_or(""), e.epoch.value_or(epoch_), now, out);
}

// ---------------------------------------------------------------- serving set

std::vector<std::string> FrontendCore::serving_set() const {
  std::vector<std::string> s;
  for (const auto& f : frontends_) {
    if (f.id == id_ || (!detector_.suspected(f.id) && detector_.up_since(f.id) && !rejoining_.count(f.id))) {
      s.push_back(f.id);
    }
  }
  return s;
}

void FrontendCore::publish_serving(TimePoint now, Effects& out) {
  // Until every peer has been heard or suspected once, the picture is incomplete.
  for (const auto& f : frontends_) {
    if (f.id != id_ && !detector_.up_since(f.id) && !detector_.suspected(f.id)) {
      next_serving_ = now + ms(cfg_.heartbeat.interval_ms);
      return;
    }
  }
  auto s = serving_set();
  if (s == serving_ && now < next_serving_) return;
  if (s != serving_) spdlog::info("tablets are served by {}", comma_joined(s));
  serving_ = std::move(s);
  out.publish("serving", Serving{epoch_, ++serving_seq_, serving_});
  next_serving_ = now + kServingRepeat;
}

// ---------------------------------------------------------------- ordered handoff

void FrontendCore::tick_handoff(TimePoint now, Effects& out) {
  const std::string& home = frontends_.front().id;
  if (handoff_ == Handoff::kNone) {
    if (home == id_ || now < next_handoff_ || rejoining_.count(home)) return;
    const auto up = detector_.up_since(home);
    const auto view = peer_view_.find(home);
    // The home master is back, has settled, follows us and reaches the database: hand back.
    if (!up || now - *up < ms(cfg_.heartbeat.settle_ms) || view == peer_view_.end() ||
        view->second.epoch != epoch_ || !view->second.database_ok) {
      return;
    }
    spdlog::info("home master {} is back; handing mastership over (draining)", home);
    handoff_ = Handoff::kDraining;
    handoff_target_up_ = *up;
    handoff_deadline_ = now + ms(cfg_.database.request_timeout_ms + cfg_.heartbeat.timeout_ms);
  }
  if (handoff_ == Handoff::kDraining && updating_.empty() && directory_.waiting() == 0 && settling_.empty()) {
    // Every update we forwarded is acknowledged: stop serving as master and release the lease.
    handoff_ = Handoff::kReleasing;
    master_lease_until_ = TimePoint{};
    ask(cfg_.database.id, RenewMaster{id_, epoch_, true},
        {Pending::Kind::kRenew, "", 0, now, "release", ms(cfg_.heartbeat.timeout_ms)}, out);
  }
  if (handoff_ == Handoff::kNone) return;
  const auto up = detector_.up_since(home);
  if (!up || *up != handoff_target_up_) {
    spdlog::warn("{} was suspected or restarted during the handoff; resuming as master", home);
    abandon_handoff(now, out);
  } else if (now >= handoff_deadline_) {
    spdlog::warn("handoff to {} did not complete in time; resuming as master", home);
    abandon_handoff(now, out);
  }
}

void FrontendCore::abandon_handoff(TimePoint now, Effects& out) {
  handoff_ = Handoff::kNone;
  next_handoff_ = now + ms(cfg_.heartbeat.settle_ms);
  ++counters_["handoffs_failed"];
  send_heartbeats(now, out);  // renews the master lease
  for (auto& held : std::exchange(held_updates_, {})) on_update(held.from, held.msg, now, out);
}

void FrontendCore::on_hand_over(const HandOver& h, TimePoint now, Effects& out) {
  if (h.from != master_ || h.epoch != epoch_ || is_master()) {
    ++counters_["hand_overs_ignored"];
    return;
  }
  spdlog::info("{} hands mastership over", h.from);
  ++counters_["handoffs"];
  claim(now, out);
}

}  // namespace oly
