#include "bench/support/failover_run.h"

#include "common/config_file.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/records.h"
#include "olympics/cluster.h"
#include "olympics/demo.h"
#include "olympics/steady.h"
#include "olympics/query.h"
#include "verify/text.h"

namespace oly::bench {

using namespace oly::olympics;
using verify::fixed;
using verify::failover_windows;
using verify::KillWindows;
using verify::spread_of;
using verify::Spread;
using verify::render_table;

namespace fs = std::filesystem;

namespace {

constexpr Duration kReactionPoll = ms(20);  // while waiting for a takeover or a suspicion
constexpr Duration kSteadyPoll = ms(100);   // while waiting for the cluster to settle
constexpr Duration kAsk = ms(300);          // how long a front end may take to answer stats

std::string info(const Stats& s, const std::string& key) {
  const auto it = s.info.find(key);
  return it == s.info.end() ? "" : it->second;
}

uint64_t epoch_of(const Stats& s) {
  try {
    return std::stoull(info(s, "epoch"));
  } catch (const std::exception&) {
    return 0;
  }
}

double file_now_s() {
  return std::chrono::duration<double>(fs::file_time_type::clock::now().time_since_epoch()).count();
}

std::string secs(Duration d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f s", static_cast<double>(d.count()) / 1e6);
  return b;
}

std::string ms_text(std::optional<Duration> d) {
  return d ? fixed(to_ms(*d)) : "-";
}

void pause(Duration d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stop.load()) throw Interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (stop.load()) throw Interrupted();
}

// Stops the cluster when the run ends by an exception.
struct DownOnExit {
  Cluster& cluster;
  bool armed = true;
  ~DownOnExit() {
    if (!armed) return;
    try {
      cluster.down();
    } catch (...) {
    }
  }
};

// The name of a node that is not running (other than `except`), or "".
std::string not_running(const Cluster& cluster, const std::string& except = "") {
  for (const auto& n : cluster.nodes()) {
    if (n.name != except && !cluster.running_pid(n)) return n.name;
  }
  return "";
}

std::map<std::string, Stats> frontend_stats(const Cluster& cluster) {
  std::vector<Request> requests;
  for (const auto& n : cluster.nodes()) {
    if (n.kind == NodeKind::kFrontend && cluster.running_pid(n))
      requests.push_back({n.name, n.address, GetStats{}});
  }
  const auto replies = request_all(requests, kAsk);
  std::map<std::string, Stats> out;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i] && replies[i]->is<Stats>()) out[requests[i].peer] = replies[i]->as<Stats>();
  }
  return out;
}

// Waits until the cluster is steady; returns "" (and the time it was seen steady in `at`) or
// why it is not, when `timeout` passed or a node stopped running.
std::string wait_steady(const Cluster& cluster, const std::vector<std::string>& fes,
                        double tablets_after, Duration timeout, const std::atomic<bool>& stop,
                        TimePoint* at = nullptr) {
  SteadyClock clock;
  const TimePoint deadline = clock.now() + timeout;
  std::string problem;
  while (true) {
    if (const auto gone = not_running(cluster); !gone.empty()) {
      return gone + " is not running (see " + cluster.layout().log_file(gone).string() + ")";
    }
    problem = steady_problem(take_sample(cluster, kAsk), fes, tablets_after);
    if (problem.empty()) {
      if (at != nullptr) *at = clock.now();
      return "";
    }
    if (clock.now() >= deadline) return problem;
    pause(kSteadyPoll, stop);
  }
}

// Steady, and still steady after a quiet period (so every tablet has read at its home again).
std::string wait_quiet(const Cluster& cluster, const std::vector<std::string>& fes,
                       double tablets_after, const FailoverOptions& o,
                       const std::atomic<bool>& stop) {
  SteadyClock clock;
  const TimePoint deadline = clock.now() + std::chrono::seconds(o.steady_timeout_s);
  while (true) {
    const Duration left = std::max(Duration(0), deadline - clock.now());
    if (auto p = wait_steady(cluster, fes, tablets_after, left, stop); !p.empty()) return p;
    pause(ms(o.quiet_ms), stop);
    if (auto p = wait_steady(cluster, fes, tablets_after, Duration(0), stop); p.empty()) return "";
    if (clock.now() >= deadline) return "not steady for " + std::to_string(o.quiet_ms) + " ms";
  }
}

