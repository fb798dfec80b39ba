// FrontendCore's read path: the cache, fills, and the push and pull consistency protocols.
// See frontend_core.h for the rules; this file is where they are kept.
#include <cmath>

#include "common/log.h"
#include "frontend/frontend_core.h"

namespace oly {

namespace {

// How long an update may be in flight before the master stops trusting its cache for that key.
constexpr Duration kUpdateGrace = ms(10);

// The database read that fills `key` ("score/<event>" or "tally/<team>").
Body read_for(const std::string& key) {
  if (key.rfind("tally/", 0) == 0) return GetMedalTally{key.substr(6), std::nullopt, std::nullopt};
  return GetScore{key.substr(key.find('/') + 1), std::nullopt, std::nullopt};
}

// The value in a database read reply, if it is one.
std::optional<KeyValue> value_of(const std::string& key, const Body& body) {
  if (const auto* s = std::get_if<ScoreReply>(&body)) return KeyValue{key, s->score.version, s->score, std::nullopt};
  if (const auto* t = std::get_if<TallyReply>(&body)) return KeyValue{key, t->tally.version, std::nullopt, t->tally};
  return std::nullopt;
}

}  // namespace

bool FrontendCore::usable(const std::string& key, const CacheEntry& e, TimePoint now) const {
  if (is_master()) {
    // Without a live master lease another front end may be master already: read the database.
    if (!holds_master_lease(now)) return false;
    // Written through on every update; but while an update of this key is in flight longer than
    // a normal commit, its answer may be lost: then only the database knows.
    auto it = updating_.find(key);
    return it == updating_.end() || now - *it->second.begin() < kUpdateGrace;
  }
  if (master_.empty()) return false;      // nobody to keep us consistent: read the database
  if (push()) return holds_lease(now);    // invalidations reach us while we hold a lease
  return now - e.confirmed_at < e.ttr;    // pull: until the time to refresh runs out
}

void FrontendCore::serve(const std::string& key, Waiter w, TimePoint now, Effects& out) {
  CacheEntry* e = cache_.read(key, now);
  if (e != nullptr && usable(key, *e, now) && e->value.version >= w.min_version) {
    ++counters_["cache_hits"];
    answer(w, e->value, e, now, out);
    maybe_refresh_ahead(key, *e, now, out);
    return;
  }
  ++counters_["cache_misses"];
  waiters_[key].push_back(std::move(w));
  if (!filling_.count(key)) start_fill(key, now, out);
}

void FrontendCore::start_fill(const std::string& key, TimePoint now, Effects& out) {
  filling_.insert(key);
  const Duration upstream = ms(std::max(1, cfg_.heartbeat.timeout_ms / 2));
  // The master itself, or nobody to ask: the database. Also while the master has been silent
  // for two heartbeat intervals (it may be dead), so that reads keep flowing during a failover.
  const bool silent = master_silent(now);
  if (is_master() || master_.empty() || silent) {
    if (silent) ++counters_["fills_from_database"];
    ask(cfg_.database.id, read_for(key), {Pending::Kind::kFill, "", 0, now, key, fill_timeout()}, out);
    return;
  }
  CacheEntry* e = push() ? nullptr : cache_.peek(key);
  if (e != nullptr) {
    e->refreshing = true;
    ++counters_["polls_sent"];
    ask(master_, Poll{key, e->value.version}, {Pending::Kind::kPoll, "", 0, now, key, upstream}, out);
  } else {
    ++counters_["fetches_sent"];
    ask(master_, Fetch{key}, {Pending::Kind::kFetch, "", 0, now, key, upstream}, out);
  }
}

void FrontendCore::fill_failed(const std::string& key, TimePoint now, Effects& out) {
  filling_.erase(key);
  if (auto* e = cache_.peek(key)) e->refreshing = false;
  if (!waiters_.count(key)) return;
  // The master did not answer: the database has the truth (uncached in push mode, where only
  // the master can register us for invalidations).
  ++counters_["fills_from_database"];
  filling_.insert(key);
  ask(cfg_.database.id, read_for(key), {Pending::Kind::kFill, "", 0, now, key, fill_timeout()}, out);
}

void FrontendCore::on_poll_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  const std::string& key = p.key;
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (p.kind != Pending::Kind::kFill && e->code == code::kNotMaster) {
      fill_failed(key, now, out);  // the master moved: read the database meanwhile
      return;
    }
    filling_.erase(key);
    auto ws = std::exchange(waiters_[key], {});
    waiters_.erase(key);
    for (const auto& w : ws) out.send(w.to, w.req, *e);
    return;
  }
  CacheEntry* cached = cache_.peek(key);
  if (auto* nm = std::get_if<NotModified>(&msg.body)) {
    if (cached == nullptr || cached->value.version != nm->version) {
      filling_.erase(key);
      start_fill(key, now, out);  // evicted or changed meanwhile: ask again
      return;
    }
    ++counters_["not_modified"];
    cached->confirmed_at = p.sent_at;  // the master's answer is at least as new as our question
    cached->ttr = ttr_.after_poll(cached->ttr, false, cached->read_rate);
    cached->refreshing = false;
    finish_fill(key, cached->value, true, now, out);
    return;
  }
  std::optional<KeyValue> kv;
  bool cacheable = true;
  if (auto* v = std::get_if<Value>(&msg.body)) {
    kv = v->value;
    cacheable = v->cacheable || !push();
  } else {
    kv = value_of(key, msg.body);
    cacheable = is_master() || !push();  // a push peer caches only what the master registered
  }
  if (!kv) {
    fill_failed(key, now, out);
    return;
  }
  if (cacheable) {
    Duration ttr = ttr_.initial();
    if (cached != nullptr && p.kind == Pending::Kind::kPoll) ttr = ttr_.after_poll(cached->ttr, true, cached->read_rate);
    if (push() && !is_master() && !holds_lease(now)) cacheable = false;
    spdlog::debug("t={} fill {} v{} from {} cacheable={} lease={}", to_us(now), key, kv->version,
                  p.kind == Pending::Kind::kFill ? "database" : "master", cacheable, holds_lease(now));
    if (cacheable) {
      ++counters_["fills"];
      CacheEntry& e = cache_.put(*kv, p.sent_at, ttr);
      e.refreshing = false;
    }
  }
  finish_fill(key, *kv, cacheable, now, out);
}

