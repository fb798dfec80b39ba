#include "gossip/replica_core.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "common/codec.h"
#include "common/log.h"
#include "common/version.h"
#include "database/counters.h"

namespace oly::gossip {

namespace {

using database::Command;
using database::Outcome;
using database::Result;

GossipEntry to_wire(const LogEntry& e) {
  return {e.id.publisher, e.id.seq, e.origin, e.origin_seq, e.ts.entries(), Bytes{e.update}};
}

LogEntry from_wire(GossipEntry g) {
  return {UpdateId{std::move(g.publisher), g.seq}, std::move(g.origin), g.origin_seq, VectorClock(std::move(g.ts)),
          std::move(g.update.data)};
}

// The update id, epoch and kind of an update command.
struct UpdateOf {
  UpdateId id;
  std::optional<uint64_t> epoch;
};
UpdateOf update_of(const Command& c) {
  return std::visit(
      [](const auto& u) -> UpdateOf {
        using T = std::decay_t<decltype(u)>;
        if constexpr (std::is_same_v<T, database::cmd::SetScore> || std::is_same_v<T, database::cmd::IncrementMedalTally>) {
          return {{u.publisher, u.seq}, u.epoch};
        } else {
          return {};
        }
      },
      c);
}

// The request's clock, if it is a read that carries one.
std::optional<VectorStamp> clock_of(const Body& b) {
  if (const auto* m = std::get_if<GetScore>(&b)) return m->clock;
  if (const auto* m = std::get_if<GetMedalTally>(&b)) return m->clock;
  if (const auto* m = std::get_if<GetScoreboard>(&b)) return m->clock;
  return std::nullopt;
}

using Rank = GossipReplicaCore::FeedRank;
Rank rank_of(const FeedItem& i) { return {i.at, i.origin, i.origin_seq}; }

uint64_t sum_of(const VectorClock& ts) {
  uint64_t at = 0;
  for (const auto& [r, n] : ts.entries()) at += n;
  return at;
}

bool is_update(const Body& b) { return std::holds_alternative<SetScore>(b) || std::holds_alternative<IncrementMedalTally>(b); }

}  // namespace

GossipReplicaCore::GossipReplicaCore(Config config, std::string id, database::SqliteStore& store, const Clock& clock,
                                     TimePoint now, std::optional<Join> join)
    : config_(std::move(config)), id_(std::move(id)), store_(store), clock_(clock),
      machine_(store, database::StateMachine::Unfenced{}), log_(id_), lease_(ms(config_.heartbeat.timeout_ms)),
      started_(now), next_gossip_(now), park_for_(4 * ms(config_.gossip_interval_ms)) {
  for (const char* name : database::kCoreCounters) counters_[name] = 0;
  for (const char* name : {"gossip_sent", "gossip_received", "entries_sent", "entries_taken", "gossip_applied",
                           "entries_collected", "updates_parked", "reads_waited", "reads_partial", "gossip_cut",
                           "members_learnt", "state_copies", "state_parts_sent", "set_scores_overtaken"}) {
    counters_[name] = 0;
  }
  load(now);
  const bool member =
      std::any_of(members_.begin(), members_.end(), [&](const ReplicaInfo& m) { return m.id == id_; });
  if (!member && !join) {
    throw std::runtime_error("'" + id_ + "' is not one of database.replicas nor a replica that joined the tier");
  }
  if (!member) {
    if (!database::valid_replica_name(id_)) throw std::runtime_error("'" + id_ + "' is not a valid replica name");
    if (join->address.empty() && !join->seed_address.empty()) throw std::runtime_error("joining: this replica's address is needed");
    join_ = std::move(join);
    connects_.emplace_back(join_->seed, join_->seed_address);
  } else if (join) {
    spdlog::info("'{}' is a member already (its file says so): not joining again", id_);
  }
}

void GossipReplicaCore::load(TimePoint now) {
  members_.clear();
  for (const auto& r : config_.database.replicas) {
    members_.push_back({r.id, r.address, kMember, r.http.empty() ? std::nullopt : std::optional(r.http)});
  }
  for (const auto& m : store_.gossip_members()) {
    ReplicaInfo* known = member(m.id);
    if (known == nullptr) known = &members_.emplace_back(ReplicaInfo{m.id, m.address, kMember, std::nullopt});
    if (m.removed) known->role = kRemoved;
  }
  peers_.clear();
  removed_self_ = false;
  for (const auto& m : members_) {
    if (m.id == id_) removed_self_ = m.role == kRemoved;
    if (m.id == id_ || m.role == kRemoved) continue;
    peers_.push_back(m.id);
    if (config_.replica(m.id) == nullptr) connect_to(m);
  }
  if (removed_self_) spdlog::error("'{}' was removed from the tier (its file says so): it serves nothing", id_);
  // The log as it was made durable, and what the state applied of it.
  std::vector<LogEntry> entries;
  for (const auto& bytes : store_.gossip_entries()) {
    Decoded d = decode(bytes);
    auto* g = d.ok ? std::get_if<Gossip>(&d.message.body) : nullptr;
    if (g == nullptr || g->entries.size() != 1) throw std::runtime_error("gossip_log: an entry that does not decode");
    entries.push_back(from_wire(std::move(g->entries[0])));
  }
  log_.restore(VectorClock(store_.gossip_clock()), std::move(entries), store_.last_seqs());
  feed_.clear();
  feed_ids_.clear();
  for (const auto& bytes : store_.feed_items()) {
    Decoded d = decode(bytes);
    auto* f = d.ok ? std::get_if<FeedReply>(&d.message.body) : nullptr;
    if (f == nullptr || f->items.size() != 1) throw std::runtime_error("gossip_feed: an item that does not decode");
    const UpdateId id{f->items[0].publisher, f->items[0].seq};
    const Rank rank = rank_of(f->items[0]);
    feed_ids_[id] = rank;
    feed_[rank] = std::move(f->items[0]);
  }
  // Whatever lease a master held before this replica restarted has ended a lease from now.
  lease_.know(now, store_.master().epoch);
  if (log_.size() > 0) spdlog::info("gossip log loaded: {} entries, clock {}", log_.size(), log_.clock().text());
}

size_t GossipReplicaCore::live_members() const {
  return static_cast<size_t>(
      std::count_if(members_.begin(), members_.end(), [](const ReplicaInfo& k) { return k.role != kRemoved; }));
}

ReplicaInfo* GossipReplicaCore::member(const std::string& id) {
  const auto it = std::find_if(members_.begin(), members_.end(), [&](const ReplicaInfo& k) { return k.id == id; });
  return it == members_.end() ? nullptr : &*it;
}

void GossipReplicaCore::mark_removed(const std::string& id) {
  ReplicaInfo* m = member(id);
  if (m == nullptr || m->role == kRemoved) return;
  m->role = kRemoved;
  begin();
  store_.gossip_put_member({m->id, m->address, true});
  std::erase(peers_, id);
  peer_clocks_.erase(id);
  peer_sent_.erase(id);
  heard_.erase(id);
  heard_from_.erase(id);
  copies_.erase(id);
  ++counters_["members_removed"];
  if (id == id_) {
    removed_self_ = true;
    spdlog::error("'{}' was removed from the tier: it serves nothing from now on", id_);
  } else {
    spdlog::info("replica '{}' was removed from the tier ({} replicas)", id, live_members());
  }
}

bool GossipReplicaCore::add_member(const ReplicaInfo& m, TimePoint now, bool connect) {
  const ReplicaInfo* known = member(m.id);
  if (m.role == kRemoved) {
    // A tombstone: the member is out for good, wherever it was heard of first.
    if (known != nullptr) {
      mark_removed(m.id);
    } else if (database::valid_replica_name(m.id) && database::valid_replica_address(m.address)) {
      begin();
      store_.gossip_put_member({m.id, m.address, true});
      members_.push_back({m.id, m.address, kRemoved, std::nullopt});
    }
    return false;
  }
  if (known != nullptr) return false;
  if (!database::valid_replica_name(m.id) || !database::valid_replica_address(m.address) || live_members() >= kMaxMembers) {
    return false;
  }
  begin();
  store_.gossip_put_member({m.id, m.address, false});
  // The config's replicas first, then the others by id: the same order everywhere.
  auto at = std::find_if(members_.begin(), members_.end(), [&](const ReplicaInfo& k) {
    return config_.replica(k.id) == nullptr && k.id > m.id;
  });
  members_.insert(at, {m.id, m.address, kMember, std::nullopt});
  peers_.push_back(m.id);
  heard_[m.id] = now;  // it has a heartbeat timeout to be heard from before reads stop waiting for it
  if (connect) connect_to(m);
  ++counters_["members_learnt"];
  spdlog::info("replica '{}' at {} is a member of the tier now ({} replicas)", m.id, m.address, live_members());
  return true;
}

void GossipReplicaCore::begin() {
  if (in_transaction_) return;
  store_.begin();
  in_transaction_ = true;
}

bool GossipReplicaCore::silent(const std::string& replica, TimePoint now) const {
  if (replica == id_) return false;
  const auto it = heard_.find(replica);
  const TimePoint since = it == heard_.end() ? started_ : it->second;
  return now - since >= ms(config_.heartbeat.timeout_ms);
}

bool GossipReplicaCore::is_cut(const std::string& peer, TimePoint now) const {
  return std::any_of(cuts_.begin(), cuts_.end(), [&](const Cut& c) {
    return (c.replica == peer || c.replica == id_) && now >= c.from && now < c.until;
  });
}

void GossipReplicaCore::on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) {
  now_ = now;
  if (join_) {
    if (from == join_->seed && msg.req == fetch_req_ && fetch_req_ != 0) {
      on_state(msg, now);
    } else if (!notice && !is_reply(msg.body)) {
      out.send(from, msg.req, make_error(ErrorCode::kUnavailable, "replica '" + id_ + "' is joining the tier: its state is not in yet"));
    }
    return;
  }
  if (removed_self_) {
    if (!notice && !is_reply(msg.body)) {
      out.send(from, msg.req, make_error(ErrorCode::kUnavailable, "replica '" + id_ + "' was removed from the tier"));
    }
    return;
  }
  if (auto* g = std::get_if<Gossip>(&msg.body)) {
    if (is_cut(from, now)) {
      ++counters_["gossip_cut"];
      return;
    }
    receive(from, std::move(*g), now);
    return;
  }
  if (notice || is_reply(msg.body)) {
    ++counters_["ignored"];
    return;
  }
  std::optional<Body> reply = handle(from, msg.body, now);
  if (reply) {
    held_.send(from, msg.req, std::move(*reply));
  } else {
    ++counters_[is_update(msg.body) ? "updates_parked" : "reads_waited"];
    parked_.push_back({from, msg.req, std::move(msg.body), now});
  }
  (void)out;
}

