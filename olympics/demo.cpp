#include "olympics/demo.h"

#include <filesystem>
#include <fstream>

#include "verify/check.h"
#include "verify/report.h"
#include "verify/load.h"

#include <chrono>
#include <csignal>
#include <thread>

#include "olympics/query.h"
#include "verify/text.h"

namespace oly::olympics {

using verify::fixed;
using verify::render_table;

namespace {

constexpr Duration kAskTimeout = ms(500);
constexpr size_t kBoardColumns = 3;  // events per line of the scoreboard

void sleep_until(std::chrono::steady_clock::time_point t, const std::atomic<bool>& stop) {
  while (std::chrono::steady_clock::now() < t) {
    if (stop.load()) throw Interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (stop.load()) throw Interrupted();
}

// The scoreboard from the first running front end (config order) that answers, with its name.
std::optional<std::pair<std::string, Scoreboard>> fetch_scoreboard(const Cluster& cluster) {
  std::vector<Request> requests;
  for (const auto& n : cluster.nodes()) {
    if (n.kind == NodeKind::kFrontend && cluster.running_pid(n))
      requests.push_back({n.name, n.address, GetScoreboard{}});
  }
  const auto replies = request_all(requests, kAskTimeout);
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i] && replies[i]->is<Scoreboard>())
      return std::pair{requests[i].peer, replies[i]->as<Scoreboard>()};
  }
  return std::nullopt;
}

const NodeStatus* find_kind(const std::vector<NodeStatus>& rows, NodeKind kind) {
  for (const auto& r : rows) {
    if (r.kind == kind_name(kind)) return &r;
  }
  return nullptr;
}

std::string per_s(const std::optional<double>& rate) {
  return rate ? " (" + fixed(*rate) + "/s)" : "";
}

std::string clients_line(const std::vector<NodeStatus>& rows) {
  std::string line;
  if (const auto* c = find_kind(rows, NodeKind::kCacofonix); c && c->acked) {
    line += "updates acked " + std::to_string(*c->acked) + per_s(c->rate);
  }
  if (const auto* t = find_kind(rows, NodeKind::kTablets); t && t->reads_ok) {
    line += (line.empty() ? "" : "   ") + std::string("reads ") + std::to_string(*t->reads_ok) +
            " ok" + per_s(t->rate) + ", " + std::to_string(t->reads_failed.value_or(0)) + " failed";
  }
  return line.empty() ? "clients: no stats yet" : line;
}

}  // namespace

std::string format_view(int elapsed_s, const Scoreboard* board, const std::string& source,
                        const std::vector<NodeStatus>& rows) {
  std::string out = "--- " + std::to_string(elapsed_s) + " s " + std::string(60, '-') + "\n";
  if (board == nullptr) {
    out += "scoreboard: no front end answered\n";
  } else {
    out += "scoreboard from " + source + " (Gauls:Romans, version)\n";
    std::vector<std::vector<std::string>> grid;
    for (size_t i = 0; i < board->scores.size(); ++i) {
      if (i % kBoardColumns == 0) grid.push_back({" "});
      const Score& s = board->scores[i];
      grid.back().insert(grid.back().end(),
                         {s.event, std::to_string(s.gauls) + ":" + std::to_string(s.romans),
                          "v" + std::to_string(s.version) + "  "});
    }
    out += render_table(grid);
    std::vector<std::vector<std::string>> medals;
    for (const Tally& t : board->tallies) {
      medals.push_back({" ", medals.empty() ? "medals" : "", t.team,
                        std::to_string(t.gold) + " gold", std::to_string(t.silver) + " silver",
                        std::to_string(t.bronze) + " bronze", "v" + std::to_string(t.version)});
    }
    out += render_table(medals);
  }
  std::vector<std::vector<std::string>> fes;
  for (const auto& r : rows) {
    if (r.kind != kind_name(NodeKind::kFrontend)) continue;
    fes.push_back({" ", r.node, r.state, r.role.empty() ? "-" : r.role,
                   r.epoch.empty() ? "" : "epoch " + r.epoch,
                   r.tablets ? std::to_string(*r.tablets) + " tablets" : "",
                   r.rate ? fixed(*r.rate) + " req/s" : "",
                   r.hit_rate ? "hits " + fixed(*r.hit_rate * 100) + "%" : ""});
  }
  out += "front ends\n" + render_table(fes);
  // The database tier: the single database, or each replica's Raft role and how far it applied.
  std::vector<std::vector<std::string>> dbs;
  for (const auto& r : rows) {
    if (r.kind != kind_name(NodeKind::kDatabase)) continue;
    const auto info = [&r](const char* k) {
      auto it = r.info.find(k);
      return it == r.info.end() ? std::string() : it->second;
    };
    dbs.push_back({" ", r.node, r.state, r.role.empty() ? "-" : r.role,
                   info("raft_term").empty() ? "" : "term " + info("raft_term"),
                   info("raft_applied").empty() ? "" : "applied " + info("raft_applied")});
  }
  if (!dbs.empty()) out += "database\n" + render_table(dbs);
  return out + clients_line(rows) + "\n";
}

