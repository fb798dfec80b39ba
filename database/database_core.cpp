#include "database/database_core.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "common/log.h"

namespace oly::database {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "unknown event 'Luge' (known: Curling, Skating, Skiing)"
Error unknown(std::string_view code, const std::string& what, const std::string& name,
              const std::vector<std::string>& known) {
  return make_error(code, "unknown " + what + " '" + name + "' (known: " + join(known) + ")");
}

// Message bodies are filled by field name, so that fields added to them later need no change here.
// `ack` may already carry the key's value.
Ack make_ack(const std::string& publisher, uint64_t seq, const std::string& key, uint64_t version,
             bool duplicate, Ack ack = {}) {
  ack.publisher = publisher;
  ack.seq = seq;
  ack.key = key;
  ack.version = version;
  ack.duplicate = duplicate;
  return ack;
}

// `d` in whole milliseconds, rounded up (a wait of 0.2 ms is a wait of 1 ms).
int64_t ceil_ms(Duration d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d).count();
}

TabletHome tablet_home(const std::string& tablet, const std::string& home) {
  TabletHome reply;
  reply.tablet = tablet;
  reply.home = home;
  return reply;
}

// Every counter the database reports, present from the start so that stats always lists them.
constexpr const char* kCounterNames[] = {"reads",          "updates_applied", "duplicates",
                                         "fenced",         "seq_gaps",        "stale_seqs",
                                         "claims",         "claims_rejected", "claims_lease_held",
                                         "renewals",       "releases",        "renewals_fenced",
                                         "registrations",  "homes_assigned",  "batches",
                                         "stats",          "errors",          "storage_errors",
                                         "unexpected_ops", "ignored"};

}  // namespace

DatabaseCore::DatabaseCore(Config config, Store& store, const Clock& clock)
    : config_(std::move(config)), store_(store), clock_(clock) {
  for (const char* name : kCounterNames) counters_[name] = 0;
}

void DatabaseCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now,
                              Effects& out) {
  // Answering a reply (or an error) could start an endless exchange of errors with a peer.
  if (notice || is_reply(msg.body)) {
    ++counters_["ignored"];
    return;
  }
  Body reply;
  try {
    know_lease(now);
    reply = std::visit([&](const auto& body) { return on(body, now); }, msg.body);
  } catch (const std::exception& e) {
    fail_batch(e.what(), out);
    reply = make_error(code::kStorage, std::string("storage failed: ") + e.what());
  }
  held_.send(from, msg.req, std::move(reply));
}

void DatabaseCore::on_batch_end(TimePoint /*now*/, Effects& out) {
  if (in_transaction_) {
    try {
      store_.commit();
    } catch (const std::exception& e) {
      fail_batch(e.what(), out);
      return;
    }
    in_transaction_ = false;
    lease_before_claims_.reset();
    ++counters_["batches"];
    for (const auto& m : claims_) spdlog::info("'{}' is master at epoch {}", m.frontend, m.epoch);
    claims_.clear();
  }
  for (const auto& reply : held_.items()) send(out, reply);
  held_.clear();
}

void DatabaseCore::fail_batch(const std::string& reason, Effects& out) {
  spdlog::error("storage failed, rolling back {} held replies: {}", held_.items().size(), reason);
  try {
    store_.rollback();
  } catch (const std::exception& e) {
    spdlog::error("rollback failed too: {}", e.what());
  }
  in_transaction_ = false;
  claims_.clear();
  // The claims of the transaction are undone, and so are the leases they granted.
  if (lease_before_claims_) lease_until_ = *std::exchange(lease_before_claims_, std::nullopt);
  for (const auto& reply : held_.items()) {
    ++counters_["storage_errors"];
    send(out, {reply.to, {reply.msg.req, make_error(code::kStorage, "storage failed: " + reason)}});
  }
  held_.clear();
}

void DatabaseCore::send(Effects& out, const Effects::Out& reply) {
  if (std::holds_alternative<Error>(reply.msg.body)) ++counters_["errors"];
  out.send(reply.to, reply.msg.req, reply.msg.body);
}

void DatabaseCore::begin_write() {
  if (in_transaction_) return;
  store_.begin();
  in_transaction_ = true;
}

Duration DatabaseCore::lease() const {
  return ms(config_.heartbeat.timeout_ms);
}

void DatabaseCore::know_lease(TimePoint now) {
  if (lease_known_) return;
  // Whatever lease a master held before a restart of the database ended by now + lease.
  lease_until_ = store_.master().epoch > 0 ? now + lease() : TimePoint::min();
  lease_known_ = true;
}

Duration DatabaseCore::lease_left(TimePoint now) const {
  return lease_until_ > now ? lease_until_ - now : Duration::zero();
}

Error DatabaseCore::fenced(const MasterInfo& current, std::string text) {
  Error e = make_error(code::kFenced, std::move(text));
  e.epoch = current.epoch;
  e.master = current.frontend;
  return e;
}

