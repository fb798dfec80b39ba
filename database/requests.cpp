#include "database/requests.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/kv_rules.h"
#include "database/state_machine.h"

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

// Checks the ids of update `m` and copies them, its epoch and its sender onto command `c`,
// stamped with the monotonic time `now`; bad_value when the publisher or the seq is missing.
template <class Update, class UpdateCommand>
std::optional<Error> stamp_update(const Update& m, const std::string& from, TimePoint now, UpdateCommand& c) {
  const std::string op(Update::kOp);
  if (m.publisher.empty()) return make_error(ErrorCode::kBadValue, op + ": publisher must not be empty");
  if (m.seq == 0) return make_error(ErrorCode::kBadValue, op + ": seq starts at 1");
  c.publisher = m.publisher;
  c.seq = m.seq;
  c.epoch = m.epoch;
  c.committed_at_us = to_us(now);
  c.from = from;
  return std::nullopt;
}

}  // namespace

Checked check(const SetScore& m, const std::string& from, TimePoint now, const Clock& clock, const Config& config) {
  if (!contains(config.events, m.event)) return unknown(ErrorCode::kUnknownEvent, "event", m.event, config.events);
  if (m.gauls < 0 || m.romans < 0) {
    return make_error(ErrorCode::kBadValue, "set_score " + m.event + ": scores must not be negative, got " +
                                                std::to_string(m.gauls) + "-" + std::to_string(m.romans));
  }
  if (m.written_at_us && *m.written_at_us < 0) {
    return make_error(ErrorCode::kBadValue, "set_score " + m.event + ": written_at_us must not be negative, got " +
                                                std::to_string(*m.written_at_us));
  }
  cmd::SetScore c;
  if (auto bad = stamp_update(m, from, now, c)) return *bad;
  c.event = m.event;
  c.gauls = m.gauls;
  c.romans = m.romans;
  c.updated_at = clock.wall_ms(now);
  c.written_at_us = m.written_at_us;
  return c;
}

Checked check(const IncrementMedalTally& m, const std::string& from, TimePoint now, const Config&) {
  if (!contains(teams(), m.team)) return unknown(ErrorCode::kUnknownTeam, "team", m.team, teams());
  if (!contains(medals(), m.medal)) return unknown(ErrorCode::kUnknownMedal, "medal", m.medal, medals());
  cmd::IncrementMedalTally c;
  if (auto bad = stamp_update(m, from, now, c)) return *bad;
  c.team = m.team;
  c.medal = m.medal;
  return c;
}

Checked check(const ClaimMaster& m, const std::string& from, Duration lease_left, const Config& config) {
  if (config.frontend(m.frontend) == nullptr) {
    return make_error(ErrorCode::kBadValue, "claim_master: unknown front end '" + m.frontend + "'");
  }
  cmd::ClaimMaster c;
  c.frontend = m.frontend;
  c.epoch = m.epoch;
  c.lease_left_us = lease_left.count();
  c.from = from;
  return c;
}

Checked check(const AssignHome& m, const Config& config) {
  if (m.tablet.empty()) return make_error(ErrorCode::kBadValue, "assign_home: tablet must not be empty");
  if (m.frontends.empty()) return make_error(ErrorCode::kBadValue, "assign_home " + m.tablet + ": no front ends given");
  for (const auto& f : m.frontends) {
    if (config.frontend(f) == nullptr) return make_error(ErrorCode::kBadValue, "assign_home: unknown front end '" + f + "'");
  }
  cmd::AssignHome c;
  c.tablet = m.tablet;
  c.frontends = m.frontends;
  return c;
}

Checked check(const KvSet& m) {
  std::string problem = kv_key_problem(m.key);
  if (problem.empty()) problem = kv_value_problem(m.value);
  if (!problem.empty()) return make_error(ErrorCode::kBadValue, "kv_set: " + problem);
  return cmd::KvSet{m.key, m.value};
}

Body read(const KvGet& m, Store& store) {
  if (std::string problem = kv_key_problem(m.key); !problem.empty()) return make_error(ErrorCode::kBadValue, "kv_get: " + problem);
  KvValue reply;
  reply.key = m.key;
  reply.value = store.kv_get(m.key);
  return reply;
}

Body read(const GetScore& m, Store& store, const Config& config) {
  if (!contains(config.events, m.event)) return unknown(ErrorCode::kUnknownEvent, "event", m.event, config.events);
  ScoreReply reply;
  reply.score = store.score(m.event);
  return reply;
}