std::optional<Body> GossipReplicaCore::handle(const std::string& from, const Body& body, TimePoint now) {
  using database::Checked;
  auto write = [&](Checked checked) -> Body {
    if (auto* e = std::get_if<Error>(&checked)) return std::move(*e);
    begin();
    const Command& command = std::get<Command>(checked);
    Result r = machine_.apply(command);
    if (const char* name = database::counter_of(r.outcome)) ++counters_[name];
    if (apply_listener_) apply_listener_(command, r);
    return std::move(r.reply);
  };
  if (const auto* m = std::get_if<SetScore>(&body)) {
    Checked c = database::check(*m, from, now, clock_, config_);
    if (auto* e = std::get_if<Error>(&c)) return std::move(*e);
    return update(from, std::move(std::get<Command>(c)), now);
  }
  if (const auto* m = std::get_if<IncrementMedalTally>(&body)) {
    Checked c = database::check(*m, from, now, config_);
    if (auto* e = std::get_if<Error>(&c)) return std::move(*e);
    return update(from, std::move(std::get<Command>(c)), now);
  }
  if (std::holds_alternative<GetScore>(body) || std::holds_alternative<GetMedalTally>(body) ||
      std::holds_alternative<GetScoreboard>(body)) {
    return read(body, now, false);
  }
  if (const auto* m = std::get_if<GetFeed>(&body)) return feed(*m);
  if (const auto* m = std::get_if<FetchState>(&body)) return fetch_state(*m, now);
  if (const auto* m = std::get_if<RemoveReplica>(&body)) {
    if (m->id == id_) {
      return make_error(ErrorCode::kBadValue, "remove_replica: ask another replica to remove '" + id_ +
                                                  "' (the others must hear of it)");
    }
    mark_removed(m->id);
    return members_reply();
  }
  if (const auto* m = std::get_if<GetMaster>(&body)) return database::read(*m, store_, config_);
  if (const auto* m = std::get_if<ListRegistry>(&body)) return database::read(*m, store_, config_);
  if (const auto* m = std::get_if<ClaimMaster>(&body)) {
    Checked c = database::check(*m, from, lease_.left(now), config_);
    Body reply = write(std::move(c));
    if (auto* info = std::get_if<MasterInfo>(&reply)) {
      lease_.grant(now);
      info->lease_ms = database::ceil_ms(lease_.length());
      spdlog::info("'{}' is master at epoch {} (claimed here)", info->frontend, info->epoch);
    }
    return reply;
  }
  if (const auto* m = std::get_if<RenewMaster>(&body)) {
    bool renewed = false;
    Body reply = database::renew(*m, store_.master(), lease_, now, renewed);
    ++counters_[renewed ? "renewals" : "renewals_fenced"];
    if (renewed && m->release) ++counters_["releases"];
    return reply;
  }
  if (const auto* m = std::get_if<AssignHome>(&body)) {
    Checked c = database::check(*m, config_);
    if (std::holds_alternative<Command>(c)) {
      ++counters_["registrations"];
      homes_changed_ = true;
    }
    return write(std::move(c));
  }
  if (std::holds_alternative<GetMembers>(body)) return members_reply();
  if (std::holds_alternative<GetStats>(body)) {
    ++counters_["stats"];
    const MasterInfo master = store_.master();
    Stats s;
    s.node = id_;
    s.role = "gossip replica";
    s.counters = counters_;
    s.counters["log_entries"] = static_cast<int64_t>(log_.size());
    s.counters["log_held"] = static_cast<int64_t>(log_.held());
    s.info = {{"master", master.frontend},
              {"epoch", std::to_string(master.epoch)},
              {"master_lease_ms", std::to_string(database::ceil_ms(lease_.left(now)))},
              {"clock", log_.clock().text()},
              {"applied_clock", log_.applied_clock().text()},
              {"replication", "gossip"},
              {"version", std::string(kVersion)}};
    std::vector<std::string> silent_peers;
    for (const auto& p : peers_) {
      if (silent(p, now)) silent_peers.push_back(p);
    }
    s.info["silent_peers"] = comma_joined(silent_peers);
    std::vector<std::string> ids, removed;
    for (const auto& m : members_) (m.role == kRemoved ? removed : ids).push_back(m.id);
    s.info["members"] = comma_joined(ids);
    if (!removed.empty()) s.info["removed"] = comma_joined(removed);
    if (!convergence_us_.empty()) {
      std::vector<int64_t> v = convergence_us_;
      std::sort(v.begin(), v.end());
      const auto at = [&](double q) { return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))]; };
      s.info["convergence_p50_us"] = std::to_string(at(0.5));
      s.info["convergence_p99_us"] = std::to_string(at(0.99));
      s.info["convergence_max_us"] = std::to_string(v.back());
    }
    return s;
  }
  ++counters_["unexpected_ops"];
  return make_error(ErrorCode::kUnexpectedOp,
                    "a gossip replica does not handle '" + std::string(op_name(body)) + "'");
}