// ---------------------------------------------------------------- reads

Body DatabaseCore::on(const GetScore& m, TimePoint) {
  if (!contains(config_.events, m.event))
    return unknown(code::kUnknownEvent, "event", m.event, config_.events);
  ++counters_["reads"];
  ScoreReply reply;
  reply.score = store_.score(m.event);
  return reply;
}

Body DatabaseCore::on(const GetMedalTally& m, TimePoint) {
  if (!contains(teams(), m.team)) return unknown(code::kUnknownTeam, "team", m.team, teams());
  ++counters_["reads"];
  TallyReply reply;
  reply.tally = store_.tally(m.team);
  return reply;
}

Body DatabaseCore::on(const GetScoreboard&, TimePoint) {
  ++counters_["reads"];
  Scoreboard board;
  for (const auto& event : config_.events) board.scores.push_back(store_.score(event));
  for (const auto& team : teams()) board.tallies.push_back(store_.tally(team));
  return board;
}

Body DatabaseCore::on(const GetMaster&, TimePoint) {
  ++counters_["reads"];
  return store_.master();
}

Body DatabaseCore::on(const ListRegistry& m, TimePoint) {
  ++counters_["reads"];
  Registry reply;
  reply.entries = store_.registry(m.home);
  return reply;
}

Body DatabaseCore::on(const GetStats&, TimePoint now) {
  ++counters_["stats"];
  const MasterInfo master = store_.master();
  Stats stats;
  stats.node = config_.database.id;
  stats.role = "database";
  stats.counters = counters_;
  stats.info = {{"master", master.frontend},
                {"epoch", std::to_string(master.epoch)},
                {"master_lease_ms", std::to_string(ceil_ms(lease_left(now)))},
                {"path", config_.database.path}};
  return stats;
}

template <class T>
Body DatabaseCore::on(const T&, TimePoint) {
  ++counters_["unexpected_ops"];
  return make_error(code::kUnexpectedOp,
                    "the database does not handle '" + std::string(T::kOp) + "'");
}

// ---------------------------------------------------------------- updates

template <class Apply>
Body DatabaseCore::update(const std::string& publisher, uint64_t seq, std::optional<uint64_t> epoch,
                          std::string key, std::string_view op, TimePoint now, Apply apply) {
  if (publisher.empty())
    return make_error(code::kBadValue, std::string(op) + ": publisher must not be empty");
  if (seq == 0) return make_error(code::kBadValue, std::string(op) + ": seq starts at 1");
  const MasterInfo master = store_.master();
  if (master.epoch == 0 || epoch != master.epoch) {
    ++counters_["fenced"];
    const std::string given = epoch ? std::to_string(*epoch) : "none";
    return fenced(master, std::string(op) + " with epoch " + given +
                              " fenced: the current epoch is " + std::to_string(master.epoch) +
                              (master.epoch == 0 ? " (no master yet)" : ""));
  }
  const uint64_t last = store_.last_seq(publisher);
  if (seq <= last) {
    const auto prior = store_.applied(publisher, seq);
    if (!prior) {
      ++counters_["stale_seqs"];
      return make_error(code::kStaleSeq, "seq " + std::to_string(seq) + " of publisher '" +
                                             publisher + "' is in the past (last applied " +
                                             std::to_string(last) + ") and was never applied");
    }
    ++counters_["duplicates"];
    // The key's current value (its version may be newer than the duplicate's): a master whose
    // first ack was lost learns the value it missed and writes it through.
    Ack current;
    const std::string name = prior->key.substr(prior->key.find('/') + 1);
    if (prior->key.rfind("score/", 0) == 0) {
      current.score = store_.score(name);
    } else {
      current.tally = store_.tally(name);
    }
    return make_ack(publisher, seq, prior->key, prior->version, true, std::move(current));
  }
  if (seq > last + 1) {
    ++counters_["seq_gaps"];
    return make_error(code::kSeqGap, "expected seq " + std::to_string(last + 1) +
                                         " from publisher '" + publisher + "', got " +
                                         std::to_string(seq));
  }
  begin_write();
  AppliedUpdate u;
  u.publisher = publisher;
  u.seq = seq;
  u.key = std::move(key);
  u.op = std::string(op);
  u.committed_at_us = to_us(now);
  Ack ack;
  apply(u, ack);
  store_.record_applied(u);
  store_.set_last_seq(publisher, seq);
  ++counters_["updates_applied"];
  return make_ack(publisher, seq, u.key, u.version, false, std::move(ack));
}

Body DatabaseCore::on(const SetScore& m, TimePoint now) {
  if (!contains(config_.events, m.event))
    return unknown(code::kUnknownEvent, "event", m.event, config_.events);
  if (m.gauls < 0 || m.romans < 0) {
    return make_error(code::kBadValue,
                      "set_score " + m.event + ": scores must not be negative, got " +
                          std::to_string(m.gauls) + "-" + std::to_string(m.romans));
  }
  return update(m.publisher, m.seq, m.epoch, "score/" + m.event, SetScore::kOp, now,
                [&](AppliedUpdate& u, Ack& ack) {
                  Score s = store_.score(m.event);
                  s.gauls = u.gauls = m.gauls;
                  s.romans = u.romans = m.romans;
                  s.version = u.version = s.version + 1;
                  s.updated_at = clock_.wall_ms(now);
                  store_.put_score(s);
                  ack.score = s;
                });
}

