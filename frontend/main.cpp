// frontend: one stone server. Thin shell over FrontendCore (see frontend_core.h).
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/log_setup.h"
#include "common/shell.h"
#include "frontend/frontend_core.h"

int main(int argc, char** argv) {
  CLI::App app{"frontend: a caching front end (stone server) of the Olympic scores cluster"};
  oly::CommonFlags flags;
  std::string id;
  oly::add_common_flags(app, flags);
  app.add_option("--id", id, "this front end's id in the config (e.g. fe1)")->required();
  CLI11_PARSE(app, argc, argv);

  const oly::Config cfg = oly::load_config_or_exit(flags);
  const oly::FrontendConfig* me = cfg.frontend(id);
  if (me == nullptr) {
    std::fprintf(stderr, "error: %s: frontends: no front end with id '%s'\n", cfg.source.c_str(), id.c_str());
    return 2;
  }
  oly::init_logging(id, cfg.log_level, flags.log_file);
  try {
    oly::SteadyClock clock;
    oly::ZmqOptions options;
    options.bind = me->address;
    options.pub_bind = me->pub;
    options.report_lost_peers = true;  // a dead database leader's requests go elsewhere at once
    oly::ZmqTransport transport(id, options);
    oly::add_cluster_peers(transport, cfg);
    // Request ids start from the start time so that a restarted incarnation never reuses them.
    oly::FrontendCore core(cfg, id, static_cast<uint64_t>(oly::to_us(clock.now())) << 8);
    spdlog::info("front end {} listening on {} (notices on {}), {} consistency, pid {}", id, me->address, me->pub,
                 oly::to_string(cfg.consistency), ::getpid());
    oly::Node node(core, transport, clock);
    // The stats file lets `olympics freshness` read the counters after the front end is gone.
    const std::string stats_path = cfg.in_run_dir(id + ".stats");
    std::filesystem::create_directories(cfg.run_dir);
    oly::run_loop(node, transport, clock, oly::ms(100),
                  [&](oly::TimePoint now) { oly::write_stats_file(stats_path, core.stats(now)); });
    oly::write_stats_file(stats_path, core.stats(clock.now()));
    spdlog::info("stopping");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
