#include "database/state_machine.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

namespace oly::database {

namespace {

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

TabletHome tablet_home(const std::string& tablet, const std::string& home) {
  TabletHome reply;
  reply.tablet = tablet;
  reply.home = home;
  return reply;
}

}  // namespace

bool wrote(Outcome outcome) {
  return outcome == Outcome::applied || outcome == Outcome::claimed ||
         outcome == Outcome::home_assigned || outcome == Outcome::kv_set;
}

Error fenced_error(const MasterInfo& current, std::string text) {
  Error e = make_error(ErrorCode::kFenced, std::move(text));
  e.epoch = current.epoch;
  e.master = current.frontend;
  return e;
}

int64_t ceil_ms(Duration d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d).count();
}

Result StateMachine::apply(const Command& command) {
  return std::visit([&](const auto& c) { return on(c); }, command);
}

std::vector<Result> StateMachine::apply_batch(const CommandBatch& batch) {
  std::vector<Result> results;
  results.reserve(batch.size());
  store_.begin();
  try {
    for (const auto& command : batch) results.push_back(apply(command));
    store_.commit();
  } catch (const std::exception&) {
    store_.rollback();
    throw;
  }
  return results;
}

// ---------------------------------------------------------------- updates

template <class Update, class Write>
Result StateMachine::update(const Update& c, const Key& key, Write write) {
  const std::string op(Update::kOp);
  const MasterInfo master = store_.master();
  if (fencing_ && (master.epoch == 0 || c.epoch != master.epoch)) {
    const std::string given = c.epoch ? std::to_string(*c.epoch) : "none";
    return {Outcome::fenced,
            fenced_error(master, op + " with epoch " + given + " fenced: the current epoch is " +
                                     std::to_string(master.epoch) +
                                     (master.epoch == 0 ? " (no master yet)" : ""))};
  }
  const uint64_t last = store_.last_seq(c.publisher);
  if (c.seq <= last) {
    const auto prior = store_.applied(c.publisher, c.seq);
    if (!prior) {
      return {Outcome::stale_seq,
              make_error(ErrorCode::kStaleSeq, "seq " + std::to_string(c.seq) + " of publisher '" +
                                              c.publisher + "' is older than the last " +
                                              std::to_string(kExactlyOnceWindow) + " the database remembers (last applied " +
                                              std::to_string(last) + "); its result is gone")};
    }
    // The key's current value (its version may be newer than the duplicate's): a master whose
    // first ack was lost learns the value it missed and writes it through.
    Ack current;
    if (const auto key = Key::parse(prior->key); key && key->is_score()) {
      current.score = store_.score(std::string(key->name()));
    } else if (key) {
      current.tally = store_.tally(std::string(key->name()));
    }
    return {Outcome::duplicate,
            make_ack(c.publisher, c.seq, prior->key, prior->version, true, std::move(current))};
  }
  if (c.seq > last + 1) {
    return {Outcome::seq_gap, make_error(ErrorCode::kSeqGap, "expected seq " + std::to_string(last + 1) +
                                                            " from publisher '" + c.publisher +
                                                            "', got " + std::to_string(c.seq))};
  }
  AppliedUpdate u;
  u.publisher = c.publisher;
  u.seq = c.seq;
  u.key = key.str();
  u.op = op;
  u.committed_at_us = c.committed_at_us;
  Ack ack;
  write(u, ack);
  store_.record_applied(u);
  store_.set_last_seq(c.publisher, c.seq);
  return {Outcome::applied, make_ack(c.publisher, c.seq, u.key, u.version, false, std::move(ack))};
}

Result StateMachine::on(const cmd::SetScore& c) {
  return update(c, Key::score(c.event), [&](AppliedUpdate& u, Ack& ack) {
    Score s = store_.score(c.event);
    s.gauls = u.gauls = c.gauls;
    s.romans = u.romans = c.romans;
    s.version = u.version = s.version + 1;
    s.updated_at = c.updated_at;
    store_.put_score(s);
    ack.score = s;
  });
}

Result StateMachine::on(const cmd::IncrementMedalTally& c) {
  return update(c, Key::tally(c.team), [&](AppliedUpdate& u, Ack& ack) {
    Tally t = store_.tally(c.team);
    ++(c.medal == "gold" ? t.gold : c.medal == "silver" ? t.silver : t.bronze);
    t.version = u.version = t.version + 1;
    u.medal = c.medal;
    store_.put_tally(t);
    ack.tally = t;
  });
}

// ---------------------------------------------------------------- mastership and registry

Result StateMachine::on(const cmd::ClaimMaster& c) {
  const MasterInfo current = store_.master();
  const std::string claim =
      "claim of epoch " + std::to_string(c.epoch) + " by '" + c.frontend + "'";
  if (c.epoch != current.epoch + 1) {
    return {Outcome::claim_fenced,
            fenced_error(current, claim + " refused: the current epoch is " +
                                      std::to_string(current.epoch) + " (master '" +
                                      current.frontend + "')")};
  }
  if (c.frontend != current.frontend && c.lease_left_us > 0) {
    const int64_t left = std::max<int64_t>(1, ceil_ms(Duration(c.lease_left_us)));
    Error e = make_error(ErrorCode::kLeaseHeld, claim + " refused: master '" + current.frontend +
                                               "' (epoch " + std::to_string(current.epoch) +
                                               ") holds the master lease for another " +
                                               std::to_string(left) + " ms");
    e.master = current.frontend;
    e.epoch = current.epoch;
    e.retry_after_ms = left;
    return {Outcome::lease_held, std::move(e)};
  }
  MasterInfo next;
  next.frontend = c.frontend;
  next.epoch = c.epoch;
  store_.set_master(next);
  return {Outcome::claimed, std::move(next)};
}

Result StateMachine::on(const cmd::AssignHome& c) {
  if (auto home = store_.home(c.tablet); home && std::ranges::count(c.frontends, *home) > 0)
    return {Outcome::home_kept, tablet_home(c.tablet, *home)};
  const std::string* best = nullptr;
  int64_t best_count = 0;
  for (const auto& f : c.frontends) {
    const int64_t n = store_.home_count(f);
    if (best == nullptr || n < best_count) {
      best = &f;
      best_count = n;
    }
  }
  if (best == nullptr) {
    return {Outcome::invalid,
            make_error(ErrorCode::kBadValue, "assign_home " + c.tablet + ": no front ends given")};
  }
  store_.set_home(c.tablet, *best);
  return {Outcome::home_assigned, tablet_home(c.tablet, *best)};
}

// ---------------------------------------------------------------- the key-value store

Result StateMachine::on(const cmd::KvSet& c) {
  KvValue reply;
  reply.key = c.key;
  reply.value = store_.kv_get(c.key);
  const auto size = [&](const std::string& value) { return static_cast<int64_t>(c.key.size() + value.size()); };
  const int64_t after = store_.kv_bytes() - (reply.value ? size(*reply.value) : 0) + size(c.value);
  if (after > kKvMaxStoreBytes) {
    return {Outcome::store_full,
            make_error(ErrorCode::kStoreFull, "the key-value store would hold " + std::to_string(after) +
                                                  " bytes of keys and values; at most " +
                                                  std::to_string(kKvMaxStoreBytes) + " are allowed")};
  }
  store_.kv_put(c.key, c.value);
  return {Outcome::kv_set, std::move(reply)};
}

}  // namespace oly::database