std::optional<Body> GossipReplicaCore::update(const std::string& from, Command command, TimePoint now) {
  const UpdateOf u = update_of(command);
  begin();
  const MasterInfo master = store_.master();
  const uint64_t epoch = u.epoch.value_or(0);
  if (epoch == 0 || epoch < master.epoch || (epoch > master.epoch && config_.frontend(from) == nullptr)) {
    ++counters_["fenced"];
    return database::fenced_error(master, "update with epoch " + (u.epoch ? std::to_string(epoch) : std::string("none")) +
                                              " fenced: the current epoch here is " + std::to_string(master.epoch));
  }
  if (epoch > master.epoch) {
    // A claim made at another replica that gossip has not brought yet: its sender is master.
    store_.set_master({from, epoch, std::nullopt});
    lease_.know(now, epoch);
  }
  const bool gap = u.id.seq > store_.last_seq(u.id.publisher) + 1;
  if (gap) return std::nullopt;  // the updates before it may be on their way by gossip
  auto [r, applied] = apply(command);
  if (const char* name = database::counter_of(r.outcome)) ++counters_[name];
  if (r.outcome == Outcome::applied) {
    // The entry carries the update as written: every replica decides for itself what it does.
    if (auto entry = log_.accept(u.id, database::encode_batch({command}))) {
      persist(*entry);
      note_feed(*entry, command, r);
      apply_ready(u.id);
    }
    if (apply_listener_) apply_listener_(applied, r);
  }
  if (auto* ack = std::get_if<Ack>(&r.reply)) ack->clock = log_.applied_clock().entries();
  return std::move(r.reply);
}

