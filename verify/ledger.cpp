#include "verify/ledger.h"

#include <algorithm>
#include <set>

#include "common/key.h"
#include "verify/wording.h"

namespace oly::verify {

namespace {

constexpr const char* kMedals[] = {"gold", "silver", "bronze"};
constexpr const char* kIncrement = "increment_medal_tally";
constexpr const char* kSetScore = "set_score";

std::string team_of(const std::string& key) {
  const auto k = Key::parse(key);
  return k && k->is_tally() ? std::string(k->name()) : std::string();
}

int64_t medals(const Tally* t, const std::string& medal) {
  if (t == nullptr) return 0;
  if (medal == "gold") return t->gold;
  if (medal == "silver") return t->silver;
  return t->bronze;
}

// Every team with a tally row or a counted increment, with its row (or none) and its count.
template <class F>
void for_each_medal_count(const Ledger& l, F&& f) {
  std::set<std::string> teams;
  for (const auto& [team, t] : l.tallies) teams.insert(team);
  for (const auto& [team, c] : l.counted) teams.insert(team);
  for (const auto& team : teams) {
    auto row = l.tallies.find(team);
    auto count = l.counted.find(team);
    for (const char* medal : kMedals) {
      int64_t want = 0;
      if (count != l.counted.end()) {
        if (auto m = count->second.find(medal); m != count->second.end()) want = m->second;
      }
      f(team, medal, medals(row == l.tallies.end() ? nullptr : row->second, medal), want);
    }
  }
}

}  // namespace

Ledger ledger_of(const CheckInput& in, bool record_order) {
  Ledger l;
  for (const auto& a : in.acks) l.acks[{a.publisher, a.seq}].push_back(&a);
  for (const auto& u : in.applied) {
    l.applied[{u.publisher, u.seq}].push_back(&u);
    l.in_commit_order.push_back(&u);
    ++l.applies_per_key[u.key];
  }
  if (!record_order) {
    std::stable_sort(l.in_commit_order.begin(), l.in_commit_order.end(),
                     [](const database::AppliedUpdate* a, const database::AppliedUpdate* b) {
                       return a->committed_at_us < b->committed_at_us;
                     });
  }
  for (const auto& s : in.scores) l.final_version[Key::score(s.event).str()] = s.version;
  for (const auto& t : in.tallies) {
    l.final_version[Key::tally(t.team).str()] = t.version;
    l.tallies[t.team] = &t;
  }
  l.counted = counted_medals(in.acks, in.applied);
  return l;
}

Verdict no_update_lost(const CheckInput& in, const Ledger& l, TimePoint start, CheckReport& r) {
  Verdict v = verdict("no acknowledged update lost");
  size_t unapplied = 0, short_counts = 0;
  for (const auto& [ps, acks] : l.acks) {
    auto it = l.applied.find(ps);
    const AckRecord* bad = nullptr;
    std::string why;
    if (it == l.applied.end()) {
      bad = acks.front();
      why = "never applied";
    } else {
      const database::AppliedUpdate& u = *it->second.front();
      // The value too: what Cacofonix sent ("3-2", "gold") is what the database holds for it
      // (a traitorous front end, docs/byzantine.md, must not change it on the way).
      const std::string value = u.op == "set_score" ? std::to_string(u.gauls) + "-" + std::to_string(u.romans) : u.medal;
      for (const AckRecord* a : acks) {
        if (a->key != u.key || a->version != u.version || (!a->detail.empty() && a->detail != value)) {
          bad = a;
          why = "applied as " + u.key + " v" + std::to_string(u.version) + " " + value;
          break;
        }
      }
    }
    if (bad == nullptr) continue;
    ++unapplied;
    example(v, describe_ack(*bad, start) + ", " + why);
  }
  for_each_medal_count(l, [&](const std::string& team, const char* medal, int64_t have, int64_t want) {
    if (have >= want) return;
    ++short_counts;
    example(v, Key::tally(team).str() + " has " + std::to_string(have) + " " + medal + ", Cacofonix counted " +
                   std::to_string(want));
  });
  r.lost = unapplied + short_counts;
  if (in.acks.empty() && in.applied.empty() && in.tallies.empty()) {
    v.figures = "nothing was acknowledged or applied";
    return v;
  }
  v.status = r.lost == 0 ? Status::kPass : Status::kFail;
  v.figures = std::to_string(r.acked) + " acknowledged, " +
              (unapplied == 0 ? std::string("all applied")
                              : std::to_string(unapplied) + " not applied as acknowledged");
  if (r.applied_unacked > 0) v.figures += " (" + std::to_string(r.applied_unacked) + " applied without an ack)";
  v.figures += short_counts == 0 ? "; no team short of a medal"
                                 : "; " + plural(short_counts, "medal count", "medal counts") +
                                       " below Cacofonix's count";
  return v;
}

// Keys whose final version differs from their number of applies (guarantee 2), so that
// guarantee 3 does not report them a second time.
std::set<std::string> keys_off_count(const Ledger& l) {
  std::set<std::string> keys;
  for (const auto& [key, n] : l.applies_per_key) {
    auto it = l.final_version.find(key);
    if (it == l.final_version.end() || it->second != n) keys.insert(key);
  }
  for (const auto& [key, version] : l.final_version) {
    if (!l.applies_per_key.contains(key) && version != 0) keys.insert(key);
  }
  return keys;
}

Verdict no_update_twice(const CheckInput& in, const Ledger& l, const std::set<std::string>& off,
                        TimePoint start, CheckReport& r) {
  Verdict v = verdict("no update applied twice");
  size_t twice = 0, over = 0;
  for (const auto& [ps, list] : l.applied) {
    if (list.size() < 2) continue;
    ++twice;
    std::string when;
    for (const database::AppliedUpdate* u : list) {
      when += (when.empty() ? "" : ", ") + at_text(from_us(u->committed_at_us), start);
    }
    example(v, ps.first + " seq " + std::to_string(ps.second) + " (" + list.front()->key + ") applied " +
                   std::to_string(list.size()) + " times, at " + when);
  }
  for (const auto& key : off) {
    auto n = l.applies_per_key.find(key);
    const size_t applies = n == l.applies_per_key.end() ? 0 : n->second;
    auto f = l.final_version.find(key);
    example(v, f == l.final_version.end()
                   ? key + " has no row after " + plural(applies, "apply", "applies")
                   : key + " is at v" + std::to_string(f->second) + " after " +
                         plural(applies, "apply", "applies"));
  }
  for_each_medal_count(l, [&](const std::string& team, const char* medal, int64_t have, int64_t want) {
    if (have <= want) return;
    ++over;
    example(v, Key::tally(team).str() + " has " + std::to_string(have) + " " + medal + ", Cacofonix counted " +
                   std::to_string(want));
  });
  r.duplicates = twice + off.size() + over;
  if (in.applied.empty() && in.scores.empty() && in.tallies.empty()) {
    v.figures = "nothing was applied";
    return v;
  }
  v.status = r.duplicates == 0 ? Status::kPass : Status::kFail;
  v.figures = std::to_string(r.applied) + " applied, " +
              (twice == 0 ? std::string("none twice") : std::to_string(twice) + " more than once") + "; " +
              (off.empty() ? "final versions of " + plural(l.final_version.size(), "key", "keys") +
                                 " match their applies"
                           : plural(off.size(), "key's", "keys'") + " final version off its applies") +
              "; " +
              (over == 0 ? std::string("no medal counted twice")
                         : plural(over, "medal count", "medal counts") + " above Cacofonix's count");
  return v;
}

Verdict applied_in_order(const CheckInput& in, const Ledger& l, const std::set<std::string>& off,
                         TimePoint start, CheckReport& r) {
  Verdict v = verdict("updates applied in order");
  std::map<std::string, uint64_t> next_seq;
  std::map<std::string, uint64_t> last_version;
  std::map<std::string, const database::AppliedUpdate*> last_apply;
  std::set<PubSeq> seen;
  size_t seq_steps = 0, version_steps = 0, rows = 0;
  for (const database::AppliedUpdate* u : l.in_commit_order) {
    const std::string when = at_text(from_us(u->committed_at_us), start);
    // A second apply of one {publisher, seq} is guarantee 2's; its version still counts below.
    if (seen.insert({u->publisher, u->seq}).second) {
      auto [it, fresh] = next_seq.emplace(u->publisher, 1);
      const uint64_t want = it->second;
      if (u->seq != want) {
        ++seq_steps;
        example(v, u->publisher + " seq " + std::to_string(u->seq) + " applied at " + when +
                       (u->seq > want ? " when seq " + std::to_string(want) + " was next"
                                      : " after seq " + std::to_string(want - 1)));
      }
      it->second = std::max(want, u->seq + 1);
    }
    uint64_t& last = last_version[u->key];
    if (u->version != last + 1) {
      ++version_steps;
      example(v, u->key + " v" + std::to_string(u->version) + " applied at " + when + " after v" +
                     std::to_string(last));
    }
    last = u->version;
    last_apply[u->key] = u;
  }
  for (const auto& s : in.scores) {
    auto it = last_apply.find(Key::score(s.event).str());
    if (it == last_apply.end()) continue;
    const database::AppliedUpdate& u = *it->second;
    const bool version_ok = off.contains(u.key) || s.version == u.version;
    if (version_ok && (u.op != kSetScore || (s.gauls == u.gauls && s.romans == u.romans))) continue;
    ++rows;
    example(v, u.key + " ends at " + std::to_string(s.gauls) + "-" + std::to_string(s.romans) + " v" +
                   std::to_string(s.version) + ", its last apply (" + u.publisher + " seq " +
                   std::to_string(u.seq) + ") set " + std::to_string(u.gauls) + "-" +
                   std::to_string(u.romans) + " v" + std::to_string(u.version));
  }
  for (const auto& t : in.tallies) {
    auto it = last_apply.find(Key::tally(t.team).str());
    if (it == last_apply.end() || off.contains(it->first) || t.version == it->second->version) continue;
    ++rows;
    example(v, it->first + " ends at v" + std::to_string(t.version) + ", its last apply (" +
                   it->second->publisher + " seq " + std::to_string(it->second->seq) + ") made v" +
                   std::to_string(it->second->version));
  }
  r.reordered = seq_steps + version_steps + rows;
  if (in.applied.empty()) {
    v.figures = "nothing was applied";
    return v;
  }
  v.status = r.reordered == 0 ? Status::kPass : Status::kFail;
  v.figures = (seq_steps == 0 ? "seqs in order for " + plural(next_seq.size(), "publisher", "publishers")
                              : plural(seq_steps, "seq", "seqs") + " out of order") +
              ", " +
              (version_steps == 0 ? "versions in order for " + plural(last_version.size(), "key", "keys")
                                  : plural(version_steps, "version", "versions") + " out of order") +
              ", " +
              (rows == 0 ? std::string("final rows those of the last applies")
                         : plural(rows, "final row", "final rows") + " not those of the last apply");
  return v;
}


MedalCount counted_medals(const std::vector<AckRecord>& acks,
                          const std::vector<database::AppliedUpdate>& applied) {
  std::map<PubSeq, std::pair<std::string, std::string>> increments;  // {team, medal}
  for (const auto& u : applied) {
    if (u.op == kIncrement) increments.emplace(PubSeq{u.publisher, u.seq}, std::pair{team_of(u.key), u.medal});
  }
  for (const auto& a : acks) {
    if (a.op == kIncrement) increments.emplace(PubSeq{a.publisher, a.seq}, std::pair{team_of(a.key), a.detail});
  }
  MedalCount counted;
  for (const auto& [ps, tm] : increments) ++counted[tm.first][tm.second];
  return counted;
}

std::vector<std::string> medals_off(const std::vector<Tally>& tallies, const MedalCount& counted) {
  Ledger l;
  for (const auto& t : tallies) l.tallies[t.team] = &t;
  l.counted = counted;
  std::vector<std::string> out;
  for_each_medal_count(l, [&](const std::string& team, const char* medal, int64_t have, int64_t want) {
    if (have == want) return;
    out.push_back(Key::tally(team).str() + " has " + std::to_string(have) + " " + medal + ", counted " +
                  std::to_string(want));
  });
  return out;
}

namespace {

std::string value_of(const database::AppliedUpdate& u) {
  return u.op == kSetScore ? std::to_string(u.gauls) + "-" + std::to_string(u.romans) : u.medal;
}

// 1 in gossip mode: each ack's update in every replica's record, with the ack's key, version and
// value in one of them, where a set_score whose value is the key's value before it (the score
// it left, a later-written one holding it) matches any value; no team short of Cacofonix's count
// in any replica's final rows.
Verdict no_update_lost_in_records(const CheckInput& in, const Ledger& l, TimePoint start, CheckReport& r) {
  Verdict v = verdict("no acknowledged update lost");
  struct Apply {
    const database::AppliedUpdate* u;
    bool kept;  // a set_score that left the key's value as it was
  };
  std::map<PubSeq, std::vector<Apply>> applies;
  std::map<PubSeq, std::set<std::string>> where;
  for (const auto& rec : in.replicas) {
    std::map<std::string, std::string> value;  // key -> its value so far in this record
    for (const auto& u : rec.applied) {
      const PubSeq ps{u.publisher, u.seq};
      const std::string now = value_of(u);
      auto before = value.find(u.key);
      applies[ps].push_back({&u, u.op == kSetScore && before != value.end() && before->second == now});
      where[ps].insert(rec.replica);
      if (u.op == kSetScore) value[u.key] = now;
    }
  }
  size_t unapplied = 0, short_counts = 0;
  for (const auto& [ps, list] : l.acks) {
    std::string why;
    const AckRecord* bad = nullptr;
    const auto& at = where[ps];
    for (const auto& rec : in.replicas) {
      if (at.contains(rec.replica)) continue;
      bad = list.front();
      why = "never applied at " + rec.replica;
      break;
    }
    for (size_t k = 0; bad == nullptr && k < list.size(); ++k) {
      const AckRecord* a = list[k];
      const auto& as = applies[ps];
      const bool matched = std::any_of(as.begin(), as.end(), [&](const Apply& x) {
        return x.u->key == a->key && x.u->version == a->version &&
               (a->detail.empty() || value_of(*x.u) == a->detail || x.kept);
      });
      if (matched) continue;
      bad = a;
      why = "no replica applied it as " + a->key + " v" + std::to_string(a->version) + " " + a->detail;
    }
    if (bad == nullptr) continue;
    ++unapplied;
    example(v, describe_ack(*bad, start) + ", " + why);
  }
  for (const auto& rec : in.replicas) {
    Ledger counts;
    for (const auto& t : rec.tallies) counts.tallies[t.team] = &t;
    counts.counted = counted_medals(in.acks, rec.applied);
    for_each_medal_count(counts, [&](const std::string& team, const char* medal, int64_t have, int64_t want) {
      if (have >= want) return;
      ++short_counts;
      example(v, rec.replica + ": " + Key::tally(team).str() + " has " + std::to_string(have) + " " + medal +
                     ", Cacofonix counted " + std::to_string(want));
    });
  }
  r.lost = unapplied + short_counts;
  if (in.acks.empty() && applies.empty()) {
    v.figures = "nothing was acknowledged or applied";
    return v;
  }
  v.status = r.lost == 0 ? Status::kPass : Status::kFail;
  v.figures = std::to_string(r.acked) + " acknowledged, " +
              (unapplied == 0 ? "all applied on each of " + plural(in.replicas.size(), "replica", "replicas")
                              : std::to_string(unapplied) + " not applied as acknowledged") +
              (short_counts == 0 ? "; no team short of a medal"
                                 : "; " + plural(short_counts, "medal count", "medal counts") +
                                       " below Cacofonix's count");
  return v;
}

// The verdicts of each replica's record as one: failed when any failed (its figures, and every
// replica's examples, named), else the first replica's, said of each.
Verdict merged(const std::vector<std::pair<std::string, Verdict>>& per_replica) {
  Verdict out = per_replica.front().second;
  out.examples.clear();
  const auto failed = std::find_if(per_replica.begin(), per_replica.end(), [](const auto& p) { return p.second.failed(); });
  if (failed != per_replica.end()) {
    out.status = Status::kFail;
    out.figures = failed->first + "'s record: " + failed->second.figures;
  } else {
    out.figures += " (each of " + plural(per_replica.size(), "replica's record", "replicas' records") + ")";
  }
  for (const auto& [replica, v] : per_replica) {
    for (const auto& e : v.examples) {
      if (out.examples.size() < kMaxExamples) out.examples.push_back(replica + ": " + e);
    }
  }
  return out;
}

}  // namespace

std::vector<Verdict> judge_replica_records(const CheckInput& in, const Ledger& l, TimePoint start, CheckReport& r) {
  std::vector<Verdict> out{no_update_lost_in_records(in, l, start, r)};
  std::vector<std::pair<std::string, Verdict>> twice, order;
  r.duplicates = 0;
  r.reordered = 0;
  for (const auto& rec : in.replicas) {
    CheckInput one;
    one.acks = in.acks;
    one.applied = rec.applied;
    one.scores = rec.scores;
    one.tallies = rec.tallies;
    const Ledger own = ledger_of(one, true);
    const std::set<std::string> off = keys_off_count(own);
    CheckReport mine;
    mine.applied = one.applied.size();
    twice.emplace_back(rec.replica, no_update_twice(one, own, off, start, mine));
    order.emplace_back(rec.replica, applied_in_order(one, own, off, start, mine));
    r.duplicates = std::max(r.duplicates, mine.duplicates);
    r.reordered = std::max(r.reordered, mine.reordered);
  }
  out.push_back(merged(twice));
  out.push_back(merged(order));
  return out;
}

}  // namespace oly::verify
