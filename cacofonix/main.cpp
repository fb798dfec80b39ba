// cacofonix: the publisher. Thin shell over PublisherCore (see publisher_core.h): it runs the
// core, appends every acknowledgement to the ack log and writes its stats file every second.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "byzantine/signing_key_files.h"
#include "common/cli.h"
#include "cacofonix/publisher_core.h"
#include "common/log_setup.h"
#include "common/metrics_page.h"
#include "common/shell.h"

namespace {

// Logs each acknowledged update, and its latency from first send to ack.
void write_acks(std::ofstream& log, const std::vector<oly::AckRecord>& acks, oly::metrics::Histogram& latency) {
  for (const auto& a : acks) {
    oly::write_csv(log, a);
    latency.observe(a.acked - a.first_sent);
  }
  if (!acks.empty()) log.flush();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cacofonix: publishes Olympic score updates to the master front end"};
  oly::CommonFlags flags;
  oly::add_common_flags(app, flags);
  double rate = 0;
  uint64_t count = 0;
  int window = 0;
  uint64_t max_pending = 0;
  double duration = 0;
  double drain = 10;
  std::string feed_path;
  std::optional<uint64_t> seed;
  app.add_option("--rate", rate, "updates per second (overrides cacofonix.rate)")->check(oly::cli::kPositive);
  app.add_option("--count", count, "stop after this many updates (0 = no limit)");
  app.add_option("--window", window, "most updates in flight (overrides cacofonix.window; at most 8192)")
      ->check(CLI::Range(1, 8192));
  app.add_option("--max-pending", max_pending,
                 "produce only while fewer than this many updates are unacknowledged (0 = no limit); with a "
                 "high --rate, Cacofonix then sends as fast as acknowledgements come back");
  app.add_option("--duration", duration, "stop producing after this many seconds (0 = until stopped)")
      ->check(oly::cli::kNonNegative);
  app.add_option("--drain", drain, "when stopping, wait this many seconds for outstanding acknowledgements")
      ->capture_default_str();
  app.add_option("--feed", feed_path, "replay this scripted feed file (overrides cacofonix.feed)");
  app.add_option("--seed", seed, "seed of the random feed (overrides cacofonix.seed)");
  if (const auto rc = oly::cli::parse(app, argc, argv, "cacofonix")) return *rc;

  oly::Config cfg = oly::load_config_or_exit(flags);
  if (rate > 0) cfg.cacofonix.rate = rate;
  if (window > 0) cfg.cacofonix.window = window;
  if (!feed_path.empty()) cfg.cacofonix.feed = feed_path;
  if (seed) cfg.cacofonix.seed = *seed;
  oly::init_logging("cacofonix", cfg.log_level, flags.log_file);
  oly::set_role("publisher");

  std::unique_ptr<oly::Feed> feed;
  try {
    feed = cfg.cacofonix.feed.empty() ? std::make_unique<oly::RandomFeed>(cfg.events, cfg.cacofonix.seed)
                                      : oly::load_script_feed(cfg.cacofonix.feed, cfg.events);
  } catch (const oly::FeedError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }

  std::filesystem::create_directories(cfg.run_dir);
  const std::string ack_path = cfg.in_run_dir(cfg.cacofonix.ack_log);
  const bool fresh = !std::filesystem::exists(ack_path);
  std::ofstream ack_log(ack_path, std::ios::app);
  if (!ack_log) {
    std::fprintf(stderr, "error: cannot write the ack log %s\n", ack_path.c_str());
    return 1;
  }
  if (fresh) ack_log << oly::ack_csv_header() << '\n';

  const std::string publisher = cfg.cacofonix.id + "-" + oly::incarnation_suffix();
  oly::SteadyClock clock;
  oly::ZmqOptions options;
  options.curve = oly::node_curve_or_exit(cfg, oly::KeyRole::kPublisher, cfg.cacofonix.id);
  oly::ZmqTransport transport(publisher, options);
  oly::add_cluster_peers(transport, cfg);
  for (const auto& f : cfg.frontends) transport.subscribe(f.id, "publisher");
  oly::PublisherCore core(cfg, publisher, std::move(feed), {cfg.cacofonix.rate, count, max_pending}, clock);
  if (cfg.byzantine) core.set_signing_key(oly::byzantine::publisher_key_or_exit(cfg, oly::byzantine::KeyUse::kSign));
  oly::Node node(core, transport, clock);
  spdlog::info("publishing as {} at {}/s to {} ({} feed)", publisher, cfg.cacofonix.rate, core.target(),
               cfg.cacofonix.feed.empty() ? "random" : cfg.cacofonix.feed);

  // GET /metrics (docs/api.md), when the config gives an address.
  oly::metrics::Histogram ack_latency;
  std::unique_ptr<oly::MetricsEndpoint> metrics;
  if (!cfg.cacofonix.metrics.empty()) {
    try {
      metrics = std::make_unique<oly::MetricsEndpoint>(cfg.cacofonix.metrics, [&] {
        return oly::metrics_text(core.stats(), {"unacknowledged", "in_flight"},
                                 {{"ack_latency_seconds", "Updates, first send to acknowledgement", &ack_latency}});
      });
      transport.watch_fd(metrics->fd());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
  }
  const auto& stop = oly::install_stop_signals();
  const oly::TimePoint start = clock.now();
  oly::TimePoint next_report = start;
  std::optional<oly::TimePoint> drain_until;
  const std::string stats_path = cfg.in_run_dir("cacofonix.stats");
  while (true) {
    const oly::TimePoint wake = node.step();
    write_acks(ack_log, core.take_acks(), ack_latency);
    if (metrics) metrics->serve();
    const oly::TimePoint now = clock.now();
    if (!drain_until && (stop.load() || (duration > 0 && now - start >= oly::Duration(static_cast<int64_t>(duration * 1e6))))) {
      core.stop_producing();
      drain_until = now + oly::Duration(static_cast<int64_t>((stop.load() ? std::min(drain, 2.0) : drain) * 1e6));
    }
    if (now >= next_report) {
      oly::write_stats_file(stats_path, core.stats());
      next_report = now + oly::ms(1000);
    }
    if (core.finished() || (drain_until && now >= *drain_until)) break;
    transport.wait(std::min<oly::Duration>(wake > now ? wake - now : oly::Duration(0), oly::ms(50)));
  }
  oly::write_stats_file(stats_path, core.stats());
  const auto s = core.stats();
  spdlog::info("done: {} produced, {} acknowledged ({} duplicates), {} unacknowledged", s.counters.at("produced"),
               s.counters.at("acked"), s.counters.at("duplicates"), core.unacknowledged());
  std::printf("cacofonix: %lld updates acknowledged, %zu unacknowledged\n",
              static_cast<long long>(s.counters.at("acked")), core.unacknowledged());
  return core.unacknowledged() == 0 ? 0 : 1;
}