// Deletes (with `clean`) or refuses an earlier run's files in the run directory.
void prepare_run_dir(const Config& cfg, const std::vector<NodeSpec>& nodes, bool clean) {
  std::vector<std::string> files = {cfg.in_run_dir(cfg.cacofonix.ack_log),
                                    cfg.in_run_dir(cfg.database.path),
                                    cfg.in_run_dir(cfg.database.path + "-wal"),
                                    cfg.in_run_dir(cfg.database.path + "-shm"),
                                    cfg.in_run_dir("failover.json"),
                                    cfg.in_run_dir("failover.log")};
  if (!cfg.tablets.history.empty()) files.push_back(cfg.in_run_dir(cfg.tablets.history));
  for (const auto& n : nodes) {
    files.push_back(cfg.in_run_dir(n.name + ".log"));
    files.push_back(cfg.in_run_dir(n.name + ".stats"));
  }
  for (const auto& f : files) {
    if (!fs::exists(f)) continue;
    if (!clean) {
      throw ClusterError("the run directory " + cfg.run_dir + " holds an earlier run (" + f +
                         "); pass --clean to delete its records or pick another --run-dir");
    }
    std::error_code ec;
    fs::remove(f, ec);
    if (ec) throw ClusterError("cannot remove " + f + ": " + ec.message());
  }
}

struct Row {
  const char* name;
  std::vector<Duration> values;
};

// The summary rows of the kills selected by `pick`, with the windows they produced.
std::vector<Row> summary_rows(const FailoverRun& run, const std::vector<KillWindows>& windows,
                              bool masters, size_t* count, size_t* without_read) {
  std::vector<Row> rows = {{"publisher: first ack after the kill", {}},
                           {"publisher: longest ack wait, kill to restart", {}},
                           {"tablets: first ok read after the kill", {}},
                           {"tablets: read wait", {}},
                           {"handoff: longest ack gap after the restart", {}}};
  *count = 0;
  *without_read = 0;
  for (size_t i = 0; i < run.kills.size() && i < windows.size(); ++i) {
    if (run.kills[i].event.was_master != masters) continue;
    ++*count;
    const KillWindows& w = windows[i];
    if (w.publisher) rows[0].values.push_back(*w.publisher);
    if (w.publisher_wait) rows[1].values.push_back(*w.publisher_wait);
    rows[2].values.insert(rows[2].values.end(), w.tablets_first.begin(), w.tablets_first.end());
    rows[3].values.insert(rows[3].values.end(), w.tablets_wait.begin(), w.tablets_wait.end());
    if (w.handoff_gap) rows[4].values.push_back(*w.handoff_gap);
    *without_read += w.tablets_without_read;
  }
  return rows;
}

std::string settings_line(const FailoverRun& run) {
  const Config& c = run.config;
  return std::string(to_string(c.consistency)) + ", heartbeat interval " +
         std::to_string(c.heartbeat.interval_ms) + " ms, timeout " +
         std::to_string(c.heartbeat.timeout_ms) + " ms, settle " +
         std::to_string(c.heartbeat.settle_ms) + " ms, " + std::to_string(run.options.tablets) +
         " tablets, " + fixed(run.options.rate, 0) + " updates/s, down " +
         std::to_string(run.options.down_ms) + " ms";
}

using Json = nlohmann::ordered_json;

// To the microsecond, as the checker's report writes them.
double rounded(double v) { return std::round(v * 1000.0) / 1000.0; }
Json ms_json(std::optional<Duration> d) { return d ? Json(rounded(to_ms(*d))) : Json(nullptr); }
Json ms_list(const std::vector<Duration>& v) {
  Json out = Json::array();
  for (const auto& d : v) out.push_back(rounded(to_ms(d)));
  return out;
}
Json us_json(std::optional<TimePoint> t) { return t ? Json(to_us(*t)) : Json(nullptr); }
Json or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace

Config failover_config(Config base, const FailoverOptions& o, const std::string& run_dir) {
  base.run_dir = run_dir;
  if (o.consistency)
    base.consistency = *o.consistency == "pull" ? Consistency::kPull : Consistency::kPush;
  if (o.interval_ms) base.heartbeat.interval_ms = *o.interval_ms;
  if (o.timeout_ms) base.heartbeat.timeout_ms = *o.timeout_ms;
  base.tablets.count = o.tablets;
  base.cacofonix.rate = o.rate;
  validate(base);
  return base;
}

