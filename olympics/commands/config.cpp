#include "common/cli.h"
#include "olympics/commands/command.h"

#include "common/config_file.h"

#include <fstream>
#include <iostream>

#include "olympics/cluster.h"

namespace oly::olympics {

namespace {

// `olympics config --out FILE`: the config with the overrides, validated, as YAML.
int cmd_config(const Flags& f) {
  Config c = load_config_or_exit(f.common);
  const int status = exit_status_of([&] {
    if (f.consistency) c.consistency = *f.consistency == "pull" ? Consistency::kPull : Consistency::kPush;
    if (f.tablets) c.tablets.count = *f.tablets;
    if (f.rate) c.cacofonix.rate = *f.rate;
    if (f.interval_ms) c.heartbeat.interval_ms = *f.interval_ms;
    if (f.timeout_ms) c.heartbeat.timeout_ms = *f.timeout_ms;
    if (f.security) c.security = *f.security == "curve" ? Security::kCurve : Security::kPlain;
    if (f.free_ports) c = with_free_ports(std::move(c));
    validate(c);
    return 0;
  });
  if (status != 0) return status;
  const std::string text = "# written by olympics config from " + c.source + "\n" + to_yaml(c);
  if (f.out.empty() || f.out == "-") {
    std::cout << text;
    return 0;
  }
  std::ofstream out(f.out, std::ios::trunc);
  out << text;
  if (!out) {
    std::cerr << "error: cannot write " << f.out << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

Command config_command(CLI::App& app, Flags& f) {
  auto* config = app.add_subcommand(
      "config", "write a config derived from --config with overrides (for scenario scripts)");
  add_config_flags(config, f);
  config->add_option("-o,--out", f.out, "the file to write (default: standard output)");
  config->add_flag("--free-ports", f.free_ports,
                   "move every server to a free port of 127.0.0.1 (runs side by side)");
  add_consistency_flag(config, f);
  config->add_option("--tablets", f.tablets, "tablets.count")->check(CLI::Range(1, 100000));
  config->add_option("--rate", f.rate, "cacofonix.rate")->check(oly::cli::kPositive);
  config->add_option("--interval-ms", f.interval_ms, "heartbeat.interval_ms")
      ->check(CLI::Range(1, 60000));
  config->add_option("--timeout-ms", f.timeout_ms, "heartbeat.timeout_ms")
      ->check(CLI::Range(1, 600000));
  config->add_option("--security", f.security, "security: plain, or curve (CurveZMQ on every link)")
      ->check(CLI::IsMember({"plain", "curve"}));
  return {config, false, [&f](const std::atomic<bool>* stop) {
    (void)stop;
    return cmd_config(f);
  }};
}

}  // namespace oly::olympics
