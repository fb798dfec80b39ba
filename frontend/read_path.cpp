// FrontendCore's read path: the cache and its fills. See frontend_core.h ("The path of a read");
// where push and pull differ, the consistency protocol (consistency.h) decides.
#include "common/codec.h"
#include "common/codec_reads.h"
#include "common/log.h"
#include "common/reads.h"
#include "frontend/frontend_core.h"

namespace oly {

namespace {

// How long an update may be in flight before the master stops trusting its cache for that key.
constexpr Duration kUpdateGrace = ms(10);

}  // namespace

bool FrontendCore::usable(const std::string& key, const CacheEntry& e, TimePoint now) const {
  // Byzantine mode: a cache kept by a master's word (invalidations, fills) or written through
  // before the other front ends' acks may be a traitor's or behind an acknowledged update; every
  // read is the database's (docs/byzantine.md, "Reads").
  if (agreement_) return false;
  if (is_master()) {
    // Without a live master lease another front end may be master already: read the database.
    if (!holds_master_lease(now)) return false;
    if (uncertain_.count(key)) return false;  // an update whose answer was lost may have changed it
    // Written through on every update; but while an update of this key is in flight longer than
    // a normal commit, its answer may be lost: then only the database knows.
    auto it = updating_.find(key);
    return it == updating_.end() || now - *it->second.begin() < kUpdateGrace;
  }
  if (master_.empty()) return false;  // nobody to keep us consistent: read the database
  return consistency_->usable(e, now);
}

void FrontendCore::serve(const std::string& key, Waiter w, TimePoint now, Effects& out) {
  CacheEntry* e = cache_.read(key, now);
  if (e != nullptr && usable(key, *e, now) && e->value.version >= w.min_version) {
    ++cache_hits_;
    answer(w, e->value, e, now, out);
    maybe_refresh_ahead(key, *e, now, out);
    return;
  }
  ++cache_misses_;
  waiters_[key].push_back(std::move(w));
  if (!filling_.count(key)) start_fill(key, now, out);
}

bool FrontendCore::answer_cached_read(std::string_view frame, TimePoint now, std::string& reply) {
  SimpleRead r;
  if (!parse_simple_read(frame, r)) return false;
  const auto& keys = r.score ? event_keys_ : team_keys_;
  const auto k = keys.find(r.name);
  if (k == keys.end()) return false;  // unknown: on_request says so
  const std::string& key = k->second;
  // serve()'s test of a hit; the entry is counted as read (cache_.read) only when it passes.
  CacheEntry* e = cache_.read_if(key, now, [&](CacheEntry& c) {
    if (!usable(key, c, now) || c.value.version < r.min_version.value_or(0)) return false;
    if (!c.value.score && !c.value.tally) return false;
    if (is_master()) return true;
    // A poll ahead (maybe_refresh_ahead) needs the normal path's effects: judged as serve()
    // judges it, with this read counted in the rate, which is then put back as it was.
    const DecayedRate rate = c.reads;
    c.reads.add(1, now, kReadRateWindow);
    const bool refresh = refresh_ahead_due(key, c, now);
    c.reads = rate;
    return !refresh;
  });
  if (e == nullptr) return false;
  // What on_request, serve() and answer() do for this hit.
  ++requests_;
  note_read(r.tablet, now);
  ++cache_hits_;
  latencies_.reads.observe(Duration(0));
  append_read_reply(reply, r.req, e->value, reply_value(*e), consistency_->staleness_bound(e, view(), now));
  return true;
}

const std::string& FrontendCore::reply_value(CacheEntry& e) {
  if (e.reply_value.empty()) e.reply_value = encode_read_value(e.value);
  return e.reply_value;
}

void FrontendCore::start_fill(const std::string& key, TimePoint now, Effects& out) {
  // The master itself, or nobody to ask: the database. Also while the master has been silent
  // for two heartbeat intervals (it may be dead), so that reads keep flowing during a failover.
  const bool silent = master_silent(now);
  if (is_master() || master_.empty() || silent || agreement_) {
    if (silent) ++counters_["fills_from_database"];
    fill_from_database(key, now, out);
    return;
  }
  filling_.insert(key);
  Body request = consistency_->fill_request(key, cache_.peek(key), now);
  const auto kind = std::holds_alternative<Poll>(request) ? Pending::Kind::kPoll : Pending::Kind::kFetch;
  ask(master_, std::move(request), {kind, "", 0, now, key, ms(std::max(1, cfg_.heartbeat.timeout_ms / 2))}, out);
}

void FrontendCore::fill_from_database(const std::string& key, TimePoint now, Effects& out, bool unvouched) {
  filling_.insert(key);
  // The master past the grace of an update in flight, or after an update's answer was lost (6.10),
  // asks what is committed now, which a replicated tier answers without waiting for that update:
  // a disk that stalls the update stalls no read. What the lost update did, a settling read
  // (settle) finds out beside.
  const bool committed = is_master() && (updating_.count(key) > 0 || uncertain_.count(key) > 0);
  if (is_master() && uncertain_.count(key) > 0) settle(key, now, out);
  Pending p{Pending::Kind::kFill, "", 0, now, key, fill_timeout()};
  p.unvouched = unvouched;
  ask_database(read_of_key(key, std::nullopt, committed), std::move(p), out);
}

void FrontendCore::fill_failed(const Pending& failed, TimePoint now, Effects& out) {
  const std::string& key = failed.key;
  const bool asked_master = failed.kind != Pending::Kind::kFill || failed.unvouched;
  filling_.erase(key);
  if (auto* e = cache_.peek(key)) e->refreshing = false;
  if (!waiters_.count(key)) return;
  // The master did not answer: the database has the truth (uncached in push mode, where only
  // the master can register us for invalidations). In gossip mode a peer's clock may lack updates
  // the master acknowledged (its own read may still be held at a replica that lacks them), so
  // what the peer reads itself then is served partial.
  ++counters_["fills_from_database"];
  fill_from_database(key, now, out, asked_master && database_.gossip() && !is_master());
}

void FrontendCore::on_fill_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  latencies_.fills.observe(now - p.sent_at);
  // A master's answer to a peer may carry hints (pull): taken once the answer itself is.
  std::optional<Changes> changes;
  uint64_t version = 0;
  if (auto* nm = std::get_if<NotModified>(&msg.body)) {
    changes = std::move(nm->changes);
    version = nm->version;
  } else if (auto* v = std::get_if<Value>(&msg.body)) {
    changes = std::move(v->changes);
    version = v->value.version;
  }
  take_fill_answer(p, msg, now, out);
  if (changes && p.kind != Pending::Kind::kFill) consistency_->on_changes(*changes, p.key, version, view(), p.sent_at, now);
}

