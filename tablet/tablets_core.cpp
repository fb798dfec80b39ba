#include "tablet/tablets_core.h"

#include <algorithm>
#include <cmath>

#include "common/version.h"

namespace oly {

TabletsCore::TabletsCore(const Config& cfg, int count, int first) : cfg_(cfg), rng_(cfg.tablets.seed + first) {
  // Zipf-like weights over the configured events, in config order.
  std::vector<double> weights;
  for (size_t i = 0; i < cfg_.events.size(); ++i) weights.push_back(1.0 / std::pow(i + 1.0, cfg_.tablets.zipf_s));
  const size_t follow = std::min<size_t>(cfg_.tablets.events_per_tablet, cfg_.events.size());
  tablets_.reserve(count);
  for (int i = 0; i < count; ++i) {
    Tablet t;
    t.id = cfg_.tablets.id_prefix + std::to_string(first + i);
    std::vector<double> w = weights;
    for (size_t k = 0; k < follow; ++k) {
      std::discrete_distribution<size_t> pick(w.begin(), w.end());
      const size_t e = pick(rng_);
      w[e] = 0;  // without replacement
      t.keys.push_back(Key::score(cfg_.events[e]));
    }
    for (const auto& team : teams()) t.keys.push_back(Key::tally(team));
    index_[t.id] = i;
    tablets_.push_back(std::move(t));
  }
  for (const char* c : {"reads_ok", "reads_failed", "reads_partial", "timeouts", "lost", "retries", "registrations",
                        "backwards_reads", "serving_notices", "serving_moves"}) {
    counters_[c] = 0;
  }
}

std::string TabletsCore::text_of(const Score& s) {
  return "Gauls " + std::to_string(s.gauls) + " - " + std::to_string(s.romans) + " Romans";
}

std::string TabletsCore::text_of(const Tally& t) {
  return "gold " + std::to_string(t.gold) + "  silver " + std::to_string(t.silver) + "  bronze " + std::to_string(t.bronze);
}

std::string TabletsCore::value_of(const Score& s) { return std::to_string(s.gauls) + "-" + std::to_string(s.romans); }

std::string TabletsCore::value_of(const Tally& t) {
  return std::to_string(t.gold) + "/" + std::to_string(t.silver) + "/" + std::to_string(t.bronze);
}

std::vector<std::string> TabletsCore::ids() const {
  std::vector<std::string> out;
  for (const auto& t : tablets_) out.push_back(t.id);
  return out;
}

std::vector<std::string> TabletsCore::events_of(int i) const {
  std::vector<std::string> out;
  for (const auto& k : tablets_.at(i).keys) {
    if (k.is_score()) out.emplace_back(k.name());
  }
  return out;
}

void TabletsCore::schedule(int t, TimePoint at) { due_.push({at, t}); }

TimePoint TabletsCore::jittered(TimePoint now) {
  const int64_t j = cfg_.tablets.jitter_ms;
  const int64_t d = cfg_.tablets.read_interval_ms * 1000 + (j > 0 ? std::uniform_int_distribution<int64_t>(-j * 1000, j * 1000)(rng_) : 0);
  return now + Duration(std::max<int64_t>(d, 1000));
}

void TabletsCore::send_register(int t, TimePoint now, Effects& out, bool retry) {
  Tablet& tab = tablets_[t];
  if (tab.current.empty()) {
    tab.current = serving_frontend(tab.id, cfg_.frontends[t % cfg_.frontends.size()].id, serving_);
  }
  const uint64_t req = next_req_++;
  const TimePoint deadline = now + ms(cfg_.tablets.request_timeout_ms);
  in_flight_.emplace(req, InFlight{t, std::nullopt, now, deadline, tab.current, retry});
  deadlines_.emplace_back(deadline, req);
  ++counters_["registrations"];
  out.send(tab.current, req, Register{tab.id});
}

void TabletsCore::send_read(int t, const Key& key, TimePoint now, Effects& out, bool retry) {
  if (cfg_.byzantine) return send_vouched_read(t, key, now, out);
  send_request(t, key, tablets_[t].current, 0, now, out, retry);
}

void TabletsCore::send_request(int t, const Key& key, const std::string& frontend, uint64_t vouch, TimePoint now,
                               Effects& out, bool retry) {
  Tablet& tab = tablets_[t];
  const uint64_t req = next_req_++;
  const TimePoint deadline = now + ms(cfg_.tablets.request_timeout_ms);
  in_flight_.emplace(req, InFlight{t, key, now, deadline, frontend, retry, vouch});
  deadlines_.emplace_back(deadline, req);
  tab.reading.insert(key);
  auto seen = tab.last_version.find(key);
  std::optional<uint64_t> min_version;
  if (seen != tab.last_version.end()) min_version = seen->second;
  if (key.is_score()) {
    out.send(frontend, req, GetScore{std::string(key.name()), min_version, tab.id, std::nullopt});
  } else {
    out.send(frontend, req, GetMedalTally{std::string(key.name()), min_version, tab.id, std::nullopt});
  }
}

void TabletsCore::send_vouched_read(int t, const Key& key, TimePoint now, Effects& out) {
  const uint64_t id = next_vouch_++;
  vouches_.emplace(id, Vouch{t, key, now, {}, {}});
  const std::string first = tablets_[t].current;
  ask(id, first, now, out);
  ask(id, failover_target(first), now, out);
}

void TabletsCore::ask(uint64_t vouch, const std::string& frontend, TimePoint now, Effects& out) {
  Vouch& v = vouches_.at(vouch);
  if (std::find(v.asked.begin(), v.asked.end(), frontend) != v.asked.end()) return;
  v.asked.push_back(frontend);
  send_request(v.tablet, v.key, frontend, vouch, now, out, false);
}

void TabletsCore::vouch_answer(const InFlight& f, std::optional<std::tuple<uint64_t, std::string, std::string>> answer,
                               TimePoint now, Effects& out) {
  auto it = vouches_.find(f.vouch);
  if (it == vouches_.end()) return;  // decided already
  Vouch& v = it->second;
  v.answers[f.frontend] = std::move(answer);
  // The newest (version, value) that two front ends gave.
  std::map<std::tuple<uint64_t, std::string, std::string>, std::vector<std::string>> by_value;
  for (const auto& fe : v.asked) {
    auto a = v.answers.find(fe);
    if (a != v.answers.end() && a->second) by_value[*a->second].push_back(fe);
  }
  for (auto b = by_value.rbegin(); b != by_value.rend(); ++b) {
    if (b->second.size() < 2) continue;
    const auto& [version, value, text] = b->first;
    Tablet& tab = tablets_[v.tablet];
    auto& last = tab.last_version[v.key];
    if (version < last) ++counters_["backwards_reads"];
    last = std::max(last, version);
    tab.reading.erase(v.key);
    // Named after the front end asked first, the tablet's current one (as a crash-mode read is),
    // not after a voucher: which two agree first says nothing of where the tablet is served.
    reads_.push_back(ReadRecord{tab.id, v.key.str(), version, v.start, now, v.asked.front(), "ok", value});
    ++counters_["reads_ok"];
    if (v.answers.size() > 2) ++counters_["reads_vouched_after_disagreement"];
    if (read_observer_) read_observer_(v.key.str(), version, text);
    if (v.tablet == 0) watch_[v.key.str()] = SeenValue{text, version, now};
    std::erase_if(in_flight_, [&](const auto& entry) { return entry.second.vouch == f.vouch; });
    vouches_.erase(it);
    return;
  }
  if (v.answers.size() < v.asked.size()) return;  // wait for the others asked
  // Disagreement, or too few answers: ask one more front end, in config order after the last asked.
  std::string next = cfg_.next_frontend(v.asked.back());
  for (size_t i = 0; i < cfg_.frontends.size(); ++i, next = cfg_.next_frontend(next)) {
    if (std::find(v.asked.begin(), v.asked.end(), next) == v.asked.end()) {
      ++counters_["vouch_asked_another"];
      ask(f.vouch, next, now, out);
      return;
    }
  }
  Tablet& tab = tablets_[v.tablet];
  tab.reading.erase(v.key);
  reads_.push_back(ReadRecord{tab.id, v.key.str(), 0, v.start, now, v.asked.front(), "unvouched"});
  ++counters_["reads_failed"];
  ++counters_["reads_unvouched"];
  vouches_.erase(it);
}

void TabletsCore::finish(uint64_t, InFlight& f, TimePoint now, uint64_t version, const std::string& outcome,
                         bool failed, const std::string& value) {
  if (!f.key) return;  // registrations are not reads
  tablets_[f.tablet].reading.erase(*f.key);
  reads_.push_back(ReadRecord{tablets_[f.tablet].id, f.key->str(), version, f.start, now, f.frontend, outcome, value});
  if (outcome == "ok") {
    ++counters_["reads_ok"];
  } else if (failed) {
    ++counters_["reads_failed"];
  }
}

bool TabletsCore::is_serving(const std::string& frontend) const {
  return std::find(serving_.begin(), serving_.end(), frontend) != serving_.end();
}

const std::string& TabletsCore::failover_target(const std::string& failed) const {
  const std::string& plain = cfg_.next_frontend(failed);
  if (serving_.empty()) return plain;
  // The next front end after `failed`, in config order and wrapping around, that serves.
  const std::string* at = &plain;
  for (size_t i = 0; i < cfg_.frontends.size(); ++i) {
    if (*at == failed) break;  // back where we started: no other serves
    if (is_serving(*at)) return *at;
    at = &cfg_.next_frontend(*at);
  }
  return plain;
}

void TabletsCore::on_serving(const Serving& notice, TimePoint now, Effects& out) {
  const std::pair<uint64_t, uint64_t> version{notice.epoch, notice.seq};
  if (serving_seen_ && version <= serving_version_) return;  // not newer
  std::vector<std::string> listed;
  for (const auto& fe : notice.frontends) {
    if (cfg_.frontend(fe) != nullptr && std::find(listed.begin(), listed.end(), fe) == listed.end()) {
      listed.push_back(fe);
    }
  }
  if (listed.empty()) return;  // names no front end we know
  serving_seen_ = true;
  serving_version_ = version;
  serving_ = std::move(listed);
  ++counters_["serving_notices"];
  for (auto& tab : tablets_) {
    if (!tab.registered) continue;
    const std::string& desired = serving_frontend(tab.id, tab.home, serving_);
    if (desired != tab.current) {
      tab.current = desired;
      ++counters_["serving_moves"];
    }
  }
  // Reads waiting on a front end no longer listed (suspected, maybe dead) are sent again at once
  // to the tablet's new front end, rather than after their timeout.
  std::vector<std::pair<uint64_t, InFlight>> moved;
  for (const auto& [req, f] : in_flight_) {
    if (f.key && !f.vouch && !is_serving(f.frontend)) {
      moved.emplace_back(req, f);
    }
  }
  for (auto& [req, f] : moved) {
    in_flight_.erase(req);
    finish(req, f, now, 0, "moved", false);
    ++counters_["reads_moved"];
    send_read(f.tablet, *f.key, now, out, f.retry);
  }
}

void TabletsCore::on_message(const std::string&, Message msg, bool notice, TimePoint now, Effects& out) {
  if (notice) {
    if (const auto* sv = std::get_if<Serving>(&msg.body)) {
      on_serving(*sv, now, out);
    }
    return;
  }
  on_reply(msg.req, msg, now, out);
}

void TabletsCore::on_reply(uint64_t req, Message& msg, TimePoint now, Effects& out) {
  auto it = in_flight_.find(req);
  if (it == in_flight_.end()) {
    ++counters_["late_replies"];
    return;
  }
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  Tablet& tab = tablets_[f.tablet];
  if (!f.key) {  // registration
    if (auto* r = std::get_if<Registered>(&msg.body)) {
      if (!tab.registered) ++registered_;
      tab.registered = true;
      tab.home = r->home;
      tab.current = cfg_.frontend(r->home) ? r->home : f.frontend;
      if (serving_seen_) tab.current = serving_frontend(tab.id, tab.current, serving_);
      // First round at a random point of the interval, so that tablets spread out.
      schedule(f.tablet, now + Duration(std::uniform_int_distribution<int64_t>(0, cfg_.tablets.read_interval_ms * 1000)(rng_)));
    } else {
      schedule(f.tablet, now + ms(cfg_.tablets.read_interval_ms));  // retry later
    }
    return;
  }
  uint64_t version = 0;
  std::string text, value;
  bool partial = false;
  if (auto* s = std::get_if<ScoreReply>(&msg.body)) {
    version = s->score.version;
    text = text_of(s->score);
    value = value_of(s->score);
    partial = s->partial.value_or(false);
  } else if (auto* t = std::get_if<TallyReply>(&msg.body)) {
    version = t->tally.version;
    text = text_of(t->tally);
    value = value_of(t->tally);
    partial = t->partial.value_or(false);
  } else {
    if (f.vouch) return vouch_answer(f, std::nullopt, now, out);
    const auto* e = std::get_if<Error>(&msg.body);
    finish(req, f, now, 0, e ? std::string(error_code_name(e->code)) : "unexpected_reply");
    return;
  }
  if (f.vouch) return vouch_answer(f, std::tuple{version, std::move(value), std::move(text)}, now, out);
  if (partial) {
    // Gossip mode: the database could not vouch that this is as new as what the front end had
    // seen (docs/gossip.md). Shown, recorded apart ("partial"), not taken as the tablet's newest.
    ++counters_["reads_partial"];
    finish(req, f, now, version, "partial", false, value);
    if (read_observer_) read_observer_(f.key->str(), version, text);
    return;
  }
  auto& last = tab.last_version[*f.key];
  if (version < last) ++counters_["backwards_reads"];
  last = std::max(last, version);
  finish(req, f, now, version, "ok", true, value);
  if (read_observer_) read_observer_(f.key->str(), version, text);
  if (f.tablet == 0) watch_[f.key->str()] = SeenValue{text, version, now};
  (void)out;
}

void TabletsCore::on_timeout(uint64_t req, TimePoint now, Effects& out) {
  if (in_flight_.count(req)) abandon(req, "timeout", now, out);
}

void TabletsCore::on_peer_lost(const std::string& peer, TimePoint now, Effects& out) {
  std::vector<uint64_t> waiting;
  for (const auto& [req, f] : in_flight_) {
    if (f.frontend == peer) waiting.push_back(req);
  }
  for (const uint64_t req : waiting) abandon(req, "lost", now, out);
}

void TabletsCore::abandon(uint64_t req, const std::string& outcome, TimePoint now, Effects& out) {
  auto it = in_flight_.find(req);
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  ++counters_[outcome == "timeout" ? "timeouts" : "lost"];
  if (f.vouch) {
    Tablet& tab = tablets_[f.tablet];
    if (tab.current == f.frontend) tab.current = failover_target(f.frontend);
    return vouch_answer(f, std::nullopt, now, out);
  }
  // A timeout made the tablet wait: a failed read. A lost attempt retried at once cost it nothing
  // it can see (like a moved one); it fails only when it was the retry.
  finish(req, f, now, 0, outcome, outcome == "timeout" || f.retry);
  Tablet& tab = tablets_[f.tablet];
  // Fail over: the next front end becomes this tablet's current one, and the request is retried
  // there once, at once.
  if (tab.current == f.frontend) tab.current = failover_target(f.frontend);
  if (f.retry) {
    if (!f.key) schedule(f.tablet, now + ms(cfg_.tablets.read_interval_ms));
    return;
  }
  ++counters_["retries"];
  if (!f.key) {
    send_register(f.tablet, now, out, true);
  } else {
    send_read(f.tablet, *f.key, now, out, true);
  }
}

void TabletsCore::on_tick(TimePoint now, Effects& out) {
  if (!started_) {
    // Start: registrations spread over the first second.
    started_ = true;
    const int n = static_cast<int>(tablets_.size());
    for (int i = 0; i < n; ++i) schedule(i, now + Duration(static_cast<int64_t>(i) * 1'000'000 / std::max(n, 1)));
  }
  while (!deadlines_.empty() && deadlines_.front().first <= now) {
    const uint64_t req = deadlines_.front().second;
    deadlines_.pop_front();
    on_timeout(req, now, out);
  }
  while (!deadlines_.empty() && !in_flight_.count(deadlines_.front().second)) deadlines_.pop_front();
  while (!due_.empty() && due_.top().first <= now) {
    const int t = due_.top().second;
    due_.pop();
    Tablet& tab = tablets_[t];
    if (!tab.registered) {
      send_register(t, now, out, false);
      continue;
    }
    for (const auto& key : tab.keys) {
      if (!tab.reading.count(key)) send_read(t, key, now, out, false);  // a slow read is not doubled
    }
    schedule(t, jittered(now));
  }
}

TimePoint TabletsCore::next_wake() const {
  if (!started_) return TimePoint::min();
  TimePoint w = TimePoint::max();
  if (!due_.empty()) w = due_.top().first;
  if (!deadlines_.empty()) w = std::min(w, deadlines_.front().first);
  return w;
}

std::map<std::string, int64_t> TabletsCore::count_by(std::string Tablet::*frontend) const {
  std::map<std::string, int64_t> out;
  for (const auto& f : cfg_.frontends) out[f.id] = 0;
  for (const auto& t : tablets_) {
    if (t.registered) ++out[t.*frontend];
  }
  return out;
}

std::map<std::string, int64_t> TabletsCore::tablets_per_frontend() const { return count_by(&Tablet::current); }
std::map<std::string, int64_t> TabletsCore::tablets_per_home() const { return count_by(&Tablet::home); }

Stats TabletsCore::stats() const {
  Stats s;
  s.info["version"] = std::string(kVersion);
  s.node = "tablets";
  s.role = "tablets";
  s.counters = counters_;
  s.counters["tablets"] = static_cast<int64_t>(tablets_.size());
  s.counters["registered"] = registered_;
  s.counters["in_flight"] = static_cast<int64_t>(in_flight_.size());
  for (const auto& [fe, n] : tablets_per_frontend()) s.counters["on_" + fe] = n;
  s.info["serving"] = comma_joined(serving_);
  return s;
}

}  // namespace oly