void GossipReplicaCore::apply_ready(const std::optional<UpdateId>& skip) {
  for (const LogEntry& e : log_.take_applicable()) {
    if (skip && e.id == *skip) continue;
    database::DecodedBatch d = database::decode_batch(e.update);
    if (!d.error.empty() || d.batch.size() != 1) {
      spdlog::error("gossip entry {}/{} from {} does not decode: {}", e.id.publisher, e.id.seq, e.origin, d.error);
      continue;
    }
    begin();
    auto [r, applied] = apply(d.batch[0]);
    ++counters_["gossip_applied"];
    if (r.outcome != Outcome::applied) {
      spdlog::error("gossip entry {}/{} from {} was not applied: {}", e.id.publisher, e.id.seq, e.origin,
                    database::counter_of(r.outcome) ? database::counter_of(r.outcome) : "?");
    } else {
      note_feed(e, d.batch[0], r);
      const int64_t accepted = std::visit(
          [](const auto& c) -> int64_t {
            if constexpr (requires { c.committed_at_us; }) return c.committed_at_us;
            return 0;
          },
          d.batch[0]);
      if (accepted > 0) {
        const int64_t delay = std::max<int64_t>(0, to_us(now_) - accepted);
        if (convergence_us_.size() < kConvergenceKept) convergence_us_.push_back(delay);
        else convergence_us_[convergence_next_++ % kConvergenceKept] = delay;
      }
    }
    if (apply_listener_) apply_listener_(applied, r);
  }
}

