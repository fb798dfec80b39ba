#include "database/replica_core.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>
#include <utility>

#include "common/version.h"
#include "database/counters.h"

namespace oly::database {

namespace {

// This replica's Raft id: the one kept in its file, else its position in the config (a member
// of a new tier), else (joining) a random one above every position, kept from then on.
uint64_t raft_id_of(const Config& config, const ReplicaStart& start, SqliteStore& store, uint64_t seed) {
  if (uint64_t kept = store.raft_id(); kept != 0) return kept;
  uint64_t id = 0;
  if (start.join.empty()) {
    for (const auto& m : replica_members(config)) {
      if (m.name == start.id) id = m.id;
    }
    if (id == 0) throw std::runtime_error("'" + start.id + "' is not one of database.replicas (to add it to a running tier, give it a replica to join)");
  } else {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    id = (rng() >> 2) | (uint64_t{1} << 40);  // positive as an SQLite INTEGER, never a position
  }
  store.set_raft_id(id);
  return id;
}

consensus::Options options_for(const Config& config, const ReplicaStart& start, uint64_t raft_id, uint64_t seed) {
  consensus::Options o;
  // Only a replica of the config's first group bootstraps with it; one that joined later (and
  // restarts, its log maybe still empty) waits for the leader instead.
  const auto configured = replica_members(config);
  const bool founder = std::any_of(configured.begin(), configured.end(),
                                   [&](const auto& m) { return m.name == start.id && m.id == raft_id; });
  if (start.join.empty() && founder) o.voters = configured;
  o.self = {raft_id, start.id, join_member_address(start.address, start.http)};
  o.election_timeout_ms = config.database.election_timeout_ms;
  o.heartbeat_ms = config.database.raft_heartbeat_ms;
  o.tick_ms = std::max(1, std::min(10, config.database.raft_heartbeat_ms / 4));
  o.snapshot_threshold = config.database.snapshot_every;
  o.snapshot_trailing = config.database.snapshot_trailing;
  o.seed = seed;
  return o;
}

}  // namespace

std::vector<consensus::Member> replica_members(const Config& config) {
  std::vector<consensus::Member> out;
  for (size_t i = 0; i < config.database.replicas.size(); ++i) {
    const auto& r = config.database.replicas[i];
    out.push_back({i + 1, r.id, join_member_address(r.address, r.http)});
  }
  return out;
}

namespace {

ReplicaStart start_of(const Config& config, const std::string& id) {
  const ReplicaConfig* me = config.replica(id);
  return ReplicaStart{id, me != nullptr ? me->address : "", {}, me != nullptr ? me->http : ""};
}

}  // namespace

ReplicaCore::ReplicaCore(Config config, const std::string& id, SqliteStore& store, const Clock& clock, TimePoint now,
                         uint64_t seed)
    : ReplicaCore(config, start_of(config, id), store, clock, now, seed) {}

ReplicaCore::ReplicaCore(Config config, ReplicaStart start, SqliteStore& store, const Clock& clock, TimePoint now,
                         uint64_t seed)
    : config_(std::move(config)), id_(start.id), store_(store), clock_(clock), machine_(store),
      lease_(ms(config_.heartbeat.timeout_ms)), now_(now), join_via_(start.join), next_join_(now),
      address_(start.address), http_(start.http) {
  for (const char* name : kCoreCounters) counters_[name] = 0;
  for (const char* name : kReplicaCounters) counters_[name] = 0;
  // The state is rebuilt from the snapshot and the log (the Consensus restores and re-applies).
  store_.rollback();
  const uint64_t raft_id = raft_id_of(config_, start, store_, seed);
  store_.clear_state();
  consensus_ = std::make_unique<consensus::Consensus>(options_for(config_, start, raft_id, seed), store_,
                                                      static_cast<consensus::Machine&>(*this), now);
  on_configuration(answers_);  // the connects reach the Node with the first step's effects
}

ReplicaCore::~ReplicaCore() {
  closing_ = true;  // the rounds the Consensus cancels as it closes go unanswered
  consensus_.reset();
}

std::string_view ReplicaCore::role_name() const { return consensus::to_string(consensus_->role()); }

// ---------------------------------------------------------------- the replicated state machine

void ReplicaCore::apply(std::string_view entry) {
  DecodedBatch decoded = decode_batch(entry);
  if (!decoded.error.empty()) {
    // Every replica has the same bytes, so every replica skips the same entry alike.
    spdlog::error("skipping a log entry that is not a command batch: {}", decoded.error);
    last_results_.clear();
    return;
  }
  store_.begin_state();
  last_results_.clear();
  for (const auto& command : decoded.batch) {
    last_results_.push_back(machine_.apply(command));
    if (apply_listener_) apply_listener_(command, last_results_.back());
  }
}

std::string ReplicaCore::snapshot() {
  // Timed for the log only (the operator's view of what a snapshot costs the loop).
  const auto began = std::chrono::steady_clock::now();
  std::string dump = store_.state_dump();
  const auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  ++counters_["snapshots"];
  spdlog::info("snapshot of the state at applied index {}: {} bytes in {:.1f} ms", consensus_->last_applied(), dump.size(), took);
  return dump;
}

// ---------------------------------------------------------------- requests

void ReplicaCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) {
  now_ = now;
  if (auto* rpc = std::get_if<RaftRpc>(&msg.body)) {
    if (from == id_) {
      ++counters_["raft_rpcs_refused"];
    } else {
      ++counters_["raft_rpcs"];
      std::string whole;
      const auto outcome = parts_.add(from, *rpc, whole);
      if (outcome == RaftParts::Outcome::kRefused) ++counters_["raft_rpcs_refused"];
      if (outcome == RaftParts::Outcome::kWhole) {
        const uint64_t dropped = consensus_->rpcs_dropped();
        consensus_->receive(from, whole, now, rpc->id.value_or(0));
        if (consensus_->rpcs_dropped() != dropped) ++counters_["raft_rpcs_refused"];
      }
    }
  } else if (!notice && is_reply(msg.body) && relay(msg.req, msg.body, out)) {
    // the leader's answer to a forwarded key-value request
  } else if (!notice && (msg.is<Members>() || msg.is<Error>())) {
    on_membership_reply(from, msg.body);  // answers to this replica's join
  } else if (notice || is_reply(msg.body)) {
    ++counters_["ignored"];
  } else {
    handle(from, std::move(msg), now, out);
  }
  settle(now, out);
}

