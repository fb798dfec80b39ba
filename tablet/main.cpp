// tablet: the tablet simulator. Thin shell over TabletsCore (see tablets_core.h): it runs the
// core, appends every read to the history file, writes its stats file every second and prints a
// summary line every few seconds (or, with --watch, the first tablet's live scoreboard).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/cli.h"
#include "common/log_setup.h"
#include "common/shell.h"
#include "tablet/tablets_core.h"
#include "tabletnet/client.h"

namespace {

struct Window {
  int64_t ok = 0, failed = 0;
  std::vector<int64_t> latency_us;
};

void record(std::ofstream* history, Window& w, const std::vector<oly::ReadRecord>& reads) {
  for (const auto& r : reads) {
    if (history) oly::write_csv(*history, r);
    if (r.outcome == "ok") {
      ++w.ok;
      w.latency_us.push_back((r.end - r.start).count());
    } else {
      ++w.failed;
    }
  }
}

double percentile_ms(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

void print_summary(const oly::TabletsCore& core, Window& w, double seconds) {
  std::string split;
  for (const auto& [fe, n] : core.tablets_per_frontend()) split += " " + fe + "=" + std::to_string(n);
  std::printf("tablets: %d registered | %.0f reads/s ok, %lld failed | p50 %.2f ms, p99 %.2f ms | on:%s\n",
              core.registered(), static_cast<double>(w.ok) / seconds, static_cast<long long>(w.failed),
              percentile_ms(w.latency_us, 0.5), percentile_ms(w.latency_us, 0.99), split.c_str());
  std::fflush(stdout);
  w = Window{};
}

void print_watch(const oly::TabletsCore& core, const std::string& tablet, oly::TimePoint now) {
  std::printf("\033[2J\033[H%s's scoreboard (Ctrl-C to stop)\n\n", tablet.c_str());
  for (const auto& [key, v] : core.first_tablet_view()) {
    std::printf("  %-28s %-36s v%-5llu %5.1fs ago\n", key.c_str(), v.text.c_str(),
                static_cast<unsigned long long>(v.version), oly::to_ms(now - v.at) / 1000.0);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tablet: simulates N tablets that register with front ends and read scores"};
  oly::CommonFlags flags;
  oly::add_common_flags(app, flags);
  int count = -1;
  int first = 0;
  double duration = 0;
  bool watch = false;
  app.add_option("-n,--count", count, "number of tablets (overrides tablets.count)")->check(CLI::Range(1, 100000));
  app.add_option("--first", first, "index of the first tablet (to run several tablet processes)")
      ->check(oly::cli::kNonNegative);
  app.add_option("--duration", duration, "stop after this many seconds (0 = until stopped)")->check(oly::cli::kNonNegative);
  app.add_flag("--watch", watch, "show the first tablet's live scoreboard instead of summary lines");
  if (const auto rc = oly::cli::parse(app, argc, argv, "tablet")) return *rc;

  oly::Config cfg = oly::load_config_or_exit(flags);
  if (count > 0) cfg.tablets.count = count;
  oly::init_logging("tablets", cfg.log_level, flags.log_file);
  oly::set_role("tablets");

  std::filesystem::create_directories(cfg.run_dir);
  std::unique_ptr<std::ofstream> history;
  if (!cfg.tablets.history.empty()) {
    const std::string path = cfg.in_run_dir(cfg.tablets.history);
    const bool fresh = !std::filesystem::exists(path);
    history = std::make_unique<std::ofstream>(path, std::ios::app);
    if (!*history) {
      std::fprintf(stderr, "error: cannot write the read history %s\n", path.c_str());
      return 1;
    }
    if (fresh) *history << oly::read_csv_header() << '\n';
  }

  oly::SteadyClock clock;
  // One TCP connection per front end, for all the process's tablets (docs/protocol.md, section 8);
  // the master's serving notices come on the same connections.
  oly::tabletnet::TcpClientTransport transport("tablets-" + oly::incarnation_suffix(), clock);
  for (const auto& f : cfg.frontends) transport.add_peer(f.id, f.tcp);
  oly::TabletsCore core(cfg, cfg.tablets.count, first);
  oly::Node node(core, transport, clock);
  spdlog::info("{} tablets reading every {} ms", cfg.tablets.count, cfg.tablets.read_interval_ms);

  const auto& stop = oly::install_stop_signals();
  const oly::TimePoint start = clock.now();
  oly::TimePoint last_summary = start, next_stats = start, next_flush = start;
  Window window;
  const std::string stats_path = cfg.in_run_dir("tablets.stats");
  const std::string first_id = cfg.tablets.id_prefix + std::to_string(first);
  while (!stop.load()) {
    const oly::TimePoint wake = node.step();
    record(history.get(), window, core.take_reads());
    const oly::TimePoint now = clock.now();
    if (now >= next_stats) {
      oly::write_stats_file(stats_path, core.stats());
      next_stats = now + oly::ms(1000);
      if (watch) print_watch(core, first_id, now);
    }
    if (now >= next_flush && history) {
      history->flush();
      next_flush = now + oly::ms(500);
    }
    if (!watch && now - last_summary >= oly::ms(5000)) {
      print_summary(core, window, oly::to_ms(now - last_summary) / 1000.0);
      last_summary = now;
    }
    if (duration > 0 && now - start >= oly::Duration(static_cast<int64_t>(duration * 1e6))) break;
    transport.wait(std::min<oly::Duration>(wake > now ? wake - now : oly::Duration(0), oly::ms(50)));
  }
  if (history) history->flush();
  oly::write_stats_file(stats_path, core.stats());
  const auto s = core.stats();
  std::printf("tablet: %lld reads ok, %lld failed, %lld timeouts, %lld lost with their connection, %lld backwards\n",
              static_cast<long long>(s.counters.at("reads_ok")), static_cast<long long>(s.counters.at("reads_failed")),
              static_cast<long long>(s.counters.at("timeouts")), static_cast<long long>(s.counters.at("lost")),
              static_cast<long long>(s.counters.at("backwards_reads")));
  return 0;
}
