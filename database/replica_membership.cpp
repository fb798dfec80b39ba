// ReplicaCore's membership: joins, removals and promotions (the contract is in replica_core.h).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "database/replica_core.h"

namespace oly::database {


Members ReplicaCore::members() const {
  Members m;
  for (const auto& c : consensus_->configuration()) {
    const MemberAddress a = split_member_address(c.member.address);
    m.members.push_back({c.member.name, a.peer, std::string(consensus::to_string(c.standing)),
                         a.http.empty() ? std::nullopt : std::optional<std::string>(a.http)});
  }
  if (auto l = consensus_->leader()) m.leader = l->name;
  m.index = consensus_->configuration_index();
  return m;
}

void ReplicaCore::on_join(const std::string& from, uint64_t req, const JoinTier& j, Effects& out) {
  const bool valid_http = !j.http || (!j.http->empty() && j.http->size() <= 256 && j.http->find(';') == std::string::npos &&
                                      valid_replica_address("tcp://" + *j.http));
  if (!valid_replica_name(j.id) || !valid_replica_address(j.address) || j.address.find(';') != std::string::npos || !valid_http ||
      j.raft_id == 0) {
    ++counters_["errors"];
    out.send(from, req, make_error(ErrorCode::kBadValue, "join: expected a replica name (letters, digits, - _ .; at most "
                                                         "64), a tcp:// address and a Raft id above 0"));
    return;
  }
  for (const auto& c : consensus_->configuration()) {
    if (c.member.name == j.id && c.member.id == j.raft_id) {
      out.send(from, req, members());  // already in: a repeat
      return;
    }
    if (c.member.name == j.id || c.member.id == j.raft_id) {
      ++counters_["errors"];
      out.send(from, req, make_error(ErrorCode::kBadValue, "join: replica '" + c.member.name +
                                                               "' is already a member under another Raft id or name "
                                                               "(remove it first: olympics db remove " + c.member.name + ")"));
      return;
    }
  }
  auto& entry = joins_[j.id];
  entry.first = consensus::Member{j.raft_id, j.id, join_member_address(j.address, j.http.value_or(""))};
  entry.second.push_back({from, req});
  ++counters_["joins_asked"];
  manage_membership(now_, out);
}

void ReplicaCore::on_remove(const std::string& from, uint64_t req, const RemoveReplica& r, Effects& out) {
  const auto conf = consensus_->configuration();
  const auto it = std::find_if(conf.begin(), conf.end(), [&](const auto& c) { return c.member.name == r.id; });
  if (it == conf.end()) {
    out.send(from, req, members());  // not (or no longer) a member
    return;
  }
  const auto voters = std::count_if(conf.begin(), conf.end(), [](const auto& c) { return c.standing == consensus::Standing::voter; });
  if (it->standing == consensus::Standing::voter && voters <= 1) {
    ++counters_["errors"];
    out.send(from, req, make_error(ErrorCode::kBadValue, "remove_replica: '" + r.id + "' is the last voter of the tier"));
    return;
  }
  removals_[r.id].push_back({from, req});
  manage_membership(now_, out);
}

void ReplicaCore::on_membership_reply(const std::string& from, const Body& body) {
  if (const auto* m = std::get_if<Members>(&body)) {
    // Someone answered our join (or a stale one): learn where everyone is and who leads.
    for (const auto& r : m->members) {
      if (r.id != id_ && std::find(join_via_.begin(), join_via_.end(), r.id) == join_via_.end()) join_via_.push_back(r.id);
      if (r.id != id_ && !r.address.empty() && !connected_.count(r.id)) {
        answers_.connect(r.id, r.address);
        connected_.insert(r.id);
      }
    }
    if (m->leader) join_leader_ = *m->leader;
  } else if (const auto* e = std::get_if<Error>(&body)) {
    if (e->code == ErrorCode::kNotLeader && e->leader) join_leader_ = *e->leader;
    if (e->code != ErrorCode::kNotLeader) spdlog::warn("'{}' refused to add this replica: {}", from, e->error);
  }
}

void ReplicaCore::answer_waiting(std::vector<Waiting>& waiting, bool ok) {
  for (const auto& w : waiting) {
    if (ok) answers_.send(w.from, w.req, members());
    else answers_.send(w.from, w.req, not_leader());
  }
  waiting.clear();
}

void ReplicaCore::manage_membership(TimePoint now, Effects& out) {
  if (!member()) {
    // Joining: ask the leader (when one is known) or every replica we know of, again and again.
    if (now < next_join_ || join_via_.empty()) return;
    next_join_ = now + kJoinRetry;
    const JoinTier j{id_, address_, consensus_->id(), http_.empty() ? std::nullopt : std::optional<std::string>(http_)};
    if (join_leader_ && *join_leader_ != id_) {
      out.send(*join_leader_, 0, j);
      join_leader_.reset();  // if it no longer leads, ask everyone next time
    } else {
      for (const auto& r : join_via_) out.send(r, 0, j);
    }
    return;
  }
  if (!consensus_->leading()) {
    // Whoever leads next runs what was asked of us; the askers retry there.
    for (auto& [name, j] : joins_) answer_waiting(j.second, false);
    for (auto& [name, w] : removals_) answer_waiting(w, false);
    joins_.clear();
    removals_.clear();
    return;
  }
  if (change_in_flight_ || consensus_->changing()) return;
  // The common case, every tick: nothing asked and every member a voter.
  if (joins_.empty() && removals_.empty() && !non_voters_) return;
  start_change();
}

bool ReplicaCore::start_change() {
  const auto conf = consensus_->configuration();
  auto find = [&](const std::string& name) {
    return std::find_if(conf.begin(), conf.end(), [&](const auto& c) { return c.member.name == name; });
  };
  auto run = [&](const char* what, const std::string& name, auto change) {
    change_in_flight_ = true;
    spdlog::info("membership: {} '{}'", what, name);
    const bool started = change([this, what = std::string(what), name](bool ok) {
      change_in_flight_ = false;
      if (closing_) return;
      spdlog::info("membership: {} '{}' {}", what, name, ok ? "done" : "did not complete");
      if (what == "removing") {
        if (auto it = removals_.find(name); it != removals_.end()) {
          answer_waiting(it->second, ok);
          removals_.erase(it);
        }
      } else if (what == "adding") {
        if (auto it = joins_.find(name); it != joins_.end()) {
          answer_waiting(it->second.second, ok);
          joins_.erase(it);
        }
      }
    });
    if (!started) {
      change_in_flight_ = false;
      spdlog::warn("membership: libraft refused {} '{}'", what, name);
    }
    return started;
  };

  // 1. Removals, an operator's; the leader itself is removed by the next leader.
  while (!removals_.empty()) {
    auto it = removals_.begin();
    const auto target = find(it->first);
    if (target == conf.end()) {
      answer_waiting(it->second, true);
      removals_.erase(it);
      continue;
    }
    if (target->member.id == consensus_->id()) {
      const bool started = hand_over("membership: asked to remove this replica, the leader");
      answer_waiting(it->second, false);  // not_leader: ask the next leader
      removals_.erase(it);
      return started;
    }
    const uint64_t id = target->member.id;
    const std::string name = it->first;
    return run("removing", name, [&](auto done) { return consensus_->remove(id, std::move(done)); });
  }
  // 2. Joins: add as a spare.
  while (!joins_.empty()) {
    auto it = joins_.begin();
    if (const auto in = find(it->first); in != conf.end()) {
      answer_waiting(it->second.second, in->member.id == it->second.first.id);
      joins_.erase(it);
      continue;
    }
    const consensus::Member m = it->second.first;
    return run("adding", m.name, [&](auto done) { return consensus_->add(m, std::move(done)); });
  }
  // 3. Spares replicate as standbys; caught-up standbys become voters while there is room.
  size_t voters = 0;
  for (const auto& c : conf) voters += c.standing == consensus::Standing::voter ? 1 : 0;
  const auto peers = consensus_->peers();
  for (const auto& c : conf) {
    if (c.standing == consensus::Standing::spare) {
      const uint64_t id = c.member.id;
      return run("replicating to", c.member.name,
                 [&](auto done) { return consensus_->assign(id, consensus::Standing::standby, std::move(done)); });
    }
  }
  if (voters >= kMaxVoters) return false;
  for (const auto& p : peers) {
    if (p.voter) continue;
    const auto c = find(p.member.name);
    if (c == conf.end() || c->standing != consensus::Standing::standby) continue;
    if (p.match_index + kCaughtUp < consensus_->last_index()) continue;
    const uint64_t id = p.member.id;
    return run("promoting to voter", p.member.name,
               [&](auto done) { return consensus_->assign(id, consensus::Standing::voter, std::move(done)); });
  }
  return false;
}

void ReplicaCore::on_configuration(Effects& out) {
  if (consensus_->configuration_index() == configuration_index_) return;
  configuration_index_ = consensus_->configuration_index();
  const auto conf = consensus_->configuration();
  member_ = std::any_of(conf.begin(), conf.end(), [&](const auto& c) { return c.member.id == consensus_->id(); });
  non_voters_ = std::any_of(conf.begin(), conf.end(), [](const auto& c) { return c.standing != consensus::Standing::voter; });
  for (const auto& c : conf) {
    const std::string peer = split_member_address(c.member.address).peer;
    if (c.member.name == id_ || peer.empty() || connected_.count(c.member.name)) continue;
    out.connect(c.member.name, peer);
    connected_.insert(c.member.name);
  }
}

bool ReplicaCore::hand_over(std::string_view why) {
  change_in_flight_ = true;
  const bool started = consensus_->transfer(0, [this](bool ok) {
    // Also called, with false, while the replica closes (consensus_ is going away then).
    change_in_flight_ = false;
    const auto next = ok ? consensus_->leader() : std::nullopt;
    spdlog::info("leadership hand-over {}{}", ok ? "done" : "did not complete",
                 next ? ", to " + next->name : std::string());
  });
  if (!started) change_in_flight_ = false;
  spdlog::info("{}: {}", why, started ? "handing leadership over to the most up-to-date voter" : "libraft refused a hand-over");
  return started;
}

void ReplicaCore::begin_stop(TimePoint now) {
  stop_ = Stop{now + ms(2 * config_.database.election_timeout_ms), std::nullopt};
  if (!consensus_->leading() || !hand_over("stopping while leading")) stop_->deadline = now;
}

bool ReplicaCore::may_stop(TimePoint now) {
  if (!stop_ || now >= stop_->deadline) return true;
  const auto l = consensus_->leader();
  if (consensus_->leading() || !l || l->name == id_) return false;
  if (!stop_->leader_known) stop_->leader_known = now;
  return now >= *stop_->leader_known + kStopLinger;
}

}  // namespace oly::database
