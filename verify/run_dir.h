// A run directory as its processes leave it: where each file is, and the two small files the
// loader (load.h) reads besides the CSV logs and the database.
//
// Files, under the run directory D: D/<node>.log (stdout and stderr), D/<node>.stats (a node's
// latest Stats, one encoded Message frame, refreshed every second), D/pids/<node>.pid and
// D/pids/<node>.cmd (the exact argv, one argument per line), and D/events.csv (every start,
// signal and stop the olympics tool did, see events.h) and D/added-replicas.txt (the replicas
// `olympics db add` started). The ack log, the tablets' history and
// the database file are named by the run's config (common/config.h).
//
// Errors: none thrown; a missing or unreadable file is nullopt.
//
// Thread-safety: plain values and free functions.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"

namespace oly::verify {

// Where a cluster's files live. `dir` should be absolute so that paths survive a change of
// working directory (restart reuses them).
struct RunLayout {
  std::filesystem::path dir;
  std::filesystem::path pids_dir() const { return dir / "pids"; }
  std::filesystem::path pid_file(const std::string& node) const {
    return pids_dir() / (node + ".pid");
  }
  std::filesystem::path cmd_file(const std::string& node) const {
    return pids_dir() / (node + ".cmd");
  }
  std::filesystem::path log_file(const std::string& node) const { return dir / (node + ".log"); }
  std::filesystem::path stats_file(const std::string& node) const {
    return dir / (node + ".stats");
  }
  // What the tool did to the nodes, for the checker (events.h).
  std::filesystem::path events_file() const { return dir / "events.csv"; }
  // The replicas `olympics db add` started, one "<name> <address>" line each.
  std::filesystem::path added_replicas_file() const { return dir / "added-replicas.txt"; }
};

// A replica added at run time (RunLayout::added_replicas_file).
struct AddedReplica {
  std::string name;
  std::string address;
};

// The added replicas recorded in `path`, in the order they were added; empty when the file is
// missing.
std::vector<AddedReplica> read_added_replicas(const std::filesystem::path& path);

// The argv saved in an argv file (one argument per line); nullopt when missing or empty.
std::optional<std::vector<std::string>> read_argv_file(const std::string& path);

// The Stats a node last wrote to `path` (one encoded Message frame), or nullopt when the file
// is missing or does not hold a Stats message.
std::optional<Stats> read_stats_file(const std::filesystem::path& path);

}  // namespace oly::verify
