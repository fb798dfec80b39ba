#include "verify/load.h"

#include "common/config_file.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "database/sqlite_store.h"
#include "verify/events.h"
#include "verify/run_dir.h"

namespace oly::verify {

namespace fs = std::filesystem;

namespace {

// The value after `flag` in a saved argv, or nullopt.
std::optional<std::string> flag_value(const std::vector<std::string>& argv, const std::string& flag) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return std::nullopt;
}

// The saved argvs of the run's nodes (pids/*.cmd), in name order.
std::vector<std::vector<std::string>> saved_argvs(const fs::path& run_dir) {
  std::vector<std::vector<std::string>> out;
  const fs::path pids = RunLayout{run_dir}.pids_dir();
  if (!fs::is_directory(pids)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(pids)) {
    if (e.path().extension() == ".cmd") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (auto argv = read_argv_file(f.string())) out.push_back(std::move(*argv));
  }
  return out;
}

std::string find_config(const fs::path& run_dir, const std::vector<std::vector<std::string>>& argvs) {
  for (const auto& argv : argvs) {
    if (auto c = flag_value(argv, "--config"); c && fs::exists(*c)) return *c;
  }
  const fs::path fallback = run_dir / "cluster.yaml";
  if (fs::exists(fallback)) return fallback.string();
  throw std::runtime_error("cannot tell which config the run in " + run_dir.string() +
                           " used: no saved command line under " +
                           RunLayout{run_dir}.pids_dir().string() + " names one, and there is no " +
                           fallback.string() + "; pass --config");
}

}  // namespace

LoadedRun load_run(const std::string& run_dir, const std::optional<std::string>& config_path,
                   Duration pull_slack) {
  const fs::path dir = fs::absolute(run_dir);
  if (!fs::is_directory(dir)) throw std::runtime_error(run_dir + ": no such run directory");
  const auto argvs = saved_argvs(dir);
  LoadedRun run;
  run.config_path = config_path ? *config_path : find_config(dir, argvs);
  run.config = load_config(run.config_path);
  Config& cfg = run.config;
  cfg.run_dir = dir.string();
  for (const auto& argv : argvs) {
    const bool frontend = !argv.empty() && fs::path(argv[0]).filename() == "frontend";
    if (auto c = flag_value(argv, "--consistency"); frontend && c) {
      cfg.consistency = *c == "pull" ? Consistency::kPull : Consistency::kPush;
    }
  }

  run.input = check_input(cfg, read_records(cfg), pull_slack);
  return run;
}

RunRecords read_records(const Config& cfg) {
  RunRecords r;
  r.acks = read_ack_log(cfg.in_run_dir(cfg.cacofonix.ack_log));
  if (cfg.tablets.history.empty()) {
    throw std::runtime_error(cfg.source +
                             ": tablets.history is empty, so the run recorded no reads to check");
  }
  r.reads = read_history(cfg.in_run_dir(cfg.tablets.history));
  // The database file; of a replicated tier, the replica file with the longest history (every
  // replica applies the same log; one that installed a snapshot lacks the updates before it).
  bool found = false;
  for (const auto& id : cfg.database_ids()) {
    const std::string db_path = cfg.database_file(id);
    if (!fs::exists(db_path)) continue;
    database::SqliteStore store(db_path);
    auto applied = store.applied_log();
    if (found && applied.size() <= r.applied.size()) continue;
    found = true;
    r.applied = std::move(applied);
    r.scores = store.scores();
    r.tallies = store.tallies();
  }
  if (!found) throw std::runtime_error(cfg.database_file(cfg.database_ids().front()) + ": no database file");
  const RunLayout layout{fs::path(cfg.run_dir)};
  r.events = read_events(layout.events_file().string());
  for (const auto& f : cfg.frontends) {
    if (auto stats = read_stats_file(layout.stats_file(f.id))) r.frontend_stats.emplace(f.id, std::move(*stats));
  }
  return r;
}

CheckInput check_input(const Config& cfg, RunRecords records, Duration pull_slack) {
  CheckInput in;
  in.run_dir = cfg.run_dir;
  in.consistency = cfg.consistency;
  for (const auto& f : cfg.frontends) in.frontends.push_back(f.id);
  const int ttr = cfg.pull.adaptive ? cfg.pull.ttr_max_ms : cfg.pull.ttr_ms;
  in.pull_bound = ms(ttr) + ms(10) + pull_slack;
  in.detect = ms(cfg.heartbeat.timeout_ms);
  in.settle = ms(cfg.heartbeat.settle_ms);
  in.read_interval = ms(cfg.tablets.read_interval_ms + cfg.tablets.jitter_ms);
  in.tablet_timeout = ms(cfg.tablets.request_timeout_ms);
  in.events = failures_from_events(records.events, in.frontends, cfg.database_ids(), records.acks);
  in.acks = std::move(records.acks);
  in.reads = std::move(records.reads);
  in.applied = std::move(records.applied);
  in.scores = std::move(records.scores);
  in.tallies = std::move(records.tallies);
  return in;
}

}  // namespace oly::verify