void ReplicaCore::handle(const std::string& from, Message msg, TimePoint now, Effects& out) {
  if (msg.is<GetStats>()) {
    ++counters_["stats"];
    out.send(from, msg.req, stats(now));
    return;
  }
  if (msg.is<GetMembers>()) {
    out.send(from, msg.req, members());
    return;
  }
  if (Body local; read_locally(msg.body, local)) {
    ++counters_["reads"];
    ++counters_["local_reads"];
    out.send(from, msg.req, std::move(local));
    return;
  }
  if (const auto* get = std::get_if<KvGet>(&msg.body); get != nullptr && get->local) {
    ++counters_["local_reads"];
    Body reply = read_kv_locally(*get, now);
    if (std::holds_alternative<Error>(reply)) ++counters_["errors"];
    out.send(from, msg.req, std::move(reply));
    return;
  }
  if (!consensus_->leading() && (msg.is<KvGet>() || msg.is<KvSet>())) {
    forward(from, std::move(msg), now, out);
    return;
  }
  if (!consensus_->leading()) {
    ++counters_["not_leader"];
    ++counters_["errors"];
    out.send(from, msg.req, not_leader());
    return;
  }
  if (const auto* j = std::get_if<JoinTier>(&msg.body)) {
    on_join(from, msg.req, *j, out);
    return;
  }
  if (const auto* r = std::get_if<RemoveReplica>(&msg.body)) {
    on_remove(from, msg.req, *r, out);
    return;
  }
  if (config_.byzantine && (msg.is<SetScore>() || msg.is<IncrementMedalTally>())) {
    submit(from, std::move(msg), now, out);
    return;
  }
  Held held{from, msg.req, std::move(msg.body), -1};
  std::optional<Checked> checked;
  if (const auto* m = std::get_if<SetScore>(&held.request)) checked = check(*m, from, now, clock_, config_);
  else if (const auto* m = std::get_if<IncrementMedalTally>(&held.request)) checked = check(*m, from, now, config_);
  else if (const auto* m = std::get_if<ClaimMaster>(&held.request)) checked = check(*m, from, lease_.left(now), config_);
  else if (const auto* m = std::get_if<AssignHome>(&held.request)) checked = check(*m, config_);
  else if (const auto* m = std::get_if<KvSet>(&held.request)) checked = check(*m);
  else if (!is_read(held.request) && !std::holds_alternative<RenewMaster>(held.request) &&
           !std::holds_alternative<KvGet>(held.request)) {
    ++counters_["unexpected_ops"];
    ++counters_["errors"];
    out.send(from, held.req, make_error(ErrorCode::kUnexpectedOp, "the database does not handle '" +
                                                                      std::string(op_name(held.request)) + "'"));
    return;
  }
  if (checked) {
    if (auto* e = std::get_if<Error>(&*checked)) {
      ++counters_["errors"];
      out.send(from, held.req, std::move(*e));
      return;
    }
    if (std::holds_alternative<AssignHome>(held.request)) ++counters_["registrations"];
    held.command = static_cast<int>(open_.batch.size());
    open_.batch.push_back(std::move(std::get<Command>(*checked)));
    count_writing(held.request, 1);
  } else if (asks_committed(held.request) || !writing(piece_of(held.request))) {
    // No write of its piece in flight: a read index answers it, without a log entry.
    reads_open_.push_back(std::move(held));
    return;
  }
  open_.held.push_back(std::move(held));
}