void FrontendCore::settle(const std::string& key, TimePoint now, Effects& out) {
  if (!settling_.insert(key).second) return;  // one settling read of a key at a time
  ask_database(read_of_key(key), {Pending::Kind::kSettle, "", 0, now, key, {}}, out);
}

void FrontendCore::on_settle_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  settling_.erase(p.key);
  auto u = uncertain_.find(p.key);
  if (u == uncertain_.end() || !is_master()) return;
  const std::optional<KeyValue> kv = value_in(msg.body);
  // Started before a later loss, or no value: the next read of the key asks again
  // (fill_from_database); one started after the loss settles it.
  if (p.sent_at < u->second || !kv || kv->partial.value_or(false)) {
    if (p.sent_at < u->second) settle(p.key, now, out);
    return;
  }
  put_cached(*kv, p.sent_at, consistency_->ttr_after_fetch());
  uncertain_.erase(u);
}

void FrontendCore::take_fill_answer(const Pending& p, Message& msg, TimePoint now, Effects& out) {
  const std::string& key = p.key;
  if (auto* e = std::get_if<Error>(&msg.body)) {
    if (p.kind != Pending::Kind::kFill && e->code == ErrorCode::kNotMaster) {
      fill_failed(p, now, out);  // the master moved: read the database meanwhile
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
    if (cached != nullptr && cached->value.version > nm->version) {
      // A hint brought a newer version meanwhile: nothing to confirm, nothing to ask again.
      cached->refreshing = false;
      finish_fill(key, cached->value, true, now, out);
      return;
    }
    if (cached == nullptr || cached->value.version != nm->version) {
      filling_.erase(key);
      start_fill(key, now, out);  // evicted or changed meanwhile: ask again
      return;
    }
    ++counters_["not_modified"];
    cached->confirmed_at = p.sent_at;  // the master's answer is at least as new as our question
    cached->ttr = consistency_->ttr_after_poll(*cached, nm->version, now);
    cached->refreshing = false;
    finish_fill(key, cached->value, true, now, out);
    return;
  }
  const auto* value = std::get_if<Value>(&msg.body);
  std::optional<KeyValue> kv = value != nullptr ? value->value : value_in(msg.body);
  if (!kv) {
    fill_failed(p, now, out);
    return;
  }
  if (p.unvouched) kv->partial = true;
  // A partial answer (gossip mode) is served to those waiting, marked so, and never cached.
  const bool cacheable = consistency_->may_cache(value, view(), now) && !kv->partial.value_or(false);
  spdlog::debug("t={} fill {} v{} from {} cacheable={}", to_us(now), key, kv->version,
                p.kind == Pending::Kind::kFill ? "database" : "master", cacheable);
  // A fill older than an invalidation already received is not even stored (finish_fill asks
  // again): the cache's observers (the event stream) must never be told of it.
  const bool stale = !is_master() && consistency_->stale_fill(key, kv->version);
  if (cacheable && !stale) {
    ++counters_["fills"];
    const Duration ttr = cached != nullptr && p.kind == Pending::Kind::kPoll
                             ? consistency_->ttr_after_poll(*cached, kv->version, now)
                             : consistency_->ttr_after_fetch();
    put_cached(*kv, p.sent_at, ttr).refreshing = false;
  }
  finish_fill(key, *kv, cacheable, now, out);
}

void FrontendCore::finish_fill(const std::string& key, const KeyValue& kv, bool cached, TimePoint now, Effects& out) {
  filling_.erase(key);
  if (!is_master() && consistency_->stale_fill(key, kv.version)) {
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
      // The tablet has seen newer than anything here: the database has it (or nobody has, and
      // the client is told so: on_reply).
      ask_database(read_of_key(key), {Pending::Kind::kRead, w.to, w.req, now, key, {}, w.min_version}, out);
    }
  }
}

