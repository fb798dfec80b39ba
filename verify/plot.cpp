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

// Per whole second since t0: ok reads per front end, failed reads, acks. `top_reads` and
// `top_acks` get the largest per-second figures (for the axes' ranges).
std::string rates_table(const CheckInput& in, TimePoint t0, const std::vector<std::string>& fes,
                        int64_t* top_reads, int64_t* top_acks) {
  std::map<int64_t, std::map<std::string, int64_t>> bins;
  int64_t last = 0;
  const auto bin = [&](TimePoint t) {
    const int64_t b = static_cast<int64_t>(std::max(0.0, secs(t, t0)));
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
    // Each count is for [s, s+1); plotted at the middle of the second.
    out << s << ".5";
    const auto& b = bins[s];
    const auto get = [&](const std::string& col) { return b.count(col) ? b.at(col) : int64_t{0}; };
    for (const auto& col : fes) {
      out << ' ' << get(col);
      *top_reads = std::max(*top_reads, get(col));
    }
    out << ' ' << get("failed") << ' ' << get("acks") << '\n';
    *top_reads = std::max(*top_reads, get("failed"));
    *top_acks = std::max(*top_acks, get("acks"));
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
  TimePoint t_end = t0;
  for (const auto& r : in.reads) t_end = std::max(t_end, r.end);
  for (const auto& a : in.acks) t_end = std::max(t_end, a.acked);
  int64_t top_reads = 1, top_acks = 1;
  write_file(dir / "rates.dat", rates_table(in, t0, fes, &top_reads, &top_acks));
  write_file(dir / "stale.dat", stale_table(report, t0));

  const bool pull = in.consistency == Consistency::kPull;
  std::string gp;
  gp += "# written by olympics check --plot; run again with: gnuplot timeline.gp\n";
  gp += "set terminal pngcairo noenhanced size 1400,900 font ',10'\n";
  gp += "set output " + quoted(png.string()) + "\n";
  gp += "cd " + quoted(dir.string()) + "\n";
  gp += "set multiplot layout 2,1 title " +
        quoted("olympics check: " + std::string(to_string(in.consistency)) + ", " +
               fs::path(in.run_dir).filename().string() + " — " +
               (report.passed() ? "PASS" : "FAIL")) +
        "\n";
  gp += "set key below horizontal\nset grid\nset xlabel 'seconds since the start'\n";
  gp += "set xrange [0:" + fixed(std::ceil(secs(t_end, t0)), 0) + "]\nset lmargin 12\nset rmargin 12\n";
  gp += markers(report, t0);
  gp += "set title 'requests per second'\nset ylabel 'reads per second'\n";
  // Headroom above the curves for the labels.
  gp += "set yrange [0:" + std::to_string(top_reads * 5 / 4 + 1) + "]\n";
  gp += "set y2label 'acknowledged updates per second'\nset y2tics\nset ytics nomirror\n";
  gp += "set y2range [0:" + std::to_string(top_acks * 5 / 4 + 1) + "]\n";
  gp += "plot ";
  for (size_t i = 0; i < fes.size(); ++i) {
    gp += "'rates.dat' using 1:" + std::to_string(i + 2) + " with lines lw 2 title " +
          quoted("ok reads at " + fes[i]) + ", ";
  }
  gp += "'rates.dat' using 1:" + std::to_string(fes.size() + 2) +
        " with lines lw 1.5 lc rgb '#e07000' title 'failed reads', ";
  gp += "'rates.dat' using 1:" + std::to_string(fes.size() + 3) +
        " axes x1y2 with lines lw 2 lc rgb 'black' title 'acknowledged updates (right axis)'\n";
  gp += "unset y2tics\nunset y2label\nset ytics mirror\n";
  gp += "set title " + quoted(std::string("staleness of stale reads") +
                             (pull ? " (pull bound dashed)" : " (push: committed, not yet acknowledged)")) +
        "\nset ylabel 'ms'\nset logscale y\nset yrange [0.01:*]\nset y2range [*:*]\n";
  const bool any_stale = !report.freshness.stale.empty();
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
