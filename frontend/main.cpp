// frontend: one stone server. Thin shell over FrontendCore (see frontend_core.h).
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "byzantine/signing_key_files.h"
#include "byzantine/traitor.h"
#include "common/cli.h"
#include "api/gateway.h"
#include "common/http_listen.h"
#include "common/log_setup.h"
#include "common/metrics_page.h"
#include "common/shell.h"
#include "frontend/frontend_core.h"
#include "http/server.h"
#include "tabletnet/server.h"

namespace {

// GET /metrics: the core's stats, its latencies and the API's, the tablet port's and the ZeroMQ
// links' own counts.
std::string metrics_text(const oly::FrontendCore& core, const oly::api::ApiGateway& api,
                         const oly::tabletnet::TabletServer* tcp, const oly::ZmqTransport& transport,
                         oly::TimePoint now) {
  oly::Stats s = core.stats(now);
  oly::add_link_counts(s, transport);
  if (tcp != nullptr) {
    const auto& n = tcp->counts();
    s.counters["tcp_connections"] = static_cast<int64_t>(tcp->connections());
    s.counters["tcp_accepted"] = static_cast<int64_t>(n.accepted);
    s.counters["tcp_frames_in"] = static_cast<int64_t>(n.frames_in);
    s.counters["tcp_frames_out"] = static_cast<int64_t>(n.frames_out);
    s.counters["tcp_answered_on_the_spot"] = static_cast<int64_t>(n.answered_on_the_spot);
    s.counters["tcp_refused_full"] = static_cast<int64_t>(n.refused_full);
    s.counters["tcp_refused_ops"] = static_cast<int64_t>(n.refused_ops);
    s.counters["tcp_closed_bad_frame"] = static_cast<int64_t>(n.closed_bad_frame);
    s.counters["tcp_closed_slow"] = static_cast<int64_t>(n.closed_slow);
    s.counters["tcp_closed_idle"] = static_cast<int64_t>(n.closed_idle);
  }
  s.counters["http_requests"] = static_cast<int64_t>(api.requests());
  s.counters["http_refused"] = static_cast<int64_t>(api.refused());
  s.counters["http_timed_out"] = static_cast<int64_t>(api.timed_out());
  s.counters["event_streams"] = static_cast<int64_t>(api.streams());
  s.counters["stream_events"] = static_cast<int64_t>(api.hub().events_sent());
  s.counters["stream_snapshots"] = static_cast<int64_t>(api.hub().snapshots_sent());
  static const std::set<std::string> gauges = {"tablets_served", "epoch",        "pending_requests", "cache_size",
                                               "held_acks",      "held_updates", "lease_valid",      "event_streams",
                                               "tcp_connections"};
  const auto& l = core.latencies();
  return oly::metrics_text(s, gauges,
                           {{"read_latency_seconds", "Reads (tablets' and the API's), arrival to answer; 0 for a cache hit", &l.reads},
                            {"fill_latency_seconds", "Cache fills from the master or the database, request to answer", &l.fills},
                            {"ack_latency_seconds", "Updates at the master, arrival to the ack going out", &l.acks}});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"frontend: a caching front end (stone server) of the Olympic scores cluster"};
  oly::CommonFlags flags;
  std::string id;
  oly::add_common_flags(app, flags);
  app.add_option("--id", id, "this front end's id in the config (e.g. fe1)")->required();
  std::string traitor;
  app.add_option("--traitor", traitor,
                 "Byzantine mode's tests and scenarios only: this front end lies in everything it sends, by "
                 "strategy flip, random, silent or equivocate (docs/byzantine.md)");
  if (const auto rc = oly::cli::parse(app, argc, argv, "frontend")) return *rc;