DemoSummary summarize(const std::vector<NodeStatus>& rows) {
  DemoSummary s;
  if (const auto* c = find_kind(rows, NodeKind::kCacofonix)) s.acked = c->acked.value_or(0);
  if (const auto* t = find_kind(rows, NodeKind::kTablets)) {
    s.reads_ok = t->reads_ok.value_or(0);
    s.reads_failed = t->reads_failed.value_or(0);
  }
  for (const auto& r : rows) {
    if (r.kind == kind_name(NodeKind::kFrontend))
      s.tablets.emplace_back(r.node, r.tablets.value_or(0));
  }
  return s;
}

std::string format_summary(const DemoSummary& s, int ran_s) {
  std::string split;
  for (const auto& [fe, n] : s.tablets)
    split += (split.empty() ? "" : ", ") + fe + " " + std::to_string(n);
  std::string out = "demo summary after " + std::to_string(ran_s) + " s\n" +
                    render_table({{" ", "updates acknowledged", std::to_string(s.acked)},
                                  {" ", "reads",
                                   std::to_string(s.reads_ok) + " ok, " +
                                       std::to_string(s.reads_failed) + " failed"},
                                  {" ", "tablets per front end", split.empty() ? "-" : split}});
  return out;
}

std::string format_verdict(const DemoSummary& s, const std::optional<std::vector<std::string>>& broken,
                           const std::string& run_dir, bool judged) {
  std::vector<std::string> why;
  if (s.interrupted) why.push_back("interrupted");
  if (s.acked == 0) why.push_back("no update was acknowledged");
  if (s.reads_ok == 0) why.push_back("no tablet read succeeded");
  if (!broken) {
    why.push_back("the checker could not judge the run");
  } else if (!broken->empty()) {
    std::string names;
    for (const auto& b : *broken) names += (names.empty() ? "" : ", ") + b;
    why.push_back("the checker found broken: " + names);
  }
  if (why.empty()) {
    return "demo: PASS: " + std::to_string(s.acked) + " updates acknowledged, " + std::to_string(s.reads_ok) +
           " reads ok, " + (judged ? "every guarantee kept" : "not judged (the directory held earlier runs)") +
           " (run directory " + run_dir + ")\n";
  }
  std::string line;
  for (const auto& w : why) line += (line.empty() ? "" : "; ") + w;
  return "demo: FAIL: " + line + " (logs and records in " + run_dir + ")\n";
}