void ReplicaCore::set_publisher_key(std::string key) {
  gate_ = std::make_unique<ByzantineGate>(config_, std::move(key), 4 * ms(config_.database.request_timeout_ms));
}

void ReplicaCore::submit(const std::string& from, Message msg, TimePoint now, Effects& out) {
  const auto refuse = [&](Error e) {
    ++counters_["errors"];
    ++counters_["submissions_refused"];
    out.send(from, msg.req, std::move(e));
  };
  if (!gate_) return refuse(make_error(ErrorCode::kUnavailable, "Byzantine mode: this replica has no publisher key"));
  const std::string publisher = std::visit([](const auto& m) {
    if constexpr (requires { m.publisher; }) return m.publisher;
    else return std::string();
  }, msg.body);
  auto outcome = gate_->admit(from, msg.req, msg.body, store_.last_seq(publisher), store_.master().epoch, now);
  using V = ByzantineGate::Verdict;
  if (outcome.verdict == V::kRefuse) return refuse(std::move(outcome.error));
  if (outcome.verdict == V::kPark) {
    ++counters_["submissions_parked"];
    return;
  }
  Checked checked = std::holds_alternative<SetScore>(msg.body)
                        ? check(std::get<SetScore>(msg.body), from, now, clock_, config_)
                        : check(std::get<IncrementMedalTally>(msg.body), from, now, config_);
  if (auto* e = std::get_if<Error>(&checked)) return refuse(std::move(*e));
  if (outcome.verdict == V::kApply) ++counters_["submissions_agreed"];
  const int command = static_cast<int>(open_.batch.size());
  open_.batch.push_back(std::move(std::get<Command>(checked)));
  const auto hold = [&](const std::string& to, uint64_t req) {
    open_.held.push_back(Held{to, req, msg.body, command});
    count_writing(msg.body, 1);
  };
  for (const auto& [to, req] : outcome.parked) hold(to, req);
  hold(from, msg.req);
}

bool ReplicaCore::asks_committed(const Body& request) {
  if (const auto* g = std::get_if<GetScore>(&request)) return g->committed.value_or(false);
  if (const auto* t = std::get_if<GetMedalTally>(&request)) return t->committed.value_or(false);
  return false;
}

void ReplicaCore::count_writing(const Body& request, int delta) {
  const std::string piece = piece_of(request);
  const auto count = [&](const std::string& p) {
    if ((writing_[p] += delta) <= 0) writing_.erase(p);
  };
  count(piece);
  if (piece.rfind("score:", 0) == 0 || piece.rfind("tally:", 0) == 0) count("*");  // get_scoreboard's piece
}

void ReplicaCore::confirm_reads() {
  auto round = std::make_shared<ReadRound>(ReadRound{std::exchange(reads_open_, {}), consensus_->commit_index()});
  const bool asked = consensus_->confirm([this, round](bool ok) {
    if (closing_) return;
    if (!ok) {
      fail_round(round->held);
      return;
    }
    reads_confirmed_.push_back(round);
    answer_confirmed_reads();
  });
  if (asked) {
    ++counters_["read_index_rounds"];
  } else {
    fail_round(round->held);
  }
}