  const oly::Config cfg = oly::load_config_or_exit(flags);
  const oly::FrontendConfig* me = cfg.frontend(id);
  if (me == nullptr) {
    std::fprintf(stderr, "error: %s: frontends: no front end with id '%s'\n", cfg.source.c_str(), id.c_str());
    return 2;
  }
  std::optional<oly::byzantine::Strategy> strategy;
  if (!traitor.empty()) {
    strategy = oly::byzantine::parse_strategy(traitor);
    if (!strategy) {
      std::fprintf(stderr, "error: --traitor: expected flip, random, silent or equivocate\n");
      return 2;
    }
    if (!cfg.byzantine) {
      std::fprintf(stderr, "error: --traitor: %s is not in Byzantine mode (byzantine: true)\n", cfg.source.c_str());
      return 2;
    }
  }
  oly::init_logging(id, cfg.log_level, flags.log_file);
  try {
    oly::SteadyClock clock;
    oly::ZmqOptions options;
    options.bind = me->address;
    options.pub_bind = me->pub;
    options.report_lost_peers = true;  // a dead database leader's requests go elsewhere at once
    options.curve = oly::node_curve_or_exit(cfg, oly::KeyRole::kFrontend, id, oly::ServerKind::kFrontend);
    oly::set_request_curve(options.curve);
    oly::ZmqTransport transport(id, options);
    oly::add_cluster_peers(transport, cfg);
    // Request ids start from the start time so that a restarted incarnation never reuses them.
    oly::FrontendCore core(cfg, id, static_cast<uint64_t>(oly::to_us(clock.now())) << 8);
    if (cfg.byzantine) core.set_publisher_key(oly::byzantine::publisher_key_or_exit(cfg, oly::byzantine::KeyUse::kVerify));
    spdlog::info("front end {} listening on {} (notices on {}), {} consistency, {} links, pid {}", id, me->address,
                 me->pub, oly::to_string(cfg.consistency), oly::to_string(cfg.security), ::getpid());
    // The HTTP API, page and /metrics (api/gateway.h), when the config gives this front end an address.
    std::unique_ptr<oly::http::Server> http;
    std::unique_ptr<oly::api::ApiGateway> api;
    std::unique_ptr<oly::tabletnet::TabletServer> tcp;
    if (!me->http.empty()) {
      http = std::make_unique<oly::http::Server>(
          // HTTP/1.1: browsers keep connections alive; streams last as long as their clients.
          oly::http_listen_options(me->http, "olympics-frontend/1.0", false));
      api = std::make_unique<oly::api::ApiGateway>(transport, *http, clock, cfg, id,
                                                   [&] { return metrics_text(core, *api, tcp.get(), transport, clock.now()); });
      transport.watch_fd(http->fd(), api->readiness());
      core.observe_cache([&api](const std::string& key, uint64_t version, const oly::KeyValue* value) {
        api->on_cache_change(key, version, value);
      });
      spdlog::info("serving the API and the scoreboard page on http://{}/", me->http);
    }
    oly::Transport& outer = api ? static_cast<oly::Transport&>(*api) : transport;
    // The tablets' native TCP port (tabletnet/server.h), when the config gives this front end one.
    if (!me->tcp.empty()) {
      tcp = std::make_unique<oly::tabletnet::TabletServer>(outer, transport.fds(), me->tcp, clock);
      // Cache hits are answered as they are read, without a message or an allocation.
      tcp->set_shortcut([&core, &clock](std::string_view payload, std::string& out) {
        return core.answer_cached_read(payload, clock.now(), out);
      });
      spdlog::info("serving tablets over TCP on {}", me->tcp);
    }
    oly::Transport& wire = tcp ? static_cast<oly::Transport&>(*tcp) : outer;
    // A traitor (tests and scenarios): everything it sends, to front ends, replicas, Cacofonix
    // and tablets alike, goes through its strategy.
    std::unique_ptr<oly::byzantine::TraitorTransport> lies;
    if (strategy) {
      lies = std::make_unique<oly::byzantine::TraitorTransport>(wire, *strategy, static_cast<uint64_t>(::getpid()));
      spdlog::warn("this front end is a TRAITOR: it lies by strategy '{}' in everything it sends",
                   oly::byzantine::strategy_name(*strategy));
    }
    oly::Node node(core, lies ? static_cast<oly::Transport&>(*lies) : wire, clock);
    // The stats file lets `olympics freshness` read the counters after the front end is gone.
    const std::string stats_path = cfg.in_run_dir(id + ".stats");
    std::filesystem::create_directories(cfg.run_dir);
    std::function<void()> after_step;
    if (tcp) after_step = [&tcp] { tcp->flush(); };
    oly::run_loop(node, transport, clock, oly::ms(100),
                  [&](oly::TimePoint now) { oly::write_stats_file(stats_path, core.stats(now)); }, after_step);
    oly::write_stats_file(stats_path, core.stats(clock.now()));
    spdlog::info("stopping");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