void FrontendCore::finish_fill(const std::string& key, const KeyValue& kv, bool cached, TimePoint now, Effects& out) {
  filling_.erase(key);
  auto inv = invalidated_.find(key);
  if (push() && !is_master() && inv != invalidated_.end() && kv.version < inv->second) {
    // The "invalidation before reply" race: this value is older than an invalidation we already
    // received, so it must not be served or cached. Ask again.
    ++counters_["stale_fills_discarded"];
    cache_.erase(key);
    start_fill(key, now, out);
    return;
  }
  CacheEntry* e = cached ? cache_.peek(key) : nullptr;
  const KeyValue& best = e != nullptr ? e->value : kv;
  auto ws = std::exchange(waiters_[key], {});
  waiters_.erase(key);
  for (const auto& w : ws) {
    if (best.version >= w.min_version) {
      answer(w, best, e, now, out);
    } else {
      // The tablet has seen newer than anything here: the database has it.
      ask(cfg_.database.id, read_for(key), {Pending::Kind::kRead, w.to, w.req, now, "", {}}, out);
    }
  }
}

void FrontendCore::answer(const Waiter& w, const KeyValue& kv, const CacheEntry* e, TimePoint now, Effects& out) {
  switch (w.kind) {
    case Waiter::Kind::kTablet: {
      std::optional<int64_t> bound;
      if (!push()) {
        // Pull mode reports its freshness: how long ago this value was known to be current.
        bound = (is_master() || e == nullptr) ? 0 : static_cast<int64_t>(std::ceil(to_ms(now - e->confirmed_at)));
      }
      if (kv.score) {
        out.send(w.to, w.req, ScoreReply{*kv.score, bound});
      } else if (kv.tally) {
        out.send(w.to, w.req, TallyReply{*kv.tally, bound});
      }
      return;
    }
    case Waiter::Kind::kPeerFetch: {
      const bool cacheable = !push() || directory_.has_lease(w.to, now);
      if (push() && cacheable) directory_.add(kv.key, w.to);
      spdlog::debug("t={} fetch of {} by {}: v{} cacheable={}", to_us(now), kv.key, w.to, kv.version, cacheable);
      out.send(w.to, w.req, Value{kv, cacheable});
      return;
    }
    case Waiter::Kind::kPeerPoll:
      if (kv.version == w.known_version) {
        out.send(w.to, w.req, NotModified{kv.key, kv.version});
      } else {
        out.send(w.to, w.req, Value{kv, true});
      }
      return;
  }
}