void ReplicaCore::answer_confirmed_reads() {
  while (!reads_confirmed_.empty() && consensus_->last_applied() >= reads_confirmed_.front()->read_index) {
    const auto round = reads_confirmed_.front();
    reads_confirmed_.pop_front();
    for (const auto& h : round->held) {
      Body reply = answer(h, {}, now_);
      if (std::holds_alternative<Error>(reply)) ++counters_["errors"];
      answers_.send(h.from, h.req, std::move(reply));
    }
  }
}

void ReplicaCore::fail_round(const std::vector<Held>& held) {
  ++counters_["rounds_failed"];
  for (const auto& h : held) {
    ++counters_["errors"];
    answers_.send(h.from, h.req, not_leader());
  }
}

void ReplicaCore::on_batch_end(TimePoint now, Effects& out) {
  now_ = now;
  if (!open_.held.empty()) propose_round(now);
  if (!reads_open_.empty()) confirm_reads();
  // The new entries go to the followers before they are durable here (Raft allows it: the leader
  // counts itself in a quorum only once its own write is done), so the leader's sync and the
  // followers' overlap instead of adding up. on_tick makes them durable, right after Node has
  // sent these (next_wake() is now while a write is pending).
  settle(now, out);
  end_step();
}

void ReplicaCore::end_step() {
  // What was applied since the last sync becomes visible to readers of the file (the checker,
  // the tools); the log already holds it durably.
  try {
    store_.commit_unsynced();
  } catch (const std::exception& e) {
    throw std::runtime_error("replica '" + id_ + "' stopped: storage failed: " + e.what());
  }
}

void ReplicaCore::propose_round(TimePoint now) {
  auto round = std::make_shared<Round>(std::exchange(open_, {}));
  const bool writes = !round->batch.empty();
  auto done = [this, round, writes](bool ok) {
    // A command entry's results are those of the apply that ran just before this call.
    const std::vector<Result> results = writes && ok ? std::exchange(last_results_, {}) : std::vector<Result>{};
    complete(*round, ok, results, now_);
  };
  const bool proposed = writes ? consensus_->propose(encode_batch(round->batch), done) : consensus_->barrier(done);
  if (proposed) {
    ++counters_[writes ? "batches" : "barriers"];
  } else {
    complete(*round, false, {}, now);
  }
}

void ReplicaCore::complete(const Round& round, bool ok, const std::vector<Result>& results, TimePoint now) {
  for (const auto& h : round.held) {
    if (h.command >= 0) count_writing(h.request, -1);
  }
  if (closing_) return;
  if (!ok || (!round.batch.empty() && results.size() != round.batch.size())) {
    fail_round(round.held);
    return;
  }
  for (const auto& h : round.held) {
    Body reply = answer(h, results, now);
    if (std::holds_alternative<Error>(reply)) ++counters_["errors"];
    answers_.send(h.from, h.req, std::move(reply));
  }
}

Body ReplicaCore::answer(const Held& h, const std::vector<Result>& results, TimePoint now) {
  if (h.command >= 0) {
    const Result& result = results[static_cast<size_t>(h.command)];
    if (const char* name = counter_of(result.outcome)) ++counters_[name];
    Body reply = result.reply;
    if (auto* kv = std::get_if<KvValue>(&reply)) kv->leader = leader_http();
    if (result.outcome == Outcome::claimed) {
      auto& next = std::get<MasterInfo>(reply);
      spdlog::info("'{}' is master at epoch {}", next.frontend, next.epoch);
      lease_.grant(now);
      next.lease_ms = ceil_ms(lease_.length());
    }
    return reply;
  }
  if (const auto* renewal = std::get_if<RenewMaster>(&h.request)) {
    bool renewed = false;
    Body reply = renew(*renewal, store_.master(), lease_, now, renewed);
    ++counters_[renewed ? "renewals" : "renewals_fenced"];
    if (renewed && renewal->release) ++counters_["releases"];
    return reply;
  }
  ++counters_["reads"];
  if (const auto* get = std::get_if<KvGet>(&h.request)) {
    ++counters_["kv_gets"];
    Body reply = read(*get, store_);
    if (auto* kv = std::get_if<KvValue>(&reply)) kv->leader = leader_http();
    return reply;
  }
  return std::visit(
      [&](const auto& m) -> Body {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, GetScore> || std::is_same_v<T, GetMedalTally> ||
                      std::is_same_v<T, GetScoreboard> || std::is_same_v<T, GetMaster> ||
                      std::is_same_v<T, ListRegistry> || std::is_same_v<T, GetFeed>) {
          return read(m, store_, config_);
        } else {
          return make_error(ErrorCode::kUnexpectedOp, "not a read");
        }
      },
      h.request);
}