int run_demo(Cluster& cluster, const DemoOptions& options, const std::atomic<bool>& stop,
             std::ostream& out) {
  UpOptions up;
  up.tablets = options.tablets;
  up.consistency = options.consistency;
  const Config& cfg = cluster.config();
  // The checker judges a run directory's whole record, so only a directory without earlier runs.
  const bool fresh = !std::filesystem::exists(cfg.in_run_dir(cfg.cacofonix.ack_log)) &&
                     !std::filesystem::exists(cluster.layout().events_file());
  // Times count from before `up`, as the checker's do (its zero is the first node's start).
  const auto start = std::chrono::steady_clock::now();
  cluster.up(up);  // throws; it has stopped what it started
  std::string pages;
  for (const auto& f : cfg.frontends) {
    if (!f.http.empty()) pages += (pages.empty() ? "" : "  ") + ("http://" + f.http + "/");
  }
  if (!pages.empty()) {
    out << "live scoreboard in a browser: " << pages
        << " (either one; the page moves to the other front end when its own dies)\n";
  }
  out << "demo: running for " << options.duration_s << " s; Ctrl-C stops it early\n" << std::flush;

  ClusterSample previous = take_sample(cluster, kAskTimeout);
  int ran_s = 0;
  bool interrupted = false;
  std::string db_victim;  // the database leader killed, until it is restarted
  try {
    for (int second = 1; second <= options.duration_s; ++second) {
      sleep_until(start + std::chrono::seconds(second), stop);
      ran_s = second;
      // The failover part of the demo: the home master dies at a third of the run and comes
      // back at two thirds (it then takes its tablets and mastership back).
      const std::string& home = cluster.config().frontends.front().id;
      const bool failures = options.kill_master && options.duration_s >= 9;
      if (failures && second == options.duration_s / 3) {
        out << "\n*** second " << second << ": kill -9 " << home << " (the master) ***\n" << std::flush;
        cluster.kill(home, SIGKILL);
      } else if (failures && second == 2 * options.duration_s / 3) {
        out << "\n*** second " << second << ": restarting " << home << " ***\n" << std::flush;
        cluster.restart(home);
      }
      // A replicated tier loses its leader half-way through; it comes back at five sixths.
      if (failures && cfg.replicated() && second == options.duration_s / 2) {
        db_victim = database_leader(take_sample(cluster, kAskTimeout));
        if (!db_victim.empty()) {
          out << "\n*** second " << second << ": kill -9 " << db_victim << " (the database leader) ***\n" << std::flush;
          cluster.kill(db_victim, SIGKILL);
        }
      } else if (failures && !db_victim.empty() && second == 5 * options.duration_s / 6) {
        out << "\n*** second " << second << ": restarting " << db_victim << " ***\n" << std::flush;
        cluster.restart(db_victim);
        db_victim.clear();
      }
      if (second % options.view_every_s != 0 && second != options.duration_s) continue;
      ClusterSample now = take_sample(cluster, kAskTimeout);
      const auto board = fetch_scoreboard(cluster);
      out << format_view(second, board ? &board->second : nullptr, board ? board->first : "",
                         cluster_status(cluster, &previous, now))
          << std::flush;
      previous = std::move(now);
    }
  } catch (const Interrupted&) {
    interrupted = true;
    out << "\ninterrupted: stopping the cluster\n";
  }
  const ClusterSample last = take_sample(cluster, kAskTimeout);
  DemoSummary summary = summarize(cluster_status(cluster, nullptr, last));
  cluster.down();
  // Clients may write their stats once more as they exit; count what they reported last.
  const DemoSummary after =
      summarize(cluster_status(cluster, nullptr, take_sample(cluster, kAskTimeout)));
  summary.acked = std::max(summary.acked, after.acked);
  summary.reads_ok = std::max(summary.reads_ok, after.reads_ok);
  summary.reads_failed = std::max(summary.reads_failed, after.reads_failed);
  summary.interrupted = interrupted;
  out << format_summary(summary, ran_s);
  if (interrupted) return 130;
  std::optional<std::vector<std::string>> broken = std::vector<std::string>{};
  if (!fresh) {
    out << "(the run directory holds earlier runs' records, so the checker was not run; "
           "give a fresh --run-dir to have it judged)\n";
  } else {
    try {
      const verify::LoadedRun run = verify::load_run(cluster.layout().dir.string(), std::nullopt);
      const verify::CheckReport report = verify::check_run(run.input);
      out << "\n" << verify::format_check(report);
      const std::string json_path = cfg.in_run_dir("check.json");
      std::ofstream(json_path, std::ios::trunc) << check_json(report);
      out << "(the checker's report is also in " << json_path << "; 'olympics check "
          << cluster.layout().dir.string() << " --plot' draws it)\n";
      for (const auto& v : report.verdicts) {
        if (v.status == verify::Status::kFail) broken->push_back(v.guarantee);
      }
    } catch (const std::exception& e) {
      out << "the checker could not judge the run: " << e.what() << "\n";
      broken.reset();
    }
  }
  out << "\n" << format_verdict(summary, broken, cluster.layout().dir.string(), fresh);
  return summary.passed() && broken && broken->empty() ? 0 : 1;
}

}  // namespace oly::olympics