Body DatabaseCore::on(const IncrementMedalTally& m, TimePoint now) {
  if (!contains(teams(), m.team)) return unknown(code::kUnknownTeam, "team", m.team, teams());
  if (!contains(medals(), m.medal)) return unknown(code::kUnknownMedal, "medal", m.medal, medals());
  return update(m.publisher, m.seq, m.epoch, "tally/" + m.team, IncrementMedalTally::kOp, now,
                [&](AppliedUpdate& u, Ack& ack) {
                  Tally t = store_.tally(m.team);
                  ++(m.medal == "gold" ? t.gold : m.medal == "silver" ? t.silver : t.bronze);
                  t.version = u.version = t.version + 1;
                  u.medal = m.medal;
                  store_.put_tally(t);
                  ack.tally = t;
                });
}

// ---------------------------------------------------------------- mastership and registry

Body DatabaseCore::on(const ClaimMaster& m, TimePoint now) {
  if (config_.frontend(m.frontend) == nullptr) {
    return make_error(code::kBadValue, "claim_master: unknown front end '" + m.frontend + "'");
  }
  const MasterInfo current = store_.master();
  if (m.epoch != current.epoch + 1) {
    ++counters_["claims_rejected"];
    return fenced(current, "claim of epoch " + std::to_string(m.epoch) + " by '" + m.frontend +
                               "' refused: the current epoch is " + std::to_string(current.epoch) +
                               " (master '" + current.frontend + "')");
  }
  if (m.frontend != current.frontend && lease_left(now) > Duration::zero()) {
    ++counters_["claims_lease_held"];
    const int64_t left = std::max<int64_t>(1, ceil_ms(lease_left(now)));
    Error e = make_error(
        code::kLeaseHeld,
        "claim of epoch " + std::to_string(m.epoch) + " by '" + m.frontend + "' refused: master '" +
            current.frontend + "' (epoch " + std::to_string(current.epoch) +
            ") holds the master lease for another " + std::to_string(left) + " ms");
    e.master = current.frontend;
    e.epoch = current.epoch;
    e.retry_after_ms = left;
    return e;
  }
  begin_write();
  MasterInfo next;
  next.frontend = m.frontend;
  next.epoch = m.epoch;
  store_.set_master(next);
  claims_.push_back(next);
  // The new master holds a lease from now on; undone with the claim if the transaction fails.
  if (!lease_before_claims_) lease_before_claims_ = lease_until_;
  lease_until_ = now + lease();
  ++counters_["claims"];
  next.lease_ms = ceil_ms(lease());
  return next;
}

Body DatabaseCore::on(const RenewMaster& m, TimePoint now) {
  const MasterInfo current = store_.master();
  if (current.epoch == 0 || m.epoch != current.epoch || m.frontend != current.frontend) {
    ++counters_["renewals_fenced"];
    return fenced(current, std::string(m.release ? "release" : "renewal") +
                               " of the master lease by '" + m.frontend + "' at epoch " +
                               std::to_string(m.epoch) + " fenced: the current epoch is " +
                               std::to_string(current.epoch) + " (master '" + current.frontend +
                               "')");
  }
  ++counters_["renewals"];
  MasterInfo reply = current;
  if (m.release) {
    ++counters_["releases"];
    lease_until_ = now;
    reply.lease_ms = 0;
  } else {
    lease_until_ = now + lease();
    reply.lease_ms = ceil_ms(lease());
  }
  return reply;
}

Body DatabaseCore::on(const AssignHome& m, TimePoint) {
  if (m.tablet.empty()) return make_error(code::kBadValue, "assign_home: tablet must not be empty");
  if (m.frontends.empty())
    return make_error(code::kBadValue, "assign_home " + m.tablet + ": no front ends given");
  for (const auto& f : m.frontends) {
    if (config_.frontend(f) == nullptr)
      return make_error(code::kBadValue, "assign_home: unknown front end '" + f + "'");
  }
  ++counters_["registrations"];
  if (auto home = store_.home(m.tablet); home && contains(m.frontends, *home))
    return tablet_home(m.tablet, *home);
  const std::string* best = nullptr;
  int64_t best_count = 0;
  for (const auto& f : m.frontends) {
    const int64_t n = store_.home_count(f);
    if (best == nullptr || n < best_count) {
      best = &f;
      best_count = n;
    }
  }
  begin_write();
  store_.set_home(m.tablet, *best);
  ++counters_["homes_assigned"];
  return tablet_home(m.tablet, *best);
}

}  // namespace oly::database