bool ReplicaCore::read_locally(const Body& request, Body& answer) {
  std::optional<uint64_t> min_version;
  if (const auto* g = std::get_if<GetScore>(&request)) {
    min_version = g->min_version;
    if (min_version) answer = read(*g, store_, config_);
  } else if (const auto* t = std::get_if<GetMedalTally>(&request)) {
    min_version = t->min_version;
    if (min_version) answer = read(*t, store_, config_);
  }
  if (!min_version) return false;
  if (const auto* s = std::get_if<ScoreReply>(&answer)) return s->score.version >= *min_version;
  if (const auto* t = std::get_if<TallyReply>(&answer)) return t->tally.version >= *min_version;
  return false;  // an error (unknown name): answered by the usual path
}

Error ReplicaCore::not_leader() const {
  Error e = make_error(ErrorCode::kNotLeader, "'" + id_ + "' is not the database leader");
  if (auto l = consensus_->leader(); l && l->name != id_) {
    e.leader = l->name;
    e.leader_http = leader_http();
    e.error += " (the leader is '" + l->name + "')";
  } else if (consensus_->role() == consensus::Role::leader) {
    e.error = "'" + id_ + "' was just elected database leader and is not ready yet";
  } else {
    e.error += " (no leader known: an election is under way)";
  }
  return e;
}

Body ReplicaCore::stats(TimePoint now) {
  const MasterInfo master = store_.master();
  Stats s;
  s.node = id_;
  s.role = "database";
  s.counters = counters_;
  const auto& c = *consensus_;
  s.counters["elections_brought_forward"] = static_cast<int64_t>(c.elections_brought_forward());
  s.counters["stall_handovers"] = static_cast<int64_t>(c.stall_handovers());
  const auto leader = c.leader();
  s.info = {{"master", master.frontend},
            {"epoch", std::to_string(master.epoch)},
            {"master_lease_ms", std::to_string(ceil_ms(lease_.left(now)))},
            {"path", config_.database_file(id_)},
            {"version", std::string(kVersion)},
            {"raft_role", consensus::to_string(c.role())},
            {"raft_ready", c.leading() ? "yes" : "no"},
            {"raft_term", std::to_string(c.term())},
            {"raft_leader", leader ? leader->name : ""},
            {"raft_commit", std::to_string(c.commit_index())},
            {"raft_applied", std::to_string(c.last_applied())},
            {"raft_last_index", std::to_string(c.last_index())},
            {"raft_last_contact_ms",
             c.last_contact() ? std::to_string(static_cast<int64_t>(to_ms(now - *c.last_contact()))) : ""}};
  for (const auto& m : c.configuration()) {
    s.info["member." + m.member.name] = std::string(consensus::to_string(m.standing)) + " " + m.member.address;
  }
  if (c.role() == consensus::Role::leader) {
    for (const auto& p : c.peers()) {
      const uint64_t lag = c.last_index() > p.match_index ? c.last_index() - p.match_index : 0;
      s.info["raft_lag." + p.member.name] = std::to_string(lag);
    }
  }
  return s;
}

// ---------------------------------------------------------------- the key-value store

std::optional<std::string> ReplicaCore::leader_http() const {
  const auto l = consensus_->leader();
  if (!l) return std::nullopt;
  std::string http = split_member_address(l->address).http;
  if (http.empty()) return std::nullopt;
  return http;
}

Body ReplicaCore::read_kv_locally(const KvGet& get, TimePoint now) {
  Body reply = read(get, store_);
  if (auto* kv = std::get_if<KvValue>(&reply)) {
    kv->leader = leader_http();
    kv->applied_index = consensus_->last_applied();
    if (consensus_->leading()) {
      kv->behind_ms = 0;
    } else if (const auto contact = consensus_->last_contact()) {
      kv->behind_ms = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(to_ms(now - *contact))));
    }
  }
  return reply;
}

void ReplicaCore::forward(const std::string& from, Message msg, TimePoint now, Effects& out) {
  const auto leader = consensus_->leader();
  const auto conf = consensus_->configuration();
  const bool from_replica = std::any_of(conf.begin(), conf.end(), [&](const auto& c) { return c.member.name == from; });
  // A forward is forwarded once at most: two replicas with stale views never bounce it.
  if (!leader || leader->name == id_ || from_replica) {
    ++counters_["not_leader"];
    ++counters_["errors"];
    out.send(from, msg.req, not_leader());
    return;
  }
  const uint64_t req = next_forward_++;
  forwards_[req] = Forward{from, msg.req, now + kForwardTimeout, leader->name};
  ++counters_["kv_forwarded"];
  out.send(leader->name, req, std::move(msg.body));
}