CacheEntry& FrontendCore::put_cached(const KeyValue& kv, TimePoint at, Duration ttr) {
  const CacheEntry* old = cache_.peek(kv.key);
  const bool news = old == nullptr || old->value.version < kv.version;
  CacheEntry& e = cache_.put(kv, at, ttr);
  if (is_master() && news) consistency_->on_cached(kv);
  return e;
}

std::optional<Changes> FrontendCore::changes_for(const Waiter& w, const KeyValue& kv, TimePoint now) {
  auto c = consistency_->changes_since(w.since, view(), now);
  if (!c) return c;
  for (const auto& [key, sent] : updating_) c->unsettled.push_back(key);
  for (const auto& [key, since] : uncertain_) {
    if (!updating_.count(key)) c->unsettled.push_back(key);
  }
  const CacheEntry* e = cache_.peek(kv.key);
  c->current = e != nullptr && e->value.version == kv.version;
  return c;
}

void FrontendCore::answer(const Waiter& w, const KeyValue& kv, CacheEntry* e, TimePoint now, Effects& out) {
  switch (w.kind) {
    case Waiter::Kind::kTablet: {
      latencies_.reads.observe(now - w.arrived);
      const auto bound = consistency_->staleness_bound(e, view(), now);
      if (e != nullptr && (kv.score || kv.tally)) {
        // A hit: the value's encoding is kept with the entry, only the req is new.
        out.send_frame(w.to, encode_read_reply(w.req, e->value, reply_value(*e), bound));
      } else if (kv.score) {
        ScoreReply r{*kv.score, bound};
        r.partial = kv.partial;
        out.send(w.to, w.req, std::move(r));
      } else if (kv.tally) {
        TallyReply r{*kv.tally, bound};
        r.partial = kv.partial;
        out.send(w.to, w.req, std::move(r));
      }
      return;
    }
    case Waiter::Kind::kPeerFetch:
      out.send(w.to, w.req, Value{kv, consistency_->on_fetch(w.to, kv.key, now), changes_for(w, kv, now)});
      return;
    case Waiter::Kind::kPeerPoll:
      if (kv.version == w.known_version) {
        out.send(w.to, w.req, NotModified{kv.key, kv.version, changes_for(w, kv, now)});
      } else {
        out.send(w.to, w.req, Value{kv, true, changes_for(w, kv, now)});
      }
      return;
  }
}

void FrontendCore::maybe_refresh_ahead(const std::string& key, CacheEntry& e, TimePoint now, Effects& out) {
  if (refresh_ahead_due(key, e, now)) {
    ++counters_["refreshes_ahead"];
    start_fill(key, now, out);
  }
}

bool FrontendCore::refresh_ahead_due(const std::string& key, const CacheEntry& e, TimePoint now) const {
  if (is_master() || master_.empty() || e.refreshing || filling_.count(key)) return false;
  return consistency_->refresh_ahead(e, now);
}

}  // namespace oly