void FrontendCore::maybe_refresh_ahead(const std::string& key, CacheEntry& e, TimePoint now, Effects& out) {
  if (push() || is_master() || master_.empty() || e.refreshing || filling_.count(key)) return;
  // A key read at least once a second is polled when three quarters of its TTR have passed, so
  // that its readers rarely wait for a poll.
  if (e.read_rate >= 1.0 && (now - e.confirmed_at) * 4 >= e.ttr * 3) {
    ++counters_["refreshes_ahead"];
    start_fill(key, now, out);
  }
}

void FrontendCore::on_invalidate(const std::string& from, const Message& msg, Effects& out) {
  const auto& inv = msg.as<Invalidate>();
  ++counters_["invalidations_received"];
  spdlog::debug("invalidate {} v{} (epoch {}, ours {}), cached v{}", inv.key, inv.version, inv.epoch, epoch_,
                cached_version(inv.key));
  if (inv.epoch >= epoch_) {
    auto& high = invalidated_[inv.key];
    high = std::max(high, inv.version);
    // Always drop the copy, whatever its version: the master has unregistered us for this key,
    // so keeping it would miss the next invalidation.
    cache_.erase(inv.key);
  }
  out.send(from, msg.req, InvalidateAck{inv.key, inv.version});
}

void FrontendCore::on_lease_request(const std::string& from, const Message& msg, TimePoint now, Effects& out) {
  const auto& r = msg.as<LeaseRequest>();
  // A read lease never outlives our master lease: once that ends another front end may become
  // master, and no copy we let a peer serve may still be in use then.
  const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(master_lease_until_ - now).count();
  const int64_t grant_ms = std::min<int64_t>(cfg_.lease.duration_ms, left_ms);
  if (!is_master() || !push() || r.epoch != epoch_ || !holds_master_lease(now) || grant_ms <= 0) {
    ++counters_["leases_refused"];  // the peer learns the master and epoch from heartbeats
    return;
  }
  if (directory_.renew(from, now, ms(grant_ms))) {
    out.send(from, msg.req, LeaseGrant{epoch_, grant_ms});
  } else {
    ++counters_["leases_withheld"];  // an invalidation to it is outstanding
  }
}

void FrontendCore::send_held(std::vector<HeldReply> held, TimePoint now, Effects& out) {
  for (auto& h : held) {
    if (now < acks_from_) {
      settling_.push_back(std::move(h));  // an earlier master's lease may still be in use
    } else {
      out.send(h.to, h.req, std::move(h.body));
    }
  }
}

void FrontendCore::tick_consistency(TimePoint now, Effects& out) {
  if (!push()) return;
  if (is_master()) {
    if (!settling_.empty() && now >= acks_from_) send_held(std::exchange(settling_, {}), now, out);
    send_held(directory_.expire(now), now, out);
    for (const auto& r : directory_.due_resends(now)) {
      ++counters_["invalidations_resent"];
      out.send(r.peer, 0, Invalidate{r.key, r.version, epoch_});
    }
  } else if (!holds_lease(now) && cache_.size() > 0) {
    flush_cache("read lease expired");
  }
}

void FrontendCore::flush_cache(const char* why) {
  if (cache_.size() == 0) return;
  ++counters_["flushes"];
  spdlog::info("cache flushed ({} entries): {}", cache_.size(), why);
  cache_.clear();
}

}  // namespace oly
