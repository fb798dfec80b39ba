#include "common/shell.h"

#include "common/config_file.h"
#include "common/log_setup.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace oly {

void add_common_flags(CLI::App& app, CommonFlags& flags) {
  app.add_option("-c,--config", flags.config, "cluster configuration file (YAML)")->capture_default_str();
  app.add_option("--consistency", flags.consistency, "cache consistency: push or pull (overrides the config)")
      ->check(CLI::IsMember({"push", "pull"}));
  app.add_option("--run-dir", flags.run_dir, "directory for data, logs and records (overrides the config)");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn or error (overrides the config)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-file", flags.log_file, "write the log to this file instead of stderr");
}

Config load_config_or_exit(const CommonFlags& flags) {
  try {
    Config c = load_config(flags.config);
    if (!flags.consistency.empty()) c.consistency = flags.consistency == "pull" ? Consistency::kPull : Consistency::kPush;
    if (!flags.run_dir.empty()) c.run_dir = flags.run_dir;
    if (!flags.log_level.empty()) c.log_level = flags.log_level;
    validate(c);
    return c;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::exit(2);
  }
}

std::optional<CurveOptions> node_curve_or_exit(const Config& c, KeyRole role, const std::string& name,
                                               std::optional<ServerKind> server) {
  try {
    return node_curve(c, role, name, server);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::exit(2);
  }
}

void add_link_counts(Stats& s, const ZmqTransport& t) {
  s.counters["zmq_frames_dropped"] = static_cast<int64_t>(t.frames_dropped());
  s.counters["zmq_connections_refused"] = static_cast<int64_t>(t.connections_refused());
  s.counters["zmq_frames_refused"] = static_cast<int64_t>(t.frames_refused());
  s.counters["zmq_frames_spoofed"] = static_cast<int64_t>(t.frames_spoofed());
}

void add_cluster_peers(ZmqTransport& t, const Config& c) {
  for (const auto& d : c.database_nodes()) t.add_peer(d.id, d.address);
  for (const auto& f : c.frontends) t.add_peer(f.id, f.address, f.pub);
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return g_stop;
}

void run_loop(Node& node, ZmqTransport& t, const Clock& clock, Duration max_wait,
              const std::function<void(TimePoint)>& every_second, const std::function<void()>& every_pass) {
  const auto& stop = install_stop_signals();
  run_until(node, t, clock, [&](TimePoint) { return stop.load(); }, max_wait, every_second, every_pass);
}

void run_until(Node& node, ZmqTransport& t, const Clock& clock, const std::function<bool(TimePoint)>& done,
               Duration max_wait, const std::function<void(TimePoint)>& every_second,
               const std::function<void()>& every_pass) {
  TimePoint next_second = clock.now();
  std::string role;
  while (!done(clock.now())) {
    const TimePoint wake = node.step();
    if (every_pass) every_pass();
    // The core's role goes on every log line; the core only says what it is (no global state).
    if (const auto r = node.core().role_name(); !r.empty() && r != role) {
      role = std::string(r);
      set_role(role);
    }
    const TimePoint now = clock.now();
    if (every_second && now >= next_second) {
      every_second(now);
      next_second = now + ms(1000);
    }
    // Even when the node is due again at once, a wait of 0: it is what tells the transport which
    // sockets and side servers have something (ZmqTransport::receive asks only those).
    t.wait(wake > now ? std::min<Duration>(wake - now, max_wait) : Duration(0));
  }
}

}  // namespace oly

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/codec.h"

namespace oly {

void write_stats_file(const std::string& path, const Stats& stats) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out << encode(Message{0, stats});
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
}

std::string incarnation_suffix() {
  const auto t = std::chrono::system_clock::now().time_since_epoch();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d-%llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::milliseconds>(t).count() & 0xffffff));
  return buf;
}

}  // namespace oly