std::pair<Result, Command> GossipReplicaCore::apply(const Command& command) {
  Command applied = command;
  auto* c = std::get_if<database::cmd::SetScore>(&applied);
  if (c == nullptr) return {machine_.apply(applied), std::move(applied)};
  const database::ScoreWriter mine{c->written_at_us.value_or(0), c->publisher, c->seq};
  const auto holder = store_.score_writer(c->event);
  const bool wins = !holder || *holder < mine;
  if (!wins) {
    const Score s = store_.score(c->event);
    c->gauls = s.gauls;
    c->romans = s.romans;
    c->updated_at = s.updated_at;
  }
  Result r = machine_.apply(applied);
  if (r.outcome == Outcome::applied) {
    if (wins) store_.put_score_writer(c->event, mine);
    else ++counters_["set_scores_overtaken"];
  }
  return {std::move(r), std::move(applied)};
}

void GossipReplicaCore::persist(const LogEntry& e) {
  begin();
  Gossip one;
  one.entries.push_back(to_wire(e));
  store_.gossip_put(e.origin, e.origin_seq, encode(Message{0, std::move(one)}));
  clock_moved_.insert(e.origin);  // written once per step (on_batch_end), and gossip goes out then
}

std::optional<Body> GossipReplicaCore::read(const Body& request, TimePoint now, bool force) {
  const VectorClock applied = log_.applied_clock();
  bool covered = true;
  if (const auto want = clock_of(request)) {
    bool waitable = false;  // a replica with entries missing here is alive: worth waiting for
    for (const auto& [origin, n] : *want) {
      if (applied.at(origin) >= n) continue;
      covered = false;
      waitable = waitable || !silent(origin, now);
    }
    if (!covered && waitable && !force) return std::nullopt;
  }
  Body reply = std::visit(
      [&](const auto& m) -> Body {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, GetScore> || std::is_same_v<T, GetMedalTally> || std::is_same_v<T, GetScoreboard>) {
          return database::read(m, store_, config_);
        } else {
          return make_error(ErrorCode::kUnexpectedOp, "not a read");
        }
      },
      request);
  auto stamp = [&](auto& r) {
    r.clock = applied.entries();
    if (!covered) r.partial = true;
  };
  if (auto* s = std::get_if<ScoreReply>(&reply)) stamp(*s);
  if (auto* t = std::get_if<TallyReply>(&reply)) stamp(*t);
  if (auto* b = std::get_if<Scoreboard>(&reply)) stamp(*b);
  if (!std::holds_alternative<Error>(reply)) ++counters_["reads"];
  if (!covered) ++counters_["reads_partial"];
  return reply;
}

void GossipReplicaCore::receive(const std::string& from, Gossip g, TimePoint now) {
  for (const auto& m : g.members) {
    if (m.id != id_) add_member(m, now);
    else if (m.role == kRemoved) mark_removed(id_);  // this replica was removed: it stops
  }
  if (removed_self_) return;
  if (std::find(peers_.begin(), peers_.end(), from) == peers_.end()) {
    ++counters_["ignored"];
    if (const ReplicaInfo* m = member(from); m != nullptr && m->role == kRemoved) {
      // A removed replica still gossiping: it is told (the list has its tombstone), and stops.
      Gossip told;
      told.members = members_;
      held_.send(from, 0, std::move(told));
    }
    return;
  }
  if (config_.replica(from) == nullptr && connected_.count(from) == 0) {
    connect_to(*member(from));
  }
  ++counters_["gossip_received"];
  heard_[from] = now;
  heard_from_.insert(from);
  peer_clocks_[from] = VectorClock(std::move(g.clock));
  std::vector<LogEntry> entries;
  entries.reserve(g.entries.size());
  for (auto& e : g.entries) entries.push_back(from_wire(std::move(e)));
  const auto taken = log_.receive(std::move(entries));
  for (const auto& e : taken) persist(e);
  counters_["entries_taken"] += static_cast<int64_t>(taken.size());
  apply_ready();
  for (const auto& e : taken) note_duplicate(e);
  if (g.master && g.master->epoch > 0) {
    const MasterInfo here = store_.master();
    auto rank = [&](const std::string& fe) {
      const auto it = std::find_if(config_.frontends.begin(), config_.frontends.end(), [&](const auto& f) { return f.id == fe; });
      return static_cast<size_t>(it - config_.frontends.begin());
    };
    if (g.master->epoch > here.epoch || (g.master->epoch == here.epoch && rank(g.master->frontend) < rank(here.frontend))) {
      begin();
      store_.set_master({g.master->frontend, g.master->epoch, std::nullopt});
      if (here.frontend != g.master->frontend) lease_.know(now, g.master->epoch);
    }
  }
  for (const auto& h : g.homes) {
    if (config_.frontend(h.home) == nullptr || store_.home(h.tablet)) continue;
    begin();
    store_.set_home(h.tablet, h.home);
  }
  collect();
}