int run_failover(const Config& base, const FailoverOptions& o, const std::string& run_dir,
                 const std::atomic<bool>& stop, std::ostream& out) {
  FailoverRun run{failover_config(base, o, run_dir), o, {}, ""};
  const Config& cfg = run.config;
  std::vector<std::string> fes;
  for (const auto& f : cfg.frontends) fes.push_back(f.id);
  {
    std::error_code ec;
    fs::create_directories(cfg.run_dir, ec);
    if (ec) throw ClusterError("cannot create run directory " + cfg.run_dir + ": " + ec.message());
  }
  prepare_run_dir(cfg, cluster_nodes(cfg), o.clean);
  const std::string yaml = cfg.in_run_dir("failover.yaml");
  {
    std::ofstream y(yaml, std::ios::trunc);
    y << "# written by bench_failover: " << cfg.source << " with its overrides\n"
      << to_yaml(cfg);
    if (!y) throw ClusterError("cannot write " + yaml);
  }
  std::ofstream log(cfg.in_run_dir("failover.log"), std::ios::app);
  Cluster cluster(cfg, yaml, self_bin_dir(), log, &stop);

  out << "failover: " << o.kills << " kills (" << o.target << "), " << settings_line(run)
      << "\nrun directory " << cluster.layout().dir.string() << " (config failover.yaml, "
      << "cluster actions in failover.log)\n"
      << std::flush;
  UpOptions up;
  up.tablets = o.tablets;
  up.consistency = to_string(cfg.consistency);
  up.rate = o.rate;
  const double started_file = file_now_s();
  cluster.up(up);  // throws; stops what it started
  DownOnExit guard{cluster};
  SteadyClock clock;
  const TimePoint t0 = clock.now();
  const Duration steady_timeout = std::chrono::seconds(o.steady_timeout_s);
  const Duration reaction_timeout =
      std::max<Duration>(ms(10000), ms(20 * int64_t{cfg.heartbeat.timeout_ms}));

  std::string problem = wait_quiet(cluster, fes, started_file, o, stop);
  if (!problem.empty()) {
    run.aborted =
        "not steady within " + std::to_string(o.steady_timeout_s) + " s of the start: " + problem;
  }
  for (int i = 0; run.aborted.empty() && i < o.kills; ++i) {
    if (i > 0) {
      // The tablets' stats file was fresh when the last restart settled.
      problem = wait_quiet(cluster, fes, -std::numeric_limits<double>::infinity(), o, stop);
      if (!problem.empty()) {
        run.aborted = "not steady before kill " + std::to_string(i + 1) + ": " + problem;
        break;
      }
    }
    const bool db_leader = o.target == "dbleader";
    const bool kill_master = o.target == "master" || (o.target == "both" && i % 2 == 0);
    const std::string victim = db_leader ? olympics::database_leader(take_sample(cluster, kAsk))
                               : kill_master ? fes[0] : fes[1];
    if (victim.empty()) {
      run.aborted = "no database leader before kill " + std::to_string(i + 1);
      break;
    }
    const auto before = frontend_stats(cluster);
    const uint64_t old_epoch = before.count(fes[0]) ? epoch_of(before.at(fes[0])) : uint64_t{0};

    FailoverKill k;
    k.event.node = victim;
    k.event.was_master = kill_master && !db_leader;
    k.event.all_tablets = db_leader;  // every tablet's fills and polls wait for the new leader
    k.event.killed = clock.now();
    cluster.kill(victim, SIGKILL);
    std::string reaction;
    while (true) {
      const auto now_stats = frontend_stats(cluster);
      const TimePoint now = clock.now();
      if (db_leader) {
        const std::string next = olympics::database_leader(take_sample(cluster, kAsk));
        if (!next.empty() && next != victim) {
          k.new_master = next;
          k.reaction_seen = now - k.event.killed;
          reaction = next + " leads the database tier after " + secs(*k.reaction_seen);
        }
      } else if (kill_master) {
        for (const auto& [name, st] : now_stats) {
          if (st.role == "master" && epoch_of(st) > old_epoch) {
            k.new_master = name;
            k.reaction_seen = now - k.event.killed;
            reaction = name + " took over (epoch " + std::to_string(epoch_of(st)) + ") after " +
                       secs(*k.reaction_seen);
          }
        }
      } else if (const auto m = now_stats.find(fes[0]); m != now_stats.end()) {
        const auto suspects = comma_split(info(m->second, "suspected"));
        if (std::find(suspects.begin(), suspects.end(), victim) != suspects.end()) {
          k.reaction_seen = now - k.event.killed;
          reaction = fes[0] + " suspected it after " + secs(*k.reaction_seen);
        }
      }
      if (k.reaction_seen) break;
      if (now - k.event.killed >= reaction_timeout) {
        reaction = std::string(kill_master ? "NO takeover" : "NO suspicion") + " seen within " +
                   secs(reaction_timeout);
        break;
      }
      pause(kReactionPoll, stop);
    }
    pause(ms(o.down_ms), stop);
    const double restart_file = file_now_s();
    k.event.restarted = clock.now();
    cluster.restart(victim);
    TimePoint settled{};
    problem = wait_steady(cluster, fes, restart_file, steady_timeout, stop, &settled);
    std::string after;
    if (problem.empty()) {
      k.event.settled = settled;
      k.settled_seen = settled - *k.event.restarted;
      after = "steady again " + secs(*k.settled_seen) + " after the restart";
    } else {
      run.aborted = "not steady " + std::to_string(o.steady_timeout_s) + " s after restarting " +
                    victim + " (kill " + std::to_string(i + 1) + "): " + problem;
      after = "NOT steady again: " + problem;
    }
    out << "kill " << (i + 1) << "/" << o.kills << ": " << victim
        << (db_leader     ? std::string(" (database leader)")
            : kill_master ? " (master, epoch " + std::to_string(old_epoch) + ")"
                          : std::string(" (non-master)"))
        << " at +" << secs(k.event.killed - t0) << "; " << reaction << "; restarted; " << after
        << "\n"
        << std::flush;
    run.kills.push_back(std::move(k));
  }
  if (run.aborted.empty()) pause(ms(o.quiet_ms), stop);  // acks after the last handoff
  guard.armed = false;
  cluster.down();

  const auto acks = read_ack_log(cfg.in_run_dir(cfg.cacofonix.ack_log));
  const auto reads = cfg.tablets.history.empty()
                         ? std::vector<ReadRecord>{}
                         : read_history(cfg.in_run_dir(cfg.tablets.history));
  std::vector<KillEvent> events;
  for (const auto& k : run.kills) events.push_back(k.event);
  const auto windows = failover_windows(events, acks, reads);
  out << "\n" << format_failover(run, windows);
  const std::string json_path = cfg.in_run_dir("failover.json");
  std::ofstream json(json_path, std::ios::trunc);
  json << failover_json(run, windows);
  out << "written " << json_path << "\n";
  if (!run.aborted.empty()) {
    out << "run ended early: " << run.aborted << "\n";
    return 1;
  }
  return 0;
}