bool ReplicaCore::relay(uint64_t req, Body& body, Effects& out) {
  const auto it = forwards_.find(req);
  if (it == forwards_.end()) return false;
  if (std::holds_alternative<Error>(body)) ++counters_["errors"];
  out.send(it->second.from, it->second.req, std::move(body));
  forwards_.erase(it);
  return true;
}

void ReplicaCore::expire_forwards(TimePoint now, Effects& out, const std::string& lost) {
  const auto leader = consensus_->leader();
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    const Forward& f = it->second;
    std::string why;
    if (f.deadline <= now) {
      why = "the database leader did not answer within " + std::to_string(ceil_ms(kForwardTimeout)) + " ms";
      ++counters_["kv_forward_timeouts"];
    } else if (f.to == lost) {
      why = "the connection to the database leader '" + f.to + "' closed";
    } else if (!leader || leader->name != f.to) {
      why = "'" + f.to + "' no longer leads the database tier";
    } else {
      ++it;
      continue;
    }
    Error e = not_leader();
    e.error = why + "; the request may or may not have taken effect" + (e.leader ? " (the leader is now '" + *e.leader + "')" : "");
    ++counters_["errors"];
    out.send(f.from, f.req, std::move(e));
    it = forwards_.erase(it);
  }
}

// ---------------------------------------------------------------- time and settling

void ReplicaCore::on_tick(TimePoint now, Effects& out) {
  now_ = now;
  consensus_->flush(now);
  consensus_->tick(now);
  manage_membership(now, out);
  expire_forwards(now, out);
  if (gate_) gate_->expire(now);
  settle(now, out);
  end_step();
}

void ReplicaCore::on_peer_lost(const std::string& peer, TimePoint now, Effects& out) {
  now_ = now;
  expire_forwards(now, out, peer);
  const auto leader = consensus_->leader();
  if (!leader || leader->name != peer || leader->name == id_) return;
  if (!consensus_->leader_lost()) return;
  ++counters_["leader_connection_lost"];
  spdlog::info("the connection to the leader {} closed: electing a new one within one election timeout", peer);
  consensus_->tick(now);
  settle(now, out);
}

TimePoint ReplicaCore::next_wake() const {
  TimePoint w = consensus_->next_wake();
  if (!member()) w = std::min(w, next_join_);
  if (!forwards_.empty()) w = std::min(w, forwards_.begin()->second.deadline);
  return w;
}

void ReplicaCore::settle(TimePoint now, Effects& out) {
  if (consensus_->failed()) throw std::runtime_error("replica '" + id_ + "' stopped: " + consensus_->failure());
  const bool leading = consensus_->leading();
  if (leading && !was_leading_) {
    // Any lease an earlier leader granted is treated as running for a whole lease from now.
    lease_.know(now, store_.master().epoch);
    spdlog::info("leading the database tier at term {} (applied index {})", consensus_->term(),
                 consensus_->last_applied());
  } else if (!leading && was_leading_) {
    spdlog::info("no longer leading the database tier (term {})", consensus_->term());
  }
  was_leading_ = leading;
  on_configuration(out);
  // Forwards all go to the leader known when they were made: only a change of leader can orphan
  // them (their deadlines are on_tick's business).
  const auto leader = consensus_->leader();
  if (std::string name = leader ? leader->name : ""; name != forwards_leader_) {
    forwards_leader_ = std::move(name);
    if (!forwards_.empty()) expire_forwards(now, out);
  }
  for (auto& [to, bytes] : consensus_->take_outbox()) {
    auto messages = split_raft_message(std::move(bytes), consensus_->id(), raft_part_);
    if (messages.size() > 1) counters_["raft_parts_sent"] += static_cast<int64_t>(messages.size());
    for (auto& rpc : messages) out.send(to, 0, std::move(rpc));
  }
  answer_confirmed_reads();
  for (const auto& [name, address] : answers_.connects()) out.connect(name, address);
  for (auto& a : answers_.items()) out.send(a.to, a.msg.req, std::move(a.msg.body));
  answers_.clear();
}

}  // namespace oly::database