void GossipReplicaCore::collect() {
  std::vector<std::string> members = peers_;
  members.push_back(id_);
  std::map<std::string, VectorClock> clocks = peer_clocks_;
  clocks[id_] = log_.clock();
  const auto dropped = log_.collect(members, clocks);
  if (dropped.empty()) return;
  begin();
  for (const auto& [origin, n] : dropped) store_.gossip_drop(origin, n);
  counters_["entries_collected"] += static_cast<int64_t>(dropped.size());
}

void GossipReplicaCore::note_feed(const LogEntry& e, const Command& command, const Result& result) {
  const auto* ack = std::get_if<Ack>(&result.reply);
  if (ack == nullptr) return;
  FeedItem item;
  item.at = sum_of(e.ts);
  item.origin = e.origin;
  item.origin_seq = e.origin_seq;
  item.ts = e.ts.entries();
  item.publisher = e.id.publisher;
  item.seq = e.id.seq;
  item.key = ack->key;
  item.version = ack->version;
  if (const auto* c = std::get_if<database::cmd::SetScore>(&command)) {
    item.op = std::string(SetScore::kOp);
    item.gauls = c->gauls;
    item.romans = c->romans;
    item.written_at_us = c->written_at_us;
  } else if (const auto* c = std::get_if<database::cmd::IncrementMedalTally>(&command)) {
    item.op = std::string(IncrementMedalTally::kOp);
    item.medal = c->medal;
  } else {
    return;
  }
  keep_feed(item);
}

void GossipReplicaCore::note_duplicate(const LogEntry& e) {
  auto id = feed_ids_.find(e.id);
  if (id == feed_ids_.end()) return;
  auto it = feed_.find(id->second);
  FeedItem item = it->second;
  item.at = sum_of(e.ts);
  item.origin = e.origin;
  item.origin_seq = e.origin_seq;
  item.ts = e.ts.entries();
  if (rank_of(item) < rank_of(it->second)) keep_feed(item);
}

void GossipReplicaCore::keep_feed(const FeedItem& item) {
  begin();
  FeedReply one;
  one.items.push_back(item);
  store_.feed_put(item.publisher, item.seq, item.at, item.origin, item.origin_seq, encode(Message{0, std::move(one)}));
  const UpdateId id{item.publisher, item.seq};
  const Rank rank = rank_of(item);
  if (auto old = feed_ids_.find(id); old != feed_ids_.end()) feed_.erase(old->second);
  feed_ids_[id] = rank;
  feed_[rank] = item;
  // Only the latest kFeedKeep, in memory as on disk.
  while (feed_.size() > kFeedKeep) {
    feed_ids_.erase(UpdateId{feed_.begin()->second.publisher, feed_.begin()->second.seq});
    feed_.erase(feed_.begin());
  }
  if (++feed_puts_ % 64 == 0) store_.feed_prune(kFeedKeep);
}

Body GossipReplicaCore::feed(const GetFeed& m) const {
  const std::string key = m.event ? "score/" + *m.event : "";
  if (m.event && std::find(config_.events.begin(), config_.events.end(), *m.event) == config_.events.end()) {
    return make_error(ErrorCode::kUnknownEvent, "unknown event '" + *m.event + "'");
  }
  const uint64_t limit = std::min<uint64_t>(m.limit.value_or(GetFeed::kFeedMax), GetFeed::kFeedMax);
  // The latest `limit` that match, newest first, then turned oldest first.
  FeedReply out;
  for (auto it = feed_.rbegin(); it != feed_.rend() && out.items.size() < limit; ++it) {
    const FeedItem& i = it->second;
    if (m.since && i.at <= *m.since) break;
    if (!m.event || i.key == key) out.items.push_back(i);
  }
  std::reverse(out.items.begin(), out.items.end());
  return out;
}

void GossipReplicaCore::retry_parked(TimePoint now) {
  for (bool progress = true; progress && !parked_.empty();) {
    progress = false;
    for (auto it = parked_.begin(); it != parked_.end();) {
      std::optional<Body> reply;
      const bool overdue = now - it->since >= (is_update(it->request) ? park_for_ : kReadWait);
      if (is_update(it->request)) {
        reply = handle(it->from, it->request, now);
        if (!reply && overdue) {
          // Its predecessors did not come: the publisher is told where its stream stands here.
          const auto* s = std::get_if<SetScore>(&it->request);
          const auto* i = std::get_if<IncrementMedalTally>(&it->request);
          const std::string publisher = s ? s->publisher : i->publisher;
          ++counters_["seq_gaps"];
          reply = make_error(ErrorCode::kSeqGap, "seq " + std::to_string(s ? s->seq : i->seq) + " of publisher '" +
                                                     publisher + "': this replica expects " +
                                                     std::to_string(store_.last_seq(publisher) + 1) +
                                                     " (the updates between have not reached it)");
        }
      } else {
        reply = read(it->request, now, overdue);
      }
      if (!reply) {
        ++it;
        continue;
      }
      held_.send(it->from, it->req, std::move(*reply));
      it = parked_.erase(it);
      progress = true;
    }
  }
}

