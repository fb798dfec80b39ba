#include "verify/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "verify/text.h"

extern char** environ;

namespace oly::verify {

namespace fs = std::filesystem;

namespace {

// Seconds since `t0`.
double secs(TimePoint t, TimePoint t0) {
  return static_cast<double>((t - t0).count()) / 1e6;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The bucket of time `t` (seconds since t0, `width` seconds wide).
int64_t bucket(TimePoint t, TimePoint t0, double width) {
  return static_cast<int64_t>(std::max(0.0, secs(t, t0)) / width);
}

// Per bucket of `width` s since t0: ok reads per front end, failed reads, acks, each per second.
// `top_reads` and `top_acks` get the largest rates (for the axes' ranges).
std::string rates_table(const CheckInput& in, TimePoint t0, const std::vector<std::string>& fes, double width,
                        double* top_reads, double* top_acks) {
  std::map<int64_t, std::map<std::string, int64_t>> bins;
  int64_t last = 0;
  const auto bin = [&](TimePoint t) {
    const int64_t b = bucket(t, t0, width);
    last = std::max(last, b);
    return b;
  };
  for (const auto& r : in.reads) ++bins[bin(r.end)][r.outcome == "ok" ? r.frontend : "failed"];
  for (const auto& a : in.acks) ++bins[bin(a.acked)]["acks"];
  std::ostringstream out;
  out << "second";
  for (const auto& fe : fes) out << ' ' << "reads_" << fe;
  out << " failed_reads acks\n";
  for (int64_t s = 0; s <= last; ++s) {
    // Each count is for [s, s+1) buckets; plotted at the middle, per second.
    out << fixed((static_cast<double>(s) + 0.5) * width, 3);
    const auto& b = bins[s];
    const auto get = [&](const std::string& col) { return (b.count(col) ? static_cast<double>(b.at(col)) : 0.0) / width; };
    for (const auto& col : fes) {
      out << ' ' << fixed(get(col), 1);
      *top_reads = std::max(*top_reads, get(col));
    }
    out << ' ' << fixed(get("failed"), 1) << ' ' << fixed(get("acks"), 1) << '\n';
    *top_reads = std::max(*top_reads, get("failed"));
    *top_acks = std::max(*top_acks, get("acks"));
  }
  return out.str();
}

// The nearest-rank q-quantile of `v` in ms, or "?" (gnuplot's missing value) when it is empty.
std::string quantile_ms(std::vector<Duration>& v, double q) {
  if (v.empty()) return "?";
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return fixed(std::max(0.01, to_ms(v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1])), 2);
}

// Per bucket: the p50 and p99 of ok reads' latency (start to end) and of acks' (first send to ack).
std::string latency_table(const CheckInput& in, TimePoint t0, double width, bool* any) {
  std::map<int64_t, std::vector<Duration>> reads, acks;
  int64_t last = 0;
  for (const auto& r : in.reads) {
    if (r.outcome != "ok") continue;
    reads[bucket(r.end, t0, width)].push_back(r.end - r.start);
    last = std::max(last, bucket(r.end, t0, width));
  }
  for (const auto& a : in.acks) {
    acks[bucket(a.acked, t0, width)].push_back(a.acked - a.first_sent);
    last = std::max(last, bucket(a.acked, t0, width));
  }
  *any = !reads.empty() || !acks.empty();
  std::ostringstream out;
  out << "second read_p50_ms read_p99_ms ack_p50_ms ack_p99_ms\n";
  for (int64_t s = 0; s <= last; ++s) {
    out << fixed((static_cast<double>(s) + 0.5) * width, 3) << ' ' << quantile_ms(reads[s], 0.5) << ' '
        << quantile_ms(reads[s], 0.99) << ' ' << quantile_ms(acks[s], 0.5) << ' ' << quantile_ms(acks[s], 0.99) << '\n';
  }
  return out.str();
}

// Per bucket: which front end acknowledged updates (the master), as its index in `fes`, or "?".
// `changes` gets each moment the acknowledging front end changed (a takeover or a handoff) and
// the front end from then on.
std::string master_table(const CheckInput& in, TimePoint t0, const std::vector<std::string>& fes, double width,
                         std::vector<std::pair<TimePoint, std::string>>* changes) {
  std::vector<const AckRecord*> acks;
  for (const auto& a : in.acks) acks.push_back(&a);
  std::sort(acks.begin(), acks.end(), [](const AckRecord* a, const AckRecord* b) { return a->acked < b->acked; });
  std::map<int64_t, std::map<std::string, int64_t>> by;
  int64_t last = 0;
  std::string current;
  for (const AckRecord* a : acks) {
    const int64_t b = bucket(a->acked, t0, width);
    ++by[b][a->via];
    last = std::max(last, b);
    if (a->via != current) {
      if (!current.empty()) changes->emplace_back(a->acked, a->via);
      current = a->via;
    }
  }
  std::ostringstream out;
  out << "second master\n";
  for (int64_t s = 0; s <= last; ++s) {
    out << fixed((static_cast<double>(s) + 0.5) * width, 3) << ' ';
    const auto& m = by[s];
    if (m.empty()) {
      out << "?\n";
      continue;
    }
    const auto top = std::max_element(m.begin(), m.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
    const auto at = std::find(fes.begin(), fes.end(), top->first);
    out << (at - fes.begin()) << '\n';
  }
  return out.str();
}

std::string stale_table(const CheckReport& r, TimePoint t0) {
  std::ostringstream out;
  out << "second staleness_ms\n";
  for (const auto& s : r.freshness.stale) {
    out << fixed(secs(s.start, t0), 3) << ' ' << fixed(std::max(0.01, to_ms(s.staleness)), 3) << '\n';
  }
  return out.str();
}

// gnuplot strings are single-quoted; a quote inside is doubled.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string markers(const CheckReport& r, TimePoint t0) {
  std::string out;
  int n = 0;
  for (const auto& f : r.failures) {
    const auto mark = [&](TimePoint t, const char* colour, const std::string& label, double y) {
      const std::string x = fixed(secs(t, t0), 3);
      out += "set arrow " + std::to_string(++n) + " from " + x + ", graph 0 to " + x +
             ", graph 1 nohead dt 2 lw 1.5 lc rgb '" + colour + "'\n";
      out += "set label " + std::to_string(n) + " " + quoted(label) + " at " + x + ", graph " +
             fixed(y, 2) + " offset 0.5,0 font ',9' tc rgb '" + colour + "'\n";
    };
    const bool pause = f.failure.how == "pause";
    mark(f.failure.at, "#c00000", (pause ? "pause " : "kill ") + f.failure.node, 0.95);
    if (f.failure.back) {
      mark(*f.failure.back, "#008000", (pause ? "cont " : "restart ") + f.failure.node, 0.88);
    }
  }
  return out;
}

// A shaded band over every panel for each failure's outage: from the failure to the first
// acknowledged update after it (or to the end of the run when none came).
std::string outage_bands(const CheckReport& r, TimePoint t0, double t_end) {
  std::string out;
  int n = 0;
  for (const auto& f : r.failures) {
    const double from = secs(f.failure.at, t0);
    const double to = f.windows.publisher ? from + to_ms(*f.windows.publisher) / 1000.0 : t_end;
    out += "set object " + std::to_string(++n) + " rect from " + fixed(from, 3) + ", graph 0 to " +
           fixed(std::max(to, from + 0.05), 3) + ", graph 1 behind fc rgb '#f4c7c3' fs solid 0.6 noborder\n";
  }
  return out;
}

void run_gnuplot(const fs::path& script, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string path = script.string();
  std::vector<char*> argv = {const_cast<char*>("gnuplot"), const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error(
        "cannot run gnuplot (install it with: apt-get install gnuplot-nox); the data and script "
        "are in " + script.parent_path().string());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    std::string first;
    std::getline(in, first);
    throw std::runtime_error("gnuplot failed on " + script.string() + ": " + first + " (see " +
                             log.string() + ")");
  }
}

}  // namespace

void plot_timeline(const CheckInput& in, const CheckReport& report, const std::string& png_path) {
  const fs::path png = fs::absolute(png_path);
  fs::path dir = png;
  dir.replace_extension();
  dir += "-plot";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());