Body read(const GetMedalTally& m, Store& store, const Config&) {
  if (!contains(teams(), m.team)) return unknown(ErrorCode::kUnknownTeam, "team", m.team, teams());
  TallyReply reply;
  reply.tally = store.tally(m.team);
  return reply;
}

Body read(const GetScoreboard&, Store& store, const Config& config) {
  Scoreboard board;
  for (const auto& event : config.events) board.scores.push_back(store.score(event));
  for (const auto& team : teams()) board.tallies.push_back(store.tally(team));
  return board;
}

Body read(const GetMaster&, Store& store, const Config&) { return store.master(); }

Body read(const ListRegistry& m, Store& store, const Config&) {
  Registry reply;
  reply.entries = store.registry(m.home);
  return reply;
}

Body read(const GetFeed& m, Store& store, const Config& config) {
  if (m.event && std::find(config.events.begin(), config.events.end(), *m.event) == config.events.end()) {
    return make_error(ErrorCode::kUnknownEvent, "unknown event '" + *m.event + "'");
  }
  if (m.limit && (*m.limit == 0 || *m.limit > GetFeed::kFeedMax)) {
    return make_error(ErrorCode::kBadValue, "limit: expected 1 to " + std::to_string(GetFeed::kFeedMax));
  }
  const auto since = static_cast<int64_t>(std::min<uint64_t>(m.since.value_or(0), INT64_MAX));
  FeedReply out;
  for (auto& u : store.recent_applied(m.event ? Key::score(*m.event).str() : "", since, m.limit.value_or(GetFeed::kFeedMax))) {
    FeedItem i;
    i.at = static_cast<uint64_t>(u.committed_at_us);
    i.publisher = std::move(u.publisher);
    i.seq = u.seq;
    i.op = std::move(u.op);
    i.key = std::move(u.key);
    i.version = u.version;
    i.gauls = u.gauls;
    i.romans = u.romans;
    i.medal = std::move(u.medal);
    out.items.push_back(std::move(i));
  }
  return out;
}

bool is_read(const Body& body) {
  return std::holds_alternative<GetScore>(body) || std::holds_alternative<GetMedalTally>(body) ||
         std::holds_alternative<GetScoreboard>(body) || std::holds_alternative<GetMaster>(body) ||
         std::holds_alternative<ListRegistry>(body) || std::holds_alternative<GetFeed>(body);
}

bool is_write(const Body& body) {
  return std::holds_alternative<SetScore>(body) || std::holds_alternative<IncrementMedalTally>(body) ||
         std::holds_alternative<ClaimMaster>(body) || std::holds_alternative<AssignHome>(body);
}

Body renew(const RenewMaster& m, const MasterInfo& current, MasterLease& lease, TimePoint now, bool& renewed) {
  renewed = false;
  if (current.epoch == 0 || m.epoch != current.epoch || m.frontend != current.frontend) {
    return fenced_error(current, std::string(m.release ? "release" : "renewal") + " of the master lease by '" +
                                     m.frontend + "' at epoch " + std::to_string(m.epoch) +
                                     " fenced: the current epoch is " + std::to_string(current.epoch) +
                                     " (master '" + current.frontend + "')");
  }
  renewed = true;
  MasterInfo reply = current;
  if (m.release) {
    lease.end(now);
    reply.lease_ms = 0;
  } else {
    lease.grant(now);
    reply.lease_ms = ceil_ms(lease.length());
  }
  return reply;
}

std::string piece_of(const Body& body) {
  return std::visit(
      [](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, SetScore> || std::is_same_v<T, GetScore>) return "score:" + m.event;
        else if constexpr (std::is_same_v<T, IncrementMedalTally> || std::is_same_v<T, GetMedalTally>) return "tally:" + m.team;
        else if constexpr (std::is_same_v<T, ClaimMaster> || std::is_same_v<T, RenewMaster> || std::is_same_v<T, GetMaster>) return "master";
        else if constexpr (std::is_same_v<T, AssignHome> || std::is_same_v<T, ListRegistry>) return "registry";
        else if constexpr (std::is_same_v<T, KvSet> || std::is_same_v<T, KvGet>) return "kv:" + m.key;
        else if constexpr (std::is_same_v<T, GetScoreboard> || std::is_same_v<T, GetFeed>) return "*";
        else return "";
      },
      body);
}

bool valid_replica_name(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
}

bool valid_replica_address(const std::string& a) {
  if (a.empty()) return true;  // simulations
  if (a.size() > 256 || a.rfind("tcp://", 0) != 0) return false;
  return std::all_of(a.begin(), a.end(), [](unsigned char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace oly::database
