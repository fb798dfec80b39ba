#include "olympics/check.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <set>
#include <utility>

#include "olympics/text.h"

namespace oly::olympics {

const char* to_string(Status s) {
  switch (s) {
    case Status::kPass:
      return "PASS";
    case Status::kFail:
      return "FAIL";
    case Status::kNotJudged:
      break;
  }
  return "n/a";
}

bool CheckReport::passed() const {
  return std::none_of(verdicts.begin(), verdicts.end(),
                      [](const Verdict& v) { return v.status == Status::kFail; });
}

namespace {

constexpr size_t kMaxExamples = 8;
constexpr const char* kMedals[] = {"gold", "silver", "bronze"};
constexpr const char* kIncrement = "increment_medal_tally";
constexpr const char* kSetScore = "set_score";

using PubSeq = std::pair<std::string, uint64_t>;

// What the verdict line says when the guarantee is broken, for the overall verdict.
constexpr const char* kShortNames[] = {"lost update",   "update applied twice", "out of order",
                                       "stale read",    "backwards read",       "not recovered",
                                       "not rebalanced"};

Verdict verdict(std::string name) {
  Verdict v;
  v.guarantee = std::move(name);
  return v;
}

void example(Verdict& v, std::string s) {
  if (v.examples.size() < kMaxExamples) v.examples.push_back(std::move(s));
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Seconds since `start`, for people ("12.30 s").
std::string at_text(TimePoint t, TimePoint start) {
  return fixed(to_ms(t - start) / 1000.0, 2) + " s";
}

std::string ms_text(Duration d) { return fixed(to_ms(d), 1); }
std::string ms_text(const std::optional<Duration>& d) { return d ? ms_text(*d) : "-"; }
std::string json_ms(Duration d) { return fixed(to_ms(d), 3); }
std::string json_ms(const std::optional<Duration>& d) { return d ? json_ms(*d) : "null"; }
std::string json_s(TimePoint t, TimePoint start) { return fixed(to_ms(t - start) / 1000.0, 3); }
std::string spread_text(const Spread& s) {
  if (s.n == 0) return "-";
  return ms_text(s.p50) + "/" + ms_text(s.p99) + "/" + ms_text(s.max);
}

// freshness.cpp describes a read's time as "at t=<steady us>us": make it relative to `start`.
std::string relative_times(std::string s, TimePoint start) {
  const std::string mark = "at t=";
  for (size_t pos = s.find(mark); pos != std::string::npos; pos = s.find(mark, pos + 1)) {
    size_t digits = pos + mark.size();
    size_t end = digits;
    if (end < s.size() && s[end] == '-') ++end;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == digits || s.compare(end, 2, "us") != 0) continue;
    const int64_t us = std::strtoll(s.c_str() + digits, nullptr, 10);
    s.replace(pos, end + 2 - pos, "at " + at_text(from_us(us), start));
  }
  return s;
}

std::string team_of(const std::string& key) {
  return key.rfind("tally/", 0) == 0 ? key.substr(6) : std::string();
}

std::string describe_ack(const AckRecord& a, TimePoint start) {
  std::string what = a.key + (a.detail.empty() ? "" : " " + a.detail);
  return a.publisher + " seq " + std::to_string(a.seq) + " (" + what + ") acknowledged v" +
         std::to_string(a.version) + " via " + a.via + " at " + at_text(a.acked, start);
}

std::string describe_failure(const Failure& f, TimePoint start) {
  return f.node + " (" + f.how + ") at " + at_text(f.at, start);
}

const char* role_of(const Failure& f) {
  if (f.database) return "database";
  return f.was_master ? "master" : "peer";
}

// The run's first and last moments: the tool's start and down events, else the records' extremes.
struct Span {
  std::optional<TimePoint> first, last;
  void see(TimePoint t) {
    if (!first || t < *first) first = t;
    if (!last || t > *last) last = t;
  }
};

Span record_span(const CheckInput& in) {
  Span s;
  for (const auto& a : in.acks) {
    s.see(a.first_sent);
    s.see(a.acked);
  }
  for (const auto& r : in.reads) {
    s.see(r.start);
    s.see(r.end);
  }
  for (const auto& u : in.applied) s.see(from_us(u.committed_at_us));
  for (const auto& f : in.events.failures) {
    s.see(f.at);
    if (f.back) s.see(*f.back);
  }
  return s;
}

// Tablets per front end at the end of [from, to) (Split in check.h).
Split split_over(const std::vector<ReadRecord>& reads, const std::vector<std::string>& frontends,
                 TimePoint from, TimePoint to, Duration read_interval) {
  Split s;
  s.from = from;
  s.to = to;
  s.judged = to > from && to - from >= read_interval;
  for (const auto& fe : frontends) s.tablets[fe] = 0;
  std::map<std::string, const ReadRecord*> last;
  for (const auto& r : reads) {
    if (r.outcome != "ok" || r.end < from || r.end >= to) continue;
    auto& l = last[r.tablet];
    if (l == nullptr || r.end >= l->end) l = &r;
  }
  for (const auto& [tablet, r] : last) ++s.tablets[r->frontend];
  return s;
}

// "fe1 25 fe2 25", config order first.
std::string split_text(const Split& s, const std::vector<std::string>& frontends) {
  if (!s.judged) return "-";
  std::string out;
  auto add = [&](const std::string& fe, size_t n) {
    out += (out.empty() ? "" : " ") + fe + " " + std::to_string(n);
  };
  for (const auto& fe : frontends) {
    auto it = s.tablets.find(fe);
    add(fe, it == s.tablets.end() ? 0 : it->second);
  }
  for (const auto& [fe, n] : s.tablets) {
    if (std::find(frontends.begin(), frontends.end(), fe) == frontends.end()) add(fe, n);
  }
  return out;
}

size_t count_at(const Split& s, const std::string& fe) {
  auto it = s.tablets.find(fe);
  return it == s.tablets.end() ? 0 : it->second;
}

// ---- Guarantees 1-3: the database's applied log and final rows against Cacofonix's acks. ----

struct Ledger {
  std::map<PubSeq, std::vector<const AckRecord*>> acks;
  std::map<PubSeq, std::vector<const database::AppliedUpdate*>> applied;
  std::vector<const database::AppliedUpdate*> in_commit_order;
  std::map<std::string, size_t> applies_per_key;
  std::map<std::string, uint64_t> final_version;  // from the final rows
  // Cacofonix's count: team -> medal -> distinct increments acknowledged or applied.
  std::map<std::string, std::map<std::string, int64_t>> counted;
  std::map<std::string, const Tally*> tallies;
};

Ledger ledger_of(const CheckInput& in) {
  Ledger l;
  for (const auto& a : in.acks) l.acks[{a.publisher, a.seq}].push_back(&a);
  for (const auto& u : in.applied) {
    l.applied[{u.publisher, u.seq}].push_back(&u);
    l.in_commit_order.push_back(&u);
    ++l.applies_per_key[u.key];
  }
  std::stable_sort(l.in_commit_order.begin(), l.in_commit_order.end(),
                   [](const database::AppliedUpdate* a, const database::AppliedUpdate* b) {
                     return a->committed_at_us < b->committed_at_us;
                   });
  for (const auto& s : in.scores) l.final_version["score/" + s.event] = s.version;
  for (const auto& t : in.tallies) {
    l.final_version["tally/" + t.team] = t.version;
    l.tallies[t.team] = &t;
  }
  std::map<PubSeq, std::pair<std::string, std::string>> increments;  // {team, medal}
  for (const auto& u : in.applied) {
    if (u.op == kIncrement) increments.emplace(PubSeq{u.publisher, u.seq}, std::pair{team_of(u.key), u.medal});
  }
  for (const auto& a : in.acks) {
    if (a.op == kIncrement) increments.emplace(PubSeq{a.publisher, a.seq}, std::pair{team_of(a.key), a.detail});
  }
  for (const auto& [ps, tm] : increments) ++l.counted[tm.first][tm.second];
  return l;
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
      for (const AckRecord* a : acks) {
        if (a->key != u.key || a->version != u.version) {
          bad = a;
          why = "applied as " + u.key + " v" + std::to_string(u.version);
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
    example(v, "tally/" + team + " has " + std::to_string(have) + " " + medal + ", Cacofonix counted " +
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
    example(v, "tally/" + team + " has " + std::to_string(have) + " " + medal + ", Cacofonix counted " +
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
    auto it = last_apply.find("score/" + s.event);
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
    auto it = last_apply.find("tally/" + t.team);
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

// ---- Guarantees 4 and 5: what the tablets read. ----

std::string freshness_text(const FreshnessReport& f) {
  std::string out = std::to_string(f.reads_ok) + " reads ok of " + std::to_string(f.reads) + ", fidelity " +
                    fixed(f.fidelity * 100.0, 1) + "%";
  if (f.stale.empty()) return out + ", no stale read";
  return out + ", " + plural(f.stale.size(), "stale read", "stale reads") + " p50/p99/max " +
         ms_text(f.staleness_p50) + "/" + ms_text(f.staleness_p99) + "/" + ms_text(f.staleness_max) + " ms";
}

Verdict fresh_reads(const CheckInput& in, const FreshnessReport& f, TimePoint start,
                    CheckReport& r) {
  const bool push = in.consistency == Consistency::kPush;
  Verdict v = verdict(push ? "no read older than an acknowledged update" : "reads within the pull bound");
  size_t bad = 0;
  if (push) {
    bad = f.stale_after_ack;
    for (const auto& e : f.stale_examples) example(v, relative_times(e, start));
    v.figures = freshness_text(f) + "; " +
                (bad == 0 ? std::string("none older than an acknowledged update")
                          : plural(bad, "read", "reads") + " older than an acknowledged update");
  } else {
    for (const auto& s : f.stale) {
      if (s.staleness <= in.pull_bound) continue;
      ++bad;
      example(v, s.tablet + " read " + s.key + " at " + at_text(s.start, start) + ", " +
                     ms_text(s.staleness) + " ms stale (bound " + ms_text(in.pull_bound) + " ms)");
    }
    r.over_bound = bad;
    v.figures = std::to_string(bad) + " stale reads over the " + ms_text(in.pull_bound) + " ms bound; " +
                freshness_text(f);
  }
  if (f.reads_ok == 0) {
    v.figures = "no successful read";
    return v;
  }
  v.status = bad == 0 ? Status::kPass : Status::kFail;
  return v;
}

Verdict monotonic_reads(const FreshnessReport& f, TimePoint start) {
  Verdict v = verdict("monotonic reads");
  if (f.reads_ok == 0) {
    v.figures = "no successful read";
    return v;
  }
  for (const auto& e : f.backwards_examples) example(v, relative_times(e, start));
  v.status = f.backwards == 0 ? Status::kPass : Status::kFail;
  v.figures = f.backwards == 0 ? "no tablet read an older version of a key after a newer one (" +
                                     std::to_string(f.reads_ok) + " reads ok)"
                               : plural(f.backwards, "read", "reads") + " older than the tablet's earlier read";
  return v;
}

// ---- Guarantees 6 and 7: failures. ----

// The database's publisher window: the first ack after `at` of an update committed after it
// (acks of updates committed before the failure were already on their way).
std::optional<Duration> database_publisher_window(const Failure& f, const std::vector<const AckRecord*>& acks,
                                                  const Ledger& l) {
  for (const AckRecord* a : acks) {
    if (a->acked <= f.at) continue;
    auto it = l.applied.find({a->publisher, a->seq});
    if (it == l.applied.end() || from_us(it->second.front()->committed_at_us) <= f.at) continue;
    return a->acked - f.at;
  }
  return std::nullopt;
}

std::vector<FailureReport> failure_reports(const CheckInput& in, const Ledger& l, TimePoint start,
                                           TimePoint run_end) {
  const auto& failures = in.events.failures;
  std::vector<KillEvent> kills;
  for (const auto& f : failures) {
    KillEvent k;
    k.node = f.node;
    k.was_master = f.was_master;
    k.killed = f.at;
    k.restarted = f.back;
    if (f.back) k.settled = *f.back + in.settle;
    k.all_tablets = f.database;
    kills.push_back(std::move(k));
  }
  const auto windows = failover_windows(kills, in.acks, in.reads);
  std::vector<const AckRecord*> acks;
  for (const auto& a : in.acks) acks.push_back(&a);
  std::stable_sort(acks.begin(), acks.end(),
                   [](const AckRecord* a, const AckRecord* b) { return a->acked < b->acked; });

  const Duration span = 2 * in.read_interval;
  std::vector<FailureReport> out;
  for (size_t i = 0; i < failures.size(); ++i) {
    const Failure& f = failures[i];
    FailureReport fr;
    fr.failure = f;
    fr.windows = windows[i];
    if (f.database) fr.windows.publisher = database_publisher_window(f, acks, l);
    fr.before = split_over(in.reads, in.frontends, std::max(start, f.at - span), f.at, in.read_interval);
    const TimePoint end = f.back.value_or(run_end);
    fr.during = split_over(in.reads, in.frontends,
                           std::max(f.at + in.detect + 2 * in.tablet_timeout, end - span), end,
                           in.read_interval);
    if (f.back) {
      TimePoint next = run_end;
      for (const auto& g : failures) {
        if (g.at > f.at) next = std::min(next, g.at);
      }
      fr.after = split_over(in.reads, in.frontends,
                            std::max(*f.back + in.settle + in.detect + in.read_interval, next - span), next,
                            in.read_interval);
    }
    if (fr.after.judged && !in.frontends.empty()) {
      for (const AckRecord* a : acks) {
        if (a->acked < fr.after.from || a->acked >= fr.after.to) continue;
        fr.home_master_back = fr.home_master_back.value_or(true) && a->via == in.frontends.front();
      }
    }
    out.push_back(std::move(fr));
  }
  return out;
}

Verdict recovered(const CheckReport& r) {
  Verdict v = verdict("service recovered after every failure");
  if (r.failures.empty()) {
    v.figures = "no failures";
    return v;
  }
  const TimePoint start = r.start.value_or(TimePoint{});
  size_t bad = 0, affected = 0;
  std::vector<Duration> publisher, waits;
  for (const auto& fr : r.failures) {
    const KillWindows& w = fr.windows;
    if (w.publisher) publisher.push_back(*w.publisher);
    waits.insert(waits.end(), w.tablets_wait.begin(), w.tablets_wait.end());
    affected += w.tablets_affected;
    if (w.publisher && w.tablets_without_read == 0) continue;
    ++bad;
    if (!w.publisher) example(v, describe_failure(fr.failure, start) + ": Cacofonix never acknowledged again");
    if (w.tablets_without_read > 0) {
      example(v, describe_failure(fr.failure, start) + ": " + std::to_string(w.tablets_without_read) + " of " +
                     std::to_string(w.tablets_affected) + " affected tablets never read successfully again");
    }
  }
  v.status = bad == 0 ? Status::kPass : Status::kFail;
  v.figures = (bad == 0 ? plural(r.failures.size(), "failure", "failures") + ", all recovered"
                        : std::to_string(bad) + " of " + plural(r.failures.size(), "failure", "failures") +
                              " not recovered") +
              "; publisher p50/p99/max " + spread_text(spread_of(publisher)) + " ms; tablets' read wait " +
              "p50/p99/max " + spread_text(spread_of(waits)) + " ms over " +
              plural(affected, "affected tablet", "affected tablets");
  return v;
}

Verdict rebalanced(const CheckReport& r) {
  Verdict v = verdict("rebalanced after recovery");
  if (r.failures.empty()) {
    v.figures = "no failures";
    return v;
  }
  const TimePoint start = r.start.value_or(TimePoint{});
  const size_t tolerance = std::max<size_t>(2, r.tablets / 10);
  const std::string home = r.frontends.empty() ? std::string("the home master") : r.frontends.front();
  size_t judged = 0, off = 0, elsewhere = 0;
  for (const auto& fr : r.failures) {
    if (fr.home_master_back == false) {
      ++elsewhere;
      example(v, "after " + describe_failure(fr.failure, start) + " (" + at_text(fr.after.from, start) + " to " +
                     at_text(fr.after.to, start) + "): acks came through another front end than " + home);
    }
    if (!fr.after.judged || !r.baseline.judged) continue;
    ++judged;
    std::set<std::string> fes;
    for (const auto& [fe, n] : r.baseline.tablets) fes.insert(fe);
    for (const auto& [fe, n] : fr.after.tablets) fes.insert(fe);
    const bool within = std::all_of(fes.begin(), fes.end(), [&](const std::string& fe) {
      const size_t a = count_at(fr.after, fe), b = count_at(r.baseline, fe);
      return (a > b ? a - b : b - a) <= tolerance;
    });
    if (within) continue;
    ++off;
    example(v, "after " + describe_failure(fr.failure, start) + " (" + at_text(fr.after.from, start) + " to " +
                   at_text(fr.after.to, start) + "): " + split_text(fr.after, r.frontends) + ", baseline " +
                   split_text(r.baseline, r.frontends) + " (tolerance " + std::to_string(tolerance) + ")");
  }
  const std::string baseline = "baseline " + split_text(r.baseline, r.frontends);
  if (off > 0 || elsewhere > 0) {
    v.status = Status::kFail;
    v.figures = baseline + "; " + std::to_string(off) + " of " + std::to_string(judged) +
                " judged recovery periods off it by more than " + std::to_string(tolerance) + " tablets; " +
                std::to_string(elsewhere) + " with acks not via " + home;
    return v;
  }
  if (!r.baseline.judged) {
    v.figures = "no baseline: too little of the run before the first failure";
    return v;
  }
  if (judged == 0) {
    v.figures = baseline + "; no failure was followed by a long enough recovery period";
    return v;
  }
  v.status = Status::kPass;
  v.figures = baseline + "; " + std::to_string(judged) + " of " +
              plural(r.failures.size(), "recovery period", "recovery periods") + " judged, all within " +
              std::to_string(tolerance) + " tablets of it, acks via " + home;
  return v;
}

// ---- JSON. ----

std::string json_spread(const Spread& s) {
  const bool any = s.n > 0;
  return "{\"n\": " + std::to_string(s.n) + ", \"p50_ms\": " + (any ? json_ms(s.p50) : "null") +
         ", \"p99_ms\": " + (any ? json_ms(s.p99) : "null") + ", \"max_ms\": " + (any ? json_ms(s.max) : "null") +
         "}";
}

std::string json_split(const Split& s, TimePoint start) {
  std::string out = "{\"judged\": " + std::string(s.judged ? "true" : "false");
  if (s.judged) out += ", \"from_s\": " + json_s(s.from, start) + ", \"to_s\": " + json_s(s.to, start);
  out += ", \"tablets\": {";
  bool first = true;
  for (const auto& [fe, n] : s.tablets) {
    out += (first ? "" : ", ") + json_string(fe) + ": " + std::to_string(n);
    first = false;
  }
  return out + "}}";
}

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_string(v[i]);
  return out + "]";
}

}  // namespace

CheckReport check_run(const CheckInput& in) {
  CheckReport r;
  r.run_dir = in.run_dir;
  r.consistency = in.consistency;
  r.frontends = in.frontends;
  r.pull_bound = in.pull_bound;
  const Span span = record_span(in);
  r.start = in.events.start ? in.events.start : span.first;
  const TimePoint start = r.start.value_or(TimePoint{});
  const TimePoint run_end = in.events.end.value_or(span.last.value_or(start));

  const Ledger l = ledger_of(in);
  r.acked = l.acks.size();
  r.applied = in.applied.size();
  for (const auto& [ps, list] : l.applied) r.applied_unacked += !l.acks.contains(ps);
  std::set<std::string> tablets;
  for (const auto& rd : in.reads) tablets.insert(rd.tablet);
  r.tablets = tablets.size();

  std::vector<Commit> commits;
  for (const auto& u : in.applied) {
    Commit c;
    c.key = u.key;
    c.version = u.version;
    c.at = from_us(u.committed_at_us);
    commits.push_back(std::move(c));
  }
  r.freshness = analyse_freshness(in.reads, commits, in.acks);

  const std::set<std::string> off = keys_off_count(l);
  r.verdicts.push_back(no_update_lost(in, l, start, r));
  r.verdicts.push_back(no_update_twice(in, l, off, start, r));
  r.verdicts.push_back(applied_in_order(in, l, off, start, r));
  r.verdicts.push_back(fresh_reads(in, r.freshness, start, r));
  r.verdicts.push_back(monotonic_reads(r.freshness, start));

  if (!in.events.failures.empty()) {
    const TimePoint first = in.events.failures.front().at;
    r.baseline = split_over(in.reads, in.frontends, std::max(start, first - 2 * in.read_interval), first,
                            in.read_interval);
  }
  r.failures = failure_reports(in, l, start, run_end);
  r.verdicts.push_back(recovered(r));
  r.verdicts.push_back(rebalanced(r));
  return r;
}

std::string format_check(const CheckReport& r) {
  const TimePoint start = r.start.value_or(TimePoint{});
  std::string out = "check of " + r.run_dir + ": " + to_string(r.consistency) + ", " +
                    plural(r.frontends.size(), "front end", "front ends") + ", " +
                    plural(r.tablets, "tablet", "tablets") + ", " +
                    plural(r.acked, "acknowledged update", "acknowledged updates") + ", " +
                    plural(r.freshness.reads, "read", "reads") + "\n";
  size_t width = 0;
  for (const auto& v : r.verdicts) width = std::max(width, v.guarantee.size());
  for (const auto& v : r.verdicts) {
    std::string status = to_string(v.status);
    out += "  " + status + std::string(6 - std::min<size_t>(status.size(), 5), ' ') + v.guarantee +
           std::string(width - v.guarantee.size() + 2, ' ') + v.figures + "\n";
    for (const auto& e : v.examples) out += "          - " + e + "\n";
  }

  if (!r.failures.empty()) {
    std::vector<std::vector<std::string>> t;
    t.push_back({"#", "at s", "node", "how", "role", "down s", "publisher ms", "ack wait ms", "tablets",
                 "read wait p50/p99/max ms", "before", "during", "after", "home master back"});
    for (size_t i = 0; i < r.failures.size(); ++i) {
      const FailureReport& fr = r.failures[i];
      const Failure& f = fr.failure;
      const KillWindows& w = fr.windows;
      t.push_back({std::to_string(i + 1), fixed(to_ms(f.at - start) / 1000.0, 2), f.node, f.how, role_of(f),
                   f.back ? fixed(to_ms(*f.back - f.at) / 1000.0, 2) : "-", ms_text(w.publisher),
                   ms_text(w.publisher_wait),
                   std::to_string(w.tablets_affected - w.tablets_without_read) + "/" +
                       std::to_string(w.tablets_affected),
                   spread_text(spread_of(w.tablets_wait)), split_text(fr.before, r.frontends),
                   split_text(fr.during, r.frontends), split_text(fr.after, r.frontends),
                   fr.home_master_back ? (*fr.home_master_back ? "yes" : "no") : "-"});
    }
    out += "failures (tablets: read again/affected; before/during/after: tablets per front end)\n";
    const std::string table = render_table(t);
    for (size_t pos = 0; pos < table.size();) {
      const size_t nl = std::min(table.find('\n', pos), table.size());
      out += "  " + table.substr(pos, nl - pos) + "\n";
      pos = nl + 1;
    }
  }

  size_t pass = 0, fail = 0, none = 0;
  std::string failed;
  for (size_t i = 0; i < r.verdicts.size(); ++i) {
    const Verdict& v = r.verdicts[i];
    if (v.status == Status::kPass) ++pass;
    if (v.status == Status::kNotJudged) ++none;
    if (v.status != Status::kFail) continue;
    ++fail;
    failed += (failed.empty() ? "" : ", ") +
              (r.verdicts.size() == std::size(kShortNames) ? std::string(kShortNames[i]) : v.guarantee);
  }
  std::string counts = plural(r.verdicts.size(), "guarantee", "guarantees") + ": " + std::to_string(pass) +
                       " passed";
  if (fail > 0) counts += ", " + std::to_string(fail) + " failed";
  if (none > 0) counts += ", " + std::to_string(none) + " not judged";
  out += std::string("verdict: ") + (r.passed() ? "PASS" : "FAIL") + " (" + counts +
         (fail > 0 ? "; " + failed : "") + ")\n";
  return out;
}

std::string check_json(const CheckReport& r) {
  const TimePoint start = r.start.value_or(TimePoint{});
  std::string out = "{\"pass\": " + std::string(r.passed() ? "true" : "false") +
                    ", \"run_dir\": " + json_string(r.run_dir) +
                    ", \"consistency\": " + json_string(to_string(r.consistency)) +
                    ", \"frontends\": " + json_strings(r.frontends) + ", \"guarantees\": [";
  for (size_t i = 0; i < r.verdicts.size(); ++i) {
    const Verdict& v = r.verdicts[i];
    out += std::string(i ? ", " : "") + "{\"name\": " + json_string(v.guarantee) +
           ", \"status\": " + json_string(to_string(v.status)) + ", \"figures\": " + json_string(v.figures) +
           ", \"examples\": " + json_strings(v.examples) + "}";
  }
  out += "], \"counts\": {\"acked\": " + std::to_string(r.acked) + ", \"applied\": " + std::to_string(r.applied) +
         ", \"applied_unacked\": " + std::to_string(r.applied_unacked) + ", \"lost\": " + std::to_string(r.lost) +
         ", \"duplicates\": " + std::to_string(r.duplicates) + ", \"reordered\": " + std::to_string(r.reordered) +
         ", \"tablets\": " + std::to_string(r.tablets) + ", \"failures\": " + std::to_string(r.failures.size()) +
         "}";

  const FreshnessReport& f = r.freshness;
  const bool pull = r.consistency == Consistency::kPull;
  const std::string over_bound = pull ? std::to_string(r.over_bound) : "null";
  out += ", \"freshness\": {\"reads\": " + std::to_string(f.reads) + ", \"reads_ok\": " + std::to_string(f.reads_ok) +
         ", \"fidelity\": " + fixed(f.fidelity, 4) + ", \"stale\": " + std::to_string(f.stale.size()) +
         ", \"staleness_p50_ms\": " + json_ms(f.staleness_p50) + ", \"staleness_p99_ms\": " +
         json_ms(f.staleness_p99) + ", \"staleness_max_ms\": " + json_ms(f.staleness_max) +
         ", \"stale_after_ack\": " + std::to_string(f.stale_after_ack) + ", \"backwards\": " +
         std::to_string(f.backwards) + ", \"over_bound\": " + over_bound +
         ", \"pull_bound_ms\": " + (pull ? json_ms(r.pull_bound) : std::string("null")) + "}";

  out += ", \"baseline\": " + json_split(r.baseline, start);
  std::vector<Duration> publisher, waits, firsts;
  for (const auto& fr : r.failures) {
    if (fr.windows.publisher) publisher.push_back(*fr.windows.publisher);
    waits.insert(waits.end(), fr.windows.tablets_wait.begin(), fr.windows.tablets_wait.end());
    firsts.insert(firsts.end(), fr.windows.tablets_first.begin(), fr.windows.tablets_first.end());
  }
  out += ", \"unavailability\": {\"publisher\": " + json_spread(spread_of(publisher)) +
         ", \"tablets_wait\": " + json_spread(spread_of(waits)) +
         ", \"tablets_first\": " + json_spread(spread_of(firsts)) + "}";

  out += ", \"failures\": [";
  for (size_t i = 0; i < r.failures.size(); ++i) {
    const FailureReport& fr = r.failures[i];
    const Failure& fl = fr.failure;
    const KillWindows& w = fr.windows;
    out += std::string(i ? ", " : "") + "{\"node\": " + json_string(fl.node) + ", \"how\": " + json_string(fl.how) +
           ", \"role\": " + json_string(role_of(fl)) + ", \"at_s\": " + json_s(fl.at, start) +
           ", \"back_s\": " + (fl.back ? json_s(*fl.back, start) : "null") +
           ", \"publisher_ms\": " + json_ms(w.publisher) + ", \"publisher_wait_ms\": " + json_ms(w.publisher_wait) +
           ", \"handoff_gap_ms\": " + json_ms(w.handoff_gap) +
           ", \"tablets_affected\": " + std::to_string(w.tablets_affected) +
           ", \"tablets_without_read\": " + std::to_string(w.tablets_without_read) +
           ", \"tablets_wait\": " + json_spread(spread_of(w.tablets_wait)) +
           ", \"tablets_first\": " + json_spread(spread_of(w.tablets_first)) +
           ", \"before\": " + json_split(fr.before, start) + ", \"during\": " + json_split(fr.during, start) +
           ", \"after\": " + json_split(fr.after, start) + ", \"home_master_back\": " +
           (fr.home_master_back ? (*fr.home_master_back ? "true" : "false") : "null") + "}";
  }
  return out + "]}\n";
}

}  // namespace oly::olympics
