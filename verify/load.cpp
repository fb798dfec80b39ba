#include "verify/load.h"

#include "common/config_file.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
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

std::string config_of(const fs::path& run_dir, const std::vector<std::vector<std::string>>& argvs) {
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

// The database's nodes: the configured ones, and of a replicated tier those added at run time.
std::vector<std::string> database_names(const Config& cfg, const RunLayout& layout) {
  std::vector<std::string> out = cfg.database_ids();
  if (cfg.replicated()) {
    for (const auto& added : read_added_replicas(layout.added_replicas_file())) out.push_back(added.name);
  }
  return out;
}

// The database's history and final state, into `r`. Of a replicated tier, every replica's file
// (the configured ones and those added at run time): a replica's history lacks what came before a
// snapshot it installed, and what was committed after it last heard from the leader, so the
// history is the union, each update at the earliest time a replica applied it (replicas apply in
// log order on one clock, so the union keeps that order). The final state is the most advanced
// replica's: the highest sum of versions, as versions only grow along the log.
void read_database(const Config& cfg, const RunLayout& layout, RunRecords& r) {
  std::vector<std::string> files;
  for (const auto& id : database_names(cfg, layout)) files.push_back(cfg.database_file(id));
  std::map<std::pair<std::string, uint64_t>, database::AppliedUpdate> history;
  bool found = false;
  uint64_t most_advanced = 0;
  for (const auto& path : files) {
    if (!fs::exists(path)) continue;
    database::SqliteStore store(path);
    for (auto& u : store.applied_log()) {
      auto [it, fresh] = history.try_emplace({u.publisher, u.seq}, u);
      if (!fresh && u.committed_at_us < it->second.committed_at_us) it->second.committed_at_us = u.committed_at_us;
    }
    auto scores = store.scores();
    auto tallies = store.tallies();
    uint64_t versions = 0;
    for (const auto& s : scores) versions += s.version;
    for (const auto& t : tallies) versions += t.version;
    if (found && versions <= most_advanced) continue;
    found = true;
    most_advanced = versions;
    r.scores = std::move(scores);
    r.tallies = std::move(tallies);
  }
  if (!found) throw std::runtime_error(files.front() + ": no database file");
  if (cfg.replication == Replication::kGossip) {
    std::set<std::string> removed;
    for (const auto& path : files) {
      if (!fs::exists(path)) continue;
      database::SqliteStore store(path);
      for (const auto& m : store.gossip_members()) {
        if (m.removed) removed.insert(m.id);
      }
    }
    for (const auto& id : cfg.database_ids()) {
      const std::string path = cfg.database_file(id);
      if (removed.contains(id) || !fs::exists(path)) continue;
      database::SqliteStore store(path);
      r.replicas.push_back({id, store.applied_in_record_order(), store.scores(), store.tallies()});
    }
  }
  r.applied.clear();
  for (auto& [ps, u] : history) r.applied.push_back(std::move(u));
  std::stable_sort(r.applied.begin(), r.applied.end(), [](const database::AppliedUpdate& a, const database::AppliedUpdate& b) {
    return a.committed_at_us < b.committed_at_us;
  });
}

}  // namespace

std::string run_config_path(const std::string& run_dir) {
  const fs::path dir = fs::absolute(run_dir);
  return config_of(dir, saved_argvs(dir));
}

LoadedRun load_run(const std::string& run_dir, const std::optional<std::string>& config_path,
                   Duration pull_slack) {
  const fs::path dir = fs::absolute(run_dir);
  if (!fs::is_directory(dir)) throw std::runtime_error(run_dir + ": no such run directory");
  const auto argvs = saved_argvs(dir);
  LoadedRun run;
  run.config_path = config_path ? *config_path : config_of(dir, argvs);
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
  if (cfg.database.history_keep > 0) {
    throw std::runtime_error(cfg.source + ": database.history_keep is " + std::to_string(cfg.database.history_keep) +
                             ": the database kept only its last updates, so no run of this config can be checked "
                             "(set it to 0 to keep the whole history)");
  }
  const RunLayout layout{fs::path(cfg.run_dir)};
  read_database(cfg, layout, r);
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
  in.byzantine = cfg.byzantine;
  in.pull_bound = ms(cfg.pull.longest_ttr_ms()) + ms(10) + pull_slack;
  in.detect = ms(cfg.heartbeat.timeout_ms);
  in.settle = ms(cfg.heartbeat.settle_ms);
  in.read_interval = ms(cfg.tablets.read_interval_ms + cfg.tablets.jitter_ms);
  in.tablet_timeout = ms(cfg.tablets.request_timeout_ms);
  in.events = failures_from_events(records.events, in.frontends, database_names(cfg, RunLayout{fs::path(cfg.run_dir)}),
                                   records.acks);
  in.acks = std::move(records.acks);
  in.reads = std::move(records.reads);
  in.applied = std::move(records.applied);
  in.scores = std::move(records.scores);
  in.tallies = std::move(records.tallies);
  in.replicas = std::move(records.replicas);
  // A replica down at the run's end (killed and not restarted) lacks what came after: its record
  // is not judged.
  for (const auto& f : in.events.failures) {
    if (!f.back) std::erase_if(in.replicas, [&](const CheckInput::ReplicaRecord& r) { return r.replica == f.node; });
  }
  return in;
}

}  // namespace oly::verify