void GossipReplicaCore::send_gossip(const std::string& peer, TimePoint now, bool eager, Effects& out) {
  if (is_cut(peer, now)) return;
  Gossip g;
  g.clock = log_.clock().entries();
  // At once after a step: what was not sent yet. Every round: what the peer's clock lacks.
  VectorClock base = peer_clocks_[peer];
  VectorClock& sent = peer_sent_[peer];
  if (eager) base.merge(sent);
  for (auto& e : log_.missing_for(base, kGossipBatch)) {
    sent.set(e.origin, std::max(sent.at(e.origin), e.origin_seq));
    g.entries.push_back(to_wire(e));
  }
  const MasterInfo master = store_.master();
  if (master.epoch > 0) g.master = master;
  // The registry when it changed, and every kHomesEvery rounds for a peer that missed it.
  if (homes_changed_ || rounds_ % kHomesEvery == 0) g.homes = store_.registry(std::nullopt);
  g.members = members_;
  counters_["entries_sent"] += static_cast<int64_t>(g.entries.size());
  ++counters_["gossip_sent"];
  out.send(peer, 0, std::move(g));
}

Members GossipReplicaCore::members_reply() const {
  // A member that joined is listed once it was heard from (its state is in: it serves); a removed
  // one is not. Members only join, or leave for good: each changes the count below by one.
  Members m;
  uint64_t removed = 0;
  for (const auto& r : members_) {
    if (r.role == kRemoved) {
      ++removed;
    } else if (config_.replica(r.id) != nullptr || r.id == id_ || heard_from_.count(r.id) > 0) {
      m.members.push_back(r);
    }
  }
  m.index = m.members.size() + 2 * removed;
  return m;
}

void GossipReplicaCore::connect_to(const ReplicaInfo& m) {
  connects_.emplace_back(m.id, m.address);
  connected_.insert(m.id);
}

void GossipReplicaCore::flush_connects(Effects& out) {
  for (auto& [name, address] : connects_) {
    if (!address.empty()) out.connect(name, address);  // empty: a simulation, where names route
  }
  connects_.clear();
}

Body GossipReplicaCore::fetch_state(const FetchState& m, TimePoint now) {
  if (!database::valid_replica_name(m.id) || !database::valid_replica_address(m.address)) {
    return make_error(ErrorCode::kBadValue, "fetch_state: expected a replica name (letters, digits, - _ .; at most 64) "
                                            "and its tcp:// address");
  }
  if (m.id == id_) return make_error(ErrorCode::kBadValue, "fetch_state: '" + m.id + "' is this replica's own name");
  const ReplicaInfo* known = member(m.id);
  if (known != nullptr && known->role == kRemoved) {
    return make_error(ErrorCode::kBadValue, "fetch_state: replica '" + m.id + "' was removed from the tier (a new replica needs a new name)");
  }
  if (known != nullptr && known->address != m.address) {
    return make_error(ErrorCode::kBadValue, "fetch_state: replica '" + m.id + "' is a member at " + known->address +
                                                ", not " + m.address + " (a new replica needs a new name)");
  }
  if (known == nullptr && live_members() >= kMaxMembers) {
    return make_error(ErrorCode::kBadValue, "fetch_state: the tier has " + std::to_string(live_members()) +
                                                " replicas, the most a gossip tier takes");
  }
  if (m.offset == 0) {
    // Not connected to yet: the answers go back over the joiner's own connection, which is up,
    // where a new one would drop them until it is (ZMQ_IMMEDIATE). Its first gossip connects.
    add_member({m.id, m.address, kMember, std::nullopt}, now, false);
    begin();
    // The copy holds this replica's clock as it is now: what the step took so far is written first.
    for (const auto& origin : clock_moved_) store_.gossip_set_clock(origin, log_.clock().at(origin));
    // From the copy on, the joiner lacks only what comes after it: kept here until it has it.
    peer_clocks_[m.id] = log_.clock();
    peer_sent_[m.id] = log_.clock();
    copies_[m.id] = {store_.gossip_dump(), now};
    ++counters_["state_copies"];
    spdlog::info("replica '{}' joins the tier through this one: a state copy of {} bytes, clock {}", m.id,
                 copies_[m.id].data.size(), log_.clock().text());
  }
  const auto copy = copies_.find(m.id);
  if (copy == copies_.end()) {
    return make_error(ErrorCode::kUnavailable, "fetch_state: no state copy under way for '" + m.id + "': ask from offset 0");
  }
  const std::string& data = copy->second.data;
  if (m.offset > data.size()) {
    return make_error(ErrorCode::kBadValue, "fetch_state: offset " + std::to_string(m.offset) + " is past the copy's " +
                                                std::to_string(data.size()) + " bytes");
  }
  StatePart part;
  part.offset = m.offset;
  part.total = data.size();
  part.data.data = data.substr(m.offset, state_part_);
  copy->second.asked = now;
  ++counters_["state_parts_sent"];
  if (m.offset + part.data.data.size() == data.size()) copies_.erase(copy);
  return part;
}

