#include "database/database_core.h"

#include <algorithm>
#include <exception>
#include <optional>
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
Error unknown(ErrorCode code, const std::string& what, const std::string& name,
              const std::vector<std::string>& known) {
  return make_error(code, "unknown " + what + " '" + name + "' (known: " + join(known) + ")");
}

// Checks the ids of update `m` and copies them and its epoch onto command `c`, stamped with the
// monotonic time `now`; bad_value when the publisher or the seq is missing.
template <class Update, class UpdateCommand>
std::optional<Error> stamp_update(const Update& m, TimePoint now, UpdateCommand& c) {
  const std::string op(Update::kOp);
  if (m.publisher.empty()) return make_error(ErrorCode::kBadValue, op + ": publisher must not be empty");
  if (m.seq == 0) return make_error(ErrorCode::kBadValue, op + ": seq starts at 1");
  c.publisher = m.publisher;
  c.seq = m.seq;
  c.epoch = m.epoch;
  c.committed_at_us = to_us(now);
  return std::nullopt;
}

// The counter each outcome of apply adds to (home_kept and invalid add to none).
constexpr std::pair<Outcome, const char*> kOutcomeCounters[] = {
    {Outcome::applied, "updates_applied"},
    {Outcome::duplicate, "duplicates"},
    {Outcome::fenced, "fenced"},
    {Outcome::stale_seq, "stale_seqs"},
    {Outcome::seq_gap, "seq_gaps"},
    {Outcome::claimed, "claims"},
    {Outcome::claim_fenced, "claims_rejected"},
    {Outcome::lease_held, "claims_lease_held"},
    {Outcome::home_assigned, "homes_assigned"}};

const char* counter_of(Outcome outcome) {
  for (const auto& [o, name] : kOutcomeCounters) {
    if (o == outcome) return name;
  }
  return nullptr;
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
    : config_(std::move(config)), store_(store), machine_(store), clock_(clock) {
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
    reply = make_error(ErrorCode::kStorage, std::string("storage failed: ") + e.what());
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
    if (std::exchange(batch_wrote_, false)) ++counters_["batches"];
    for (const auto& m : claims_) spdlog::info("'{}' is master at epoch {}", m.frontend, m.epoch);
    claims_.clear();
    if (commit_listener_) commit_listener_(batch_);
    batch_.clear();
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
  batch_.clear();
  batch_wrote_ = false;
  claims_.clear();
  // The claims of the transaction are undone, and so are the leases they granted.
  if (lease_before_claims_) lease_until_ = *std::exchange(lease_before_claims_, std::nullopt);
  for (const auto& reply : held_.items()) {
    ++counters_["storage_errors"];
    send(out, {reply.to, {reply.msg.req, make_error(ErrorCode::kStorage, "storage failed: " + reason)}});
  }
  held_.clear();
}

void DatabaseCore::send(Effects& out, const Effects::Out& reply) {
  if (std::holds_alternative<Error>(reply.msg.body)) ++counters_["errors"];
  out.send(reply.to, reply.msg.req, reply.msg.body);
}

Result DatabaseCore::write(Command command) {
  if (!in_transaction_) {
    store_.begin();
    in_transaction_ = true;
  }
  Result result = machine_.apply(command);
  batch_.push_back(std::move(command));
  if (const char* name = counter_of(result.outcome)) ++counters_[name];
  batch_wrote_ = batch_wrote_ || wrote(result.outcome);
  return result;
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

// ---------------------------------------------------------------- reads

Body DatabaseCore::on(const GetScore& m, TimePoint) {
  if (!contains(config_.events, m.event))
    return unknown(ErrorCode::kUnknownEvent, "event", m.event, config_.events);
  ++counters_["reads"];
  ScoreReply reply;
  reply.score = store_.score(m.event);
  return reply;
}

Body DatabaseCore::on(const GetMedalTally& m, TimePoint) {
  if (!contains(teams(), m.team)) return unknown(ErrorCode::kUnknownTeam, "team", m.team, teams());
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
  return make_error(ErrorCode::kUnexpectedOp,
                    "the database does not handle '" + std::string(T::kOp) + "'");
}

// ---------------------------------------------------------------- updates

Body DatabaseCore::on(const SetScore& m, TimePoint now) {
  if (!contains(config_.events, m.event))
    return unknown(ErrorCode::kUnknownEvent, "event", m.event, config_.events);
  if (m.gauls < 0 || m.romans < 0) {
    return make_error(ErrorCode::kBadValue,
                      "set_score " + m.event + ": scores must not be negative, got " +
                          std::to_string(m.gauls) + "-" + std::to_string(m.romans));
  }
  cmd::SetScore c;
  if (auto bad = stamp_update(m, now, c)) return *bad;
  c.event = m.event;
  c.gauls = m.gauls;
  c.romans = m.romans;
  c.updated_at = clock_.wall_ms(now);
  return write(std::move(c)).reply;
}

Body DatabaseCore::on(const IncrementMedalTally& m, TimePoint now) {
  if (!contains(teams(), m.team)) return unknown(ErrorCode::kUnknownTeam, "team", m.team, teams());
  if (!contains(medals(), m.medal)) return unknown(ErrorCode::kUnknownMedal, "medal", m.medal, medals());
  cmd::IncrementMedalTally c;
  if (auto bad = stamp_update(m, now, c)) return *bad;
  c.team = m.team;
  c.medal = m.medal;
  return write(std::move(c)).reply;
}

// ---------------------------------------------------------------- mastership and registry

Body DatabaseCore::on(const ClaimMaster& m, TimePoint now) {
  if (config_.frontend(m.frontend) == nullptr) {
    return make_error(ErrorCode::kBadValue, "claim_master: unknown front end '" + m.frontend + "'");
  }
  cmd::ClaimMaster c;
  c.frontend = m.frontend;
  c.epoch = m.epoch;
  c.lease_left_us = lease_left(now).count();
  Result result = write(std::move(c));
  if (result.outcome == Outcome::claimed) {
    auto& next = std::get<MasterInfo>(result.reply);
    claims_.push_back(next);
    // The new master holds a lease from now on; undone with the claim if the transaction fails.
    if (!lease_before_claims_) lease_before_claims_ = lease_until_;
    lease_until_ = now + lease();
    next.lease_ms = ceil_ms(lease());
  }
  return std::move(result.reply);
}

Body DatabaseCore::on(const RenewMaster& m, TimePoint now) {
  const MasterInfo current = store_.master();
  if (current.epoch == 0 || m.epoch != current.epoch || m.frontend != current.frontend) {
    ++counters_["renewals_fenced"];
    return fenced_error(current, std::string(m.release ? "release" : "renewal") +
                                     " of the master lease by '" + m.frontend + "' at epoch " +
                                     std::to_string(m.epoch) + " fenced: the current epoch is " +
                                     std::to_string(current.epoch) + " (master '" +
                                     current.frontend + "')");
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
  if (m.tablet.empty()) return make_error(ErrorCode::kBadValue, "assign_home: tablet must not be empty");
  if (m.frontends.empty())
    return make_error(ErrorCode::kBadValue, "assign_home " + m.tablet + ": no front ends given");
  for (const auto& f : m.frontends) {
    if (config_.frontend(f) == nullptr)
      return make_error(ErrorCode::kBadValue, "assign_home: unknown front end '" + f + "'");
  }
  ++counters_["registrations"];
  cmd::AssignHome c;
  c.tablet = m.tablet;
  c.frontends = m.frontends;
  return write(std::move(c)).reply;
}

}  // namespace oly::database
