#include "olympics/commands/command.h"

#include "common/config_file.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "olympics/process.h"
#include "verify/load.h"

namespace oly::olympics {

void add_config_flags(CLI::App* sub, Flags& f) {
  sub->add_option("-c,--config", f.common.config,
                  "cluster configuration file (YAML); with --run-dir of an earlier run, that run's")
      ->capture_default_str()
      ->each([&f](const std::string&) { f.config_given = true; });
  sub->add_option("--run-dir", f.common.run_dir,
                  "run directory for pid, log and data files (overrides run_dir)");
}

void add_consistency_flag(CLI::App* sub, Flags& f) {
  sub->add_option("--consistency", f.consistency,
                  "push or pull for every front end (default: the config's)")
      ->check(CLI::IsMember({"push", "pull"}));
}

void add_node_arg(CLI::App* sub, Flags& f) {
  sub->add_option("node", f.node,
                  "db (the database), a front end id (fe1, ...), cacofonix or tablets")
      ->required();
}

// Sleeps `seconds`; false when the stop flag was raised meanwhile.
bool sleep_unless_stopped(double seconds, const std::atomic<bool>* stop) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (std::chrono::steady_clock::now() < until) {
    if (stop != nullptr && stop->load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return stop == nullptr || !stop->load();
}


int on_cluster(const Flags& f, const std::atomic<bool>* stop,
               const std::function<int(Cluster&)>& body, const std::string& own_dir) {
  CommonFlags common = f.common;
  if (!f.config_given && !common.run_dir.empty() && std::filesystem::is_directory(common.run_dir)) {
    try {
      common.config = verify::run_config_path(common.run_dir);
    } catch (const std::runtime_error&) {
      // A new run directory, or one without saved command lines: the default config.
    }
  }
  Config cfg = load_config_or_exit(common);
  if (!own_dir.empty()) cfg.run_dir = dated_run_dir(cfg, !f.common.run_dir.empty(), own_dir);
  Cluster cluster(std::move(cfg), f.common.config, self_bin_dir(), std::cout, stop);
  return exit_status_of([&] { return body(cluster); });
}

}  // namespace oly::olympics
