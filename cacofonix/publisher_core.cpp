#include "cacofonix/publisher_core.h"

#include <algorithm>

#include "byzantine/signed_update.h"
#include "common/log.h"
#include "common/version.h"

namespace oly {

namespace {
// A request id carries the seq it sends and a send counter, so that an answer can be matched to
// the latest send of that update without a table of requests.
constexpr int kSendBits = 16;
}  // namespace

PublisherCore::PublisherCore(const Config& cfg, std::string publisher, std::unique_ptr<Feed> feed,
                             PublisherLimits limits, const Clock& clock)
    : cfg_(cfg), publisher_(std::move(publisher)), clock_(clock), feed_(std::move(feed)), limits_(limits),
      target_(cfg.frontends.front().id) {
  for (const char* c : {"produced", "sent", "resent", "acked", "duplicates", "go_backs", "timeouts", "not_master"}) {
    counters_[c] = 0;
  }
}

uint64_t PublisherCore::seq_of(uint64_t req) const { return req >> kSendBits; }

void PublisherCore::produce(TimePoint now) {
  const Duration interval = Duration(static_cast<int64_t>(1e6 / limits_.rate));
  if (!started_) {
    next_produce_ = now;
    started_ = true;
  }
  // After a stall (a paused process), resume the rate instead of bursting to catch up.
  if (now - next_produce_ > ms(1000)) next_produce_ = now;
  while (producing_ && now >= next_produce_ && !full()) {
    if (limits_.max_updates > 0 && produced_ >= limits_.max_updates) {
      producing_ = false;
      break;
    }
    std::optional<Body> body = feed_->next();
    if (!body) {
      producing_ = false;
      break;
    }
    const uint64_t seq = next_seq_++;
    std::visit(
        [&](auto& u) {
          if constexpr (requires { u.token; }) {
            u.publisher = publisher_;
            u.seq = seq;
            u.token = cfg_.cacofonix.token;
            if constexpr (requires { u.written_at_us; }) {
              last_written_at_us_ = std::max(clock_.wall_us(now), last_written_at_us_ + 1);
              u.written_at_us = last_written_at_us_;
            }
            if (!signing_key_.empty()) u.signature = Bytes{byzantine::sign(u, signing_key_)};
          }
        },
        *body);
    if (pending_.empty()) progress_at_ = now;  // the wait for progress starts with the first pending
    pending_.emplace(seq, Pending{std::move(*body), now});
    ++produced_;
    ++counters_["produced"];
    next_produce_ += interval;
  }
}

bool PublisherCore::full() const {
  return limits_.max_unacknowledged > 0 && pending_.size() >= limits_.max_unacknowledged;
}

void PublisherCore::send_window(TimePoint now, Effects& out) {
  // Byzantine mode: each update in flight is an agreement at every front end, whose rounds wait
  // a fixed time for what does not come; a burst of thousands overruns them, an update decided
  // none leaves a gap every later one waits behind, and the resend after it is the same burst.
  const size_t window = cfg_.byzantine ? std::min<size_t>(cfg_.cacofonix.window, kByzantineWindow)
                                       : static_cast<size_t>(cfg_.cacofonix.window);
  while (in_flight_ < window && next_to_send_ < next_seq_) {
    auto it = pending_.find(next_to_send_++);
    if (it == pending_.end()) continue;  // acknowledged meanwhile
    Pending& p = it->second;
    const bool resend = p.last_req != 0;
    p.last_req = (it->first << kSendBits) | ((p.last_req + 1) & ((1u << kSendBits) - 1));
    if (!resend) p.first_sent = now;
    p.last_sent = now;
    ++counters_[resend ? "resent" : "sent"];
    ++in_flight_;
    out.send(target_, p.last_req, p.body);
  }
}

void PublisherCore::go_back(const std::string& target, TimePoint now, Effects& out) {
  if (target != target_) spdlog::info("sending updates to {} from now on", target);
  if (target != target_) progress_at_ = now;
  target_ = target;
  next_to_send_ = pending_.empty() ? next_seq_ : pending_.begin()->first;
  in_flight_ = 0;
  ++counters_["go_backs"];
  send_window(now, out);
}

void PublisherCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) {
  if (notice) {
    if (auto* a = std::get_if<Ack>(&msg.body); a && cfg_.byzantine) {
      on_ack(from, *a, 0, now);
    } else if (auto* m = std::get_if<MasterChanged>(&msg.body); m && !cfg_.byzantine) {
      ++counters_["master_changes_seen"];
      if (m->frontend != target_) go_back(m->frontend, now, out);
    }
    return;
  }
  if (auto* a = std::get_if<Ack>(&msg.body)) {
    on_ack(from, *a, msg.req, now);
  } else if (auto* e = std::get_if<Error>(&msg.body)) {
    on_error(*e, msg.req, now, out);
  } else if (msg.is<GetStats>()) {
    out.send(from, msg.req, stats());
  }
  send_window(now, out);
}