  TimePoint t0 = report.start.value_or(TimePoint::max());
  if (!report.start) {
    for (const auto& r : in.reads) t0 = std::min(t0, r.start);
    for (const auto& a : in.acks) t0 = std::min(t0, a.first_sent);
    if (t0 == TimePoint::max()) t0 = TimePoint{};
  }
  std::vector<std::string> fes = in.frontends;
  std::set<std::string> known(fes.begin(), fes.end());
  for (const auto& r : in.reads) {
    if (r.outcome == "ok" && known.insert(r.frontend).second) fes.push_back(r.frontend);
  }
  for (const auto& a : in.acks) {
    if (known.insert(a.via).second) fes.push_back(a.via);
  }
  TimePoint t_end = t0;
  for (const auto& r : in.reads) t_end = std::max(t_end, r.end);
  for (const auto& a : in.acks) t_end = std::max(t_end, a.acked);
  const double span = std::ceil(secs(t_end, t0));
  // Sub-second buckets (a failover shows as a dip, not a smear) unless the run is long.
  const double width = span <= 180 ? 0.25 : 1.0;
  double top_reads = 1, top_acks = 1;
  std::vector<std::pair<TimePoint, std::string>> takeovers;
  write_file(dir / "rates.dat", rates_table(in, t0, fes, width, &top_reads, &top_acks));
  bool any_latency = false;
  write_file(dir / "latency.dat", latency_table(in, t0, width, &any_latency));
  write_file(dir / "master.dat", master_table(in, t0, fes, width, &takeovers));
  write_file(dir / "stale.dat", stale_table(report, t0));