std::string format_failover(const FailoverRun& run, const std::vector<KillWindows>& windows) {
  const int timeout = run.config.heartbeat.timeout_ms;
  std::string out = "failover windows (" + settings_line(run) + ")\n";
  for (const bool masters : {true, false}) {
    size_t count = 0, without_read = 0;
    const auto rows = summary_rows(run, windows, masters, &count, &without_read);
    if (count == 0) continue;
    out += std::string(masters                           ? "kills of the master: "
                       : run.options.target == "dbleader" ? "kills of the database leader: "
                                                          : "kills of a non-master: ") +
           std::to_string(count) + "\n";
    std::vector<std::vector<std::string>> t = {
        {" ", "window", "n", "p50 ms", "p99 ms", "max ms", "timeout ms", "p99/timeout"}};
    for (const auto& r : rows) {
      const Spread s = spread_of(r.values);
      const bool any = s.n > 0;
      t.push_back({" ", r.name, std::to_string(s.n), any ? fixed(to_ms(s.p50)) : "-",
                   any ? fixed(to_ms(s.p99)) : "-", any ? fixed(to_ms(s.max)) : "-",
                   std::to_string(timeout), any ? fixed(to_ms(s.p99) / timeout, 2) : "-"});
    }
    out += render_table(t);
    if (without_read > 0) {
      out += "  " + std::to_string(without_read) +
             " tablets of a killed front end never read successfully after the kill\n";
    }
  }
  std::vector<std::vector<std::string>> t = {{" ", "kill", "node", "role", "seen ms",
                                              "publisher ms", "ack wait ms", "tablets",
                                              "first max ms", "wait max ms", "handoff gap ms"}};
  for (size_t i = 0; i < run.kills.size(); ++i) {
    const auto& k = run.kills[i];
    const KillWindows w = i < windows.size() ? windows[i] : KillWindows{};
    const auto max_of = [](const std::vector<Duration>& v) {
      return v.empty() ? std::optional<Duration>{} : *std::max_element(v.begin(), v.end());
    };
    t.push_back({" ", std::to_string(i + 1), k.event.node,
                 k.event.was_master ? "master" : run.options.target == "dbleader" ? "db leader" : "peer",
                 ms_text(k.reaction_seen), ms_text(w.publisher), ms_text(w.publisher_wait),
                 std::to_string(w.tablets_first.size()) + "/" + std::to_string(w.tablets_affected),
                 ms_text(max_of(w.tablets_first)), ms_text(max_of(w.tablets_wait)),
                 ms_text(w.handoff_gap)});
  }
  out += "per kill\n" + render_table(t);
  out +=
      "notes:\n"
      "  seen: kill to the takeover (or to the suspicion of a non-master) as the tool polled.\n"
      "  publisher: first acknowledgement after the kill; ack wait: the longest acked - first\n"
      "    sent of the updates acknowledged after the kill and first sent before the restart.\n"
      "  tablets: the killed front end's tablets (per kill: read again / were there); first\n"
      "    ok read after the kill includes the wait for the next scheduled read (up to\n"
      "    read_interval_ms " +
      std::to_string(run.config.tablets.read_interval_ms) +
      "); read wait runs from the start of the tablet's first read not\n"
      "    complete at the kill.\n"
      "  handoff: the longest gap between acknowledgements from the restart until 1 s after\n"
      "    the cluster was steady again.\n";
  return out;
}