void PublisherCore::on_ack(const std::string& from, const Ack& ack, uint64_t, TimePoint now) {
  auto it = pending_.find(ack.seq);
  if (ack.publisher != publisher_ || it == pending_.end()) {
    ++counters_["late_acks"];
    return;
  }
  if (cfg_.byzantine && !vouched(from, ack)) return;
  AckRecord r;
  r.publisher = publisher_;
  r.seq = ack.seq;
  r.key = ack.key;
  r.version = ack.version;
  r.duplicate = ack.duplicate;
  r.via = from;
  r.created = it->second.created;
  r.first_sent = it->second.first_sent;
  r.acked = now;
  if (const auto* s = std::get_if<SetScore>(&it->second.body)) {
    r.op = "set_score";
    r.detail = std::to_string(s->gauls) + "-" + std::to_string(s->romans);
  } else if (const auto* m = std::get_if<IncrementMedalTally>(&it->second.body)) {
    r.op = "increment_medal_tally";
    r.detail = m->medal;
    ++medal_counts_[m->team + "/" + m->medal];
  }
  acks_.push_back(std::move(r));
  ++counters_["acked"];
  if (ack.duplicate) ++counters_["duplicates"];
  if (ack.seq < next_to_send_ && in_flight_ > 0) --in_flight_;
  pending_.erase(it);
  vouchers_.erase(ack.seq);
  progress_at_ = now;
}

bool PublisherCore::vouched(const std::string& from, const Ack& ack) {
  auto& by = vouchers_[ack.seq];
  const std::pair<std::string, uint64_t> said{ack.key, ack.version};
  by[from] = said;
  const auto agree = std::count_if(by.begin(), by.end(), [&](const auto& v) { return v.second == said; });
  if (agree >= 2) return true;
  ++counters_["acks_awaiting_a_second_voucher"];
  return false;
}

void PublisherCore::on_error(const Error& e, uint64_t req, TimePoint now, Effects& out) {
  auto it = pending_.find(seq_of(req));
  if (it == pending_.end() || it->second.last_req != req) {
    ++counters_["stale_answers"];  // answers an older send; the newer one decides
    return;
  }
  const std::string code(error_code_name(e.code));
  if (cfg_.byzantine) {
    // A traitor may answer anything: only progress (vouched acks) counts, and its absence for a
    // request timeout moves us to the next front end (on_tick).
    if (counters_["ignored_" + code]++ == 0) spdlog::warn("update {}: {} answered {} ({})", it->first, target_, code, e.error);
    return;
  }
  if (e.code == ErrorCode::kNotMaster) {
    ++counters_["not_master"];
    const bool known = e.master && std::any_of(cfg_.frontends.begin(), cfg_.frontends.end(),
                                               [&](const auto& f) { return f.id == *e.master; });
    // With no master known yet, the timeout will move us on.
    if (known && *e.master != target_) go_back(*e.master, now, out);
  } else if (e.code == ErrorCode::kSeqGap || e.code == ErrorCode::kUnavailable) {
    ++counters_[code];
    go_back(target_, now, out);
  } else if (e.code == ErrorCode::kStaleSeq) {
    // Applied long ago (updates apply in seq order), its result no longer kept.
    spdlog::warn("update {} was applied earlier; its result is no longer known", it->first);
    on_ack(target_, Ack{publisher_, it->first, "", 0, true, std::nullopt, std::nullopt}, req, now);
  } else {
    if (counters_["rejected_" + code]++ == 0) {
      spdlog::error("update {} rejected: {} ({}); it will be retried", it->first, e.error, code);
    }
  }
}

void PublisherCore::on_tick(TimePoint now, Effects& out) {
  if (producing_) produce(now);
  if (cfg_.byzantine && !pending_.empty() && now - progress_at_ >= ms(cfg_.cacofonix.request_timeout_ms)) {
    ++counters_["timeouts"];
    spdlog::warn("no vouched acknowledgement through {} within {} ms", target_, cfg_.cacofonix.request_timeout_ms);
    go_back(cfg_.next_frontend(target_), now, out);
  } else if (!cfg_.byzantine && !pending_.empty()) {
    const auto& [seq, oldest] = *pending_.begin();
    if (seq < next_to_send_ && now - oldest.last_sent >= ms(cfg_.cacofonix.request_timeout_ms)) {
      ++counters_["timeouts"];
      spdlog::warn("no acknowledgement from {} within {} ms", target_, cfg_.cacofonix.request_timeout_ms);
      go_back(cfg_.next_frontend(target_), now, out);
    }
  }
  send_window(now, out);
}

TimePoint PublisherCore::next_wake() const {
  // While full, the next acknowledgement (a message, after which the Node ticks us when due)
  // makes room; waking for the rate meanwhile would only spin.
  TimePoint w = !producing_ || full() ? TimePoint::max() : started_ ? next_produce_ : TimePoint::min();
  if (cfg_.byzantine && !pending_.empty()) {
    w = std::min(w, progress_at_ + ms(cfg_.cacofonix.request_timeout_ms));
  } else if (!pending_.empty() && pending_.begin()->first < next_to_send_) {
    w = std::min(w, pending_.begin()->second.last_sent + ms(cfg_.cacofonix.request_timeout_ms));
  }
  return w;
}

Stats PublisherCore::stats() const {
  Stats s;
  s.node = "cacofonix";
  s.role = "publisher";
  s.counters = counters_;
  s.counters["unacknowledged"] = static_cast<int64_t>(pending_.size());
  s.counters["in_flight"] = static_cast<int64_t>(in_flight_);
  s.info["publisher"] = publisher_;
  s.info["version"] = std::string(kVersion);
  s.info["target"] = target_;
  s.info["producing"] = producing_ ? "yes" : "no";
  return s;
}

}  // namespace oly