  // The scenario's name, when a scenario script ran it (scenarios/lib.sh writes it).
  std::string scenario;
  std::ifstream(fs::path(in.run_dir) / "scenario.txt") >> scenario;
  const bool pull = in.consistency == Consistency::kPull;
  std::string gp;
  gp += "# written by olympics check --plot; run again with: gnuplot timeline.gp\n";
  gp += "set terminal pngcairo noenhanced size 1400,1250 font ',10'\n";
  gp += "set output " + quoted(png.string()) + "\n";
  gp += "cd " + quoted(dir.string()) + "\n";
  gp += "set datafile missing '?'\n";
  gp += "set multiplot title " +
        quoted((scenario.empty() ? std::string("olympics check") : scenario) + ": " +
               std::string(to_string(in.consistency)) + ", " + fs::path(in.run_dir).filename().string() + " — " +
               (report.passed() ? "PASS" : "FAIL") + "   (shaded: from a failure to the next acknowledged update)") +
        "\n";
  gp += "set key below horizontal\nset grid\n";
  gp += "set xrange [0:" + fixed(span, 0) + "]\nset lmargin 12\nset rmargin 12\n";
  gp += outage_bands(report, t0, span);
  gp += markers(report, t0);

  // 1. Who is master (acknowledges updates), with each change labelled.
  gp += "set origin 0,0.80\nset size 1,0.15\nset title 'master (the front end acknowledging updates)'\n";
  gp += "set xlabel ''\nset format x ''\nset ylabel ''\nset yrange [-0.5:" + std::to_string(fes.size()) + "-0.5]\nset ytics (";
  for (size_t i = 0; i < fes.size(); ++i) gp += std::string(i ? ", " : "") + quoted(std::as_const(fes[i])) + " " + std::to_string(i);
  gp += ")\nunset key\n";
  int label = 100;
  for (const auto& [at, fe] : takeovers) {
    gp += "set label " + std::to_string(++label) + " " + quoted(fe + " master") + " at " + fixed(secs(at, t0), 3) +
          ", graph 0.5 offset 0.5,0 font ',9' tc rgb '#5030a0'\n";
  }
  gp += "plot 'master.dat' using 1:2 with points pt 5 ps 0.5 lc rgb '#5030a0'\n";
  for (int i = 101; i <= label; ++i) gp += "unset label " + std::to_string(i) + "\n";
  gp += "set key below horizontal\nset ytics autofreq\nset format x '% g'\n";