void GossipReplicaCore::ask_state(TimePoint now, Effects& out) {
  fetch_req_ = ++fetches_;
  fetch_at_ = now;
  out.send(join_->seed, fetch_req_, FetchState{id_, join_->address, fetched_.size()});
}

void GossipReplicaCore::on_state(const Message& msg, TimePoint now) {
  fetch_req_ = 0;  // the next tick asks again
  if (const auto* e = std::get_if<Error>(&msg.body)) {
    if (e->code == ErrorCode::kUnavailable) {
      fetched_.clear();  // the seed lost its copy (it restarted): from the start
      return;
    }
    join_failed_ = "replica '" + join_->seed + "' refused to let '" + id_ + "' join: " + e->error;
    spdlog::error("{}", *join_failed_);
    return;
  }
  const auto* part = std::get_if<StatePart>(&msg.body);
  if (part == nullptr) return;
  if (part->offset != fetched_.size() || part->offset + part->data.data.size() > part->total) {
    fetched_.clear();
    return;
  }
  fetched_ += part->data.data;
  if (fetched_.size() < part->total) return;  // the next part at once (fetch_req_ is 0)
  begin();
  try {
    store_.restore_gossip(fetched_);
  } catch (const std::exception& e) {
    store_.rollback();
    in_transaction_ = false;
    fetched_.clear();
    spdlog::error("the state copy from '{}' does not load ({}): asking again", join_->seed, e.what());
    return;
  }
  spdlog::info("joined the tier through '{}': a state copy of {} bytes", join_->seed, fetched_.size());
  fetched_.clear();
  join_.reset();
  load(now);
  for (const auto& p : peers_) heard_[p] = now;
  announce_ = true;
}

void GossipReplicaCore::on_batch_end(TimePoint now, Effects& out) {
  retry_parked(now);
  const bool took = !clock_moved_.empty();
  if (in_transaction_) {
    for (const auto& origin : clock_moved_) store_.gossip_set_clock(origin, log_.clock().at(origin));
    clock_moved_.clear();
    store_.commit();
    in_transaction_ = false;
    ++counters_["batches"];
  }
  flush_connects(out);
  for (auto& reply : held_.items()) {
    if (std::holds_alternative<Error>(reply.msg.body)) ++counters_["errors"];
    out.send(reply.to, reply.msg.req, std::move(reply.msg.body));
  }
  held_.clear();
  if (announce_) {
    // A joiner whose state is in: everyone hears of it now, and of what it has.
    announce_ = false;
    for (const auto& p : peers_) send_gossip(p, now, false, out);
  } else if (took) {
    for (const auto& p : peers_) send_gossip(p, now, true, out);
    homes_changed_ = false;
  }
}

void GossipReplicaCore::on_tick(TimePoint now, Effects& out) {
  now_ = now;
  if (join_) {
    if (fetch_req_ == 0 || now - fetch_at_ >= kFetchPatience) ask_state(now, out);
    flush_connects(out);
    return;
  }
  if (removed_self_) return;
  for (auto it = copies_.begin(); it != copies_.end();) {
    it = now - it->second.asked >= kCopyKept ? copies_.erase(it) : std::next(it);
  }
  if (now >= next_gossip_) {
    for (const auto& p : peers_) send_gossip(p, now, false, out);
    homes_changed_ = false;
    ++rounds_;
    next_gossip_ = now + ms(config_.gossip_interval_ms);
  }
  on_batch_end(now, out);
}

TimePoint GossipReplicaCore::next_wake() const {
  if (join_) return fetch_req_ == 0 ? TimePoint::min() : fetch_at_ + kFetchPatience;
  if (removed_self_) return TimePoint::max();
  TimePoint t = next_gossip_;
  for (const auto& p : parked_) t = std::min(t, p.since + (is_update(p.request) ? park_for_ : kReadWait));
  return t;
}

}  // namespace oly::gossip
