#include "database/database_core.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include "common/log.h"
#include "common/version.h"
#include "database/counters.h"
#include "database/requests.h"

namespace oly::database {


DatabaseCore::DatabaseCore(Config config, Store& store, const Clock& clock)
    : config_(std::move(config)), store_(store), machine_(store), clock_(clock),
      lease_(ms(config_.heartbeat.timeout_ms)) {
  for (const char* name : kCoreCounters) counters_[name] = 0;
  for (const char* name : kSingleCounters) counters_[name] = 0;
}

void DatabaseCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now,
                              Effects& out) {
  // Answering a reply (or an error) could start an endless exchange of errors with a peer.
  if (notice || is_reply(msg.body)) {
    ++counters_["ignored"];
    return;
  }
  Body reply;
  from_ = from;
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
  if (lease_before_claims_) lease_.set_until(*std::exchange(lease_before_claims_, std::nullopt));
  for (const auto& reply : held_.items()) {
    ++counters_["storage_errors"];
    send(out, {reply.to, {reply.msg.req, make_error(ErrorCode::kStorage, "storage failed: " + reason)}, false, {}});
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

void DatabaseCore::know_lease(TimePoint now) {
  if (lease_known_) return;
  // Whatever lease a master held before a restart of the database ended by now + lease.
  lease_.know(now, store_.master().epoch);
  lease_known_ = true;
}

// Applies the command `checked` came to, or answers its error.
Body DatabaseCore::write_checked(Checked checked) {
  if (auto* e = std::get_if<Error>(&checked)) return std::move(*e);
  return write(std::move(std::get<Command>(checked))).reply;
}

// ---------------------------------------------------------------- reads

template <class Read>
Body DatabaseCore::read_counted(const Read& m) {
  Body reply = read(m, store_, config_);
  if (!std::holds_alternative<Error>(reply)) ++counters_["reads"];
  return reply;
}

Body DatabaseCore::on(const GetScore& m, TimePoint) { return read_counted(m); }
Body DatabaseCore::on(const GetMedalTally& m, TimePoint) { return read_counted(m); }
Body DatabaseCore::on(const GetScoreboard& m, TimePoint) { return read_counted(m); }
Body DatabaseCore::on(const GetMaster& m, TimePoint) { return read_counted(m); }
Body DatabaseCore::on(const ListRegistry& m, TimePoint) { return read_counted(m); }
Body DatabaseCore::on(const GetFeed& m, TimePoint) { return read_counted(m); }

Body DatabaseCore::on(const GetStats&, TimePoint now) {
  ++counters_["stats"];
  const MasterInfo master = store_.master();
  Stats stats;
  stats.node = config_.database.id;
  stats.role = "database";
  stats.counters = counters_;
  stats.info = {{"master", master.frontend},
                {"epoch", std::to_string(master.epoch)},
                {"master_lease_ms", std::to_string(ceil_ms(lease_.left(now)))},
                {"path", config_.database.path},
                {"version", std::string(kVersion)}};
  return stats;
}

template <class T>
Body DatabaseCore::on(const T&, TimePoint) {
  ++counters_["unexpected_ops"];
  return make_error(ErrorCode::kUnexpectedOp,
                    "the database does not handle '" + std::string(T::kOp) + "'");
}

// ---------------------------------------------------------------- updates

Body DatabaseCore::on(const SetScore& m, TimePoint now) { return write_checked(check(m, from_, now, clock_, config_)); }

Body DatabaseCore::on(const IncrementMedalTally& m, TimePoint now) { return write_checked(check(m, from_, now, config_)); }

// ---------------------------------------------------------------- mastership and registry

Body DatabaseCore::on(const ClaimMaster& m, TimePoint now) {
  Checked checked = check(m, from_, lease_.left(now), config_);
  if (auto* e = std::get_if<Error>(&checked)) return std::move(*e);
  Result result = write(std::move(std::get<Command>(checked)));
  if (result.outcome == Outcome::claimed) {
    auto& next = std::get<MasterInfo>(result.reply);
    claims_.push_back(next);
    // The new master holds a lease from now on; undone with the claim if the transaction fails.
    if (!lease_before_claims_) lease_before_claims_ = lease_.until();
    lease_.grant(now);
    next.lease_ms = ceil_ms(lease_.length());
  }
  return std::move(result.reply);
}

Body DatabaseCore::on(const RenewMaster& m, TimePoint now) {
  bool renewed = false;
  Body reply = renew(m, store_.master(), lease_, now, renewed);
  ++counters_[renewed ? "renewals" : "renewals_fenced"];
  if (renewed && m.release) ++counters_["releases"];
  return reply;
}

Body DatabaseCore::on(const AssignHome& m, TimePoint) {
  Checked checked = check(m, config_);
  if (std::holds_alternative<Command>(checked)) ++counters_["registrations"];
  return write_checked(std::move(checked));
}

}  // namespace oly::database