  // 2. Requests per second.
  gp += "set origin 0,0.53\nset size 1,0.27\n";
  gp += "set title 'requests per second (" + fixed(width, 2) + " s buckets)'\nset ylabel 'reads per second'\n";
  gp += "set yrange [0:" + fixed(top_reads * 1.25 + 1, 0) + "]\n";
  gp += "set y2label 'acknowledged updates per second'\nset y2tics\nset ytics nomirror\n";
  gp += "set y2range [0:" + fixed(top_acks * 1.25 + 1, 0) + "]\n";
  gp += "plot ";
  for (size_t i = 0; i < fes.size(); ++i) {
    gp += "'rates.dat' using 1:" + std::to_string(i + 2) + " with lines lw 2 title " + quoted("ok reads at " + fes[i]) + ", ";
  }
  gp += "'rates.dat' using 1:" + std::to_string(fes.size() + 2) + " with lines lw 1.5 lc rgb '#e07000' title 'failed reads', ";
  gp += "'rates.dat' using 1:" + std::to_string(fes.size() + 3) +
        " axes x1y2 with lines lw 2 lc rgb 'black' title 'acknowledged updates (right axis)'\n";
  gp += "unset y2tics\nunset y2label\nset ytics mirror\n";

  // 3. Latency.
  gp += "set origin 0,0.27\nset size 1,0.26\n";
  gp += "set title 'latency: a tablet read (start to answer) and an update (first send to ack)'\n";
  gp += std::string("set ylabel 'ms'\nset logscale y\n") + (any_latency ? "set yrange [*:*]\n" : "set yrange [0.01:100]\n");
  gp += "plot 'latency.dat' using 1:2 with lines lw 1.5 lc rgb '#3060c0' title 'read p50', "
        "'latency.dat' using 1:3 with lines lw 1 dt 2 lc rgb '#3060c0' title 'read p99', "
        "'latency.dat' using 1:4 with lines lw 1.5 lc rgb 'black' title 'ack p50', "
        "'latency.dat' using 1:5 with lines lw 1 dt 2 lc rgb 'black' title 'ack p99'\n";

  // 4. Stale reads.
  gp += "set origin 0,0\nset size 1,0.27\nset xlabel 'seconds since the start'\n";
  gp += "set title " + quoted(std::string("staleness of stale reads") +
                             (pull ? " (pull bound dashed)" : " (push: committed, not yet acknowledged)")) +
        "\nset ylabel 'ms'\nset logscale y\n";
  const bool any_stale = !report.freshness.stale.empty();
  // gnuplot refuses to autoscale an axis with no point on it.
  gp += any_stale ? "set yrange [0.01:*]\n" : "set yrange [0.01:100]\n";
  gp += "plot ";
  gp += any_stale ? "'stale.dat' using 1:2 with points pt 7 ps 0.4 lc rgb '#3060c0' title 'stale read'"
                  : "1/0 title 'no stale reads'";
  if (pull) gp += ", " + fixed(to_ms(in.pull_bound), 1) + " with lines dt 2 lc rgb 'red' title 'bound'";
  gp += "\nunset multiplot\n";
  const fs::path script = dir / "timeline.gp";
  write_file(script, gp);
  run_gnuplot(script, dir / "gnuplot.log");
}

}  // namespace oly::verify