std::string failover_json(const FailoverRun& run, const std::vector<KillWindows>& windows) {
  const Config& c = run.config;
  const auto& o = run.options;
  Json out = {{"consistency", to_string(c.consistency)},
              {"interval_ms", c.heartbeat.interval_ms},
              {"timeout_ms", c.heartbeat.timeout_ms},
              {"settle_ms", c.heartbeat.settle_ms},
              {"lease_ms", c.lease.duration_ms},
              {"tablets", o.tablets},
              {"rate", rounded(o.rate)},
              {"kills_requested", o.kills},
              {"target", o.target},
              {"down_ms", o.down_ms},
              {"aborted", or_null(run.aborted)},
              {"summary", Json::object()},
              {"kills", Json::array()}};
  static const char* keys[] = {"publisher", "publisher_wait", "tablets_first", "tablets_wait", "handoff_gap"};
  for (const bool masters : {true, false}) {
    size_t count = 0, without_read = 0;
    const auto rows = summary_rows(run, windows, masters, &count, &without_read);
    if (count == 0) continue;
    Json kind = {{"kills", count}, {"tablets_without_read", without_read}};
    for (size_t i = 0; i < rows.size(); ++i) {
      const Spread s = spread_of(rows[i].values);
      const auto ms = [&](Duration d) { return s.n > 0 ? Json(rounded(to_ms(d))) : Json(nullptr); };
      kind[keys[i]] = {{"n", s.n},
                       {"p50_ms", ms(s.p50)},
                       {"p99_ms", ms(s.p99)},
                       {"max_ms", ms(s.max)},
                       {"p99_over_timeout",
                        s.n > 0 ? Json(rounded(to_ms(s.p99) / c.heartbeat.timeout_ms)) : Json(nullptr)}};
    }
    out["summary"][masters ? "master" : o.target == "dbleader" ? "dbleader" : "nonmaster"] = std::move(kind);
  }
  for (size_t i = 0; i < run.kills.size(); ++i) {
    const auto& k = run.kills[i];
    const KillWindows w = i < windows.size() ? windows[i] : KillWindows{};
    out["kills"].push_back({{"kill", i + 1},
                            {"node", k.event.node},
                            {"was_master", k.event.was_master},
                            {"killed_us", us_json(k.event.killed)},
                            {"restarted_us", us_json(k.event.restarted)},
                            {"settled_us", us_json(k.event.settled)},
                            {"new_master", or_null(k.new_master)},
                            {"reaction_seen_ms", ms_json(k.reaction_seen)},
                            {"settled_seen_ms", ms_json(k.settled_seen)},
                            {"publisher_ms", ms_json(w.publisher)},
                            {"publisher_wait_ms", ms_json(w.publisher_wait)},
                            {"handoff_gap_ms", ms_json(w.handoff_gap)},
                            {"tablets_affected", w.tablets_affected},
                            {"tablets_without_read", w.tablets_without_read},
                            {"tablets_first_ms", ms_list(w.tablets_first)},
                            {"tablets_wait_ms", ms_list(w.tablets_wait)}});
  }
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace oly::bench
