// The database binary: a thin shell that runs the database tier's core over ZeroMQ and one SQLite
// file. With database.replicas in the config it runs replica --id of the replicated tier
// (ReplicaCore over Raft); without, the single database (DatabaseCore).
// Exit status: 0 after SIGINT/SIGTERM, 1 when the file cannot be opened or the address bound,
// 2 on a bad config or flag, 3 when a replica's storage failed while running (restart it: it
// rebuilds its state from its log, as after a crash).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/log_setup.h"
#include "common/shell.h"
#include "database/database_core.h"
#include "database/replica_core.h"
#include "database/sqlite_store.h"

namespace {

[[noreturn]] void die(const std::string& what, int status = 1) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(status);
}

// Logs how well group commit did over the whole run (bench/update reads this line).
void log_batches(oly::Counters& counters) {
  const int64_t applied = counters["updates_applied"], batches = counters["batches"];
  spdlog::info("stopped: {} updates applied in {} transactions ({:.1f} per transaction)", applied, batches,
               batches > 0 ? static_cast<double>(applied) / static_cast<double>(batches) : 0.0);
}

int run_single(const oly::Config& config) {
  const std::string path = config.database_file(config.database.id);
  std::unique_ptr<oly::database::SqliteStore> store;
  std::unique_ptr<oly::ZmqTransport> transport;
  oly::MasterInfo master;
  try {
    store = std::make_unique<oly::database::SqliteStore>(path);
    // The database only answers: replies leave through its ROUTER, so it knows no peers.
    oly::ZmqOptions options;
    options.bind = config.database.address;
    transport = std::make_unique<oly::ZmqTransport>(config.database.id, options);
    master = store->master();
  } catch (const std::runtime_error& e) {
    die(e.what());
  }
  spdlog::info("serving {} on {}; master '{}' at epoch {}", path, config.database.address, master.frontend,
               master.epoch);
  oly::SteadyClock clock;
  oly::database::DatabaseCore core(config, *store, clock);
  oly::Node node(core, *transport, clock);
  oly::run_loop(node, *transport, clock);
  log_batches(core.counters());
  return 0;
}

int run_replica(const oly::Config& config, const std::string& id) {
  const oly::ReplicaConfig* me = config.replica(id);
  if (me == nullptr) {
    std::string known;
    for (const auto& r : config.database.replicas) known += (known.empty() ? "" : ", ") + r.id;
    die(config.source + ": database.replicas: no replica with id '" + id + "' (known: " + known + ")", 2);
  }
  const std::string path = config.database_file(id);
  oly::SteadyClock clock;
  std::unique_ptr<oly::database::SqliteStore> store;
  std::unique_ptr<oly::ZmqTransport> transport;
  std::unique_ptr<oly::database::ReplicaCore> core;
  try {
    store = std::make_unique<oly::database::SqliteStore>(path);
    oly::ZmqOptions options;
    options.bind = me->address;
    transport = std::make_unique<oly::ZmqTransport>(id, options);
    for (const auto& r : config.database.replicas) {
      if (r.id != id) transport->add_peer(r.id, r.address);
    }
    const auto seed = static_cast<uint64_t>(oly::to_us(clock.now())) ^ (static_cast<uint64_t>(::getpid()) << 32);
    core = std::make_unique<oly::database::ReplicaCore>(config, id, *store, clock, clock.now(), seed);
  } catch (const std::runtime_error& e) {
    die(e.what());
  }
  const auto& raft = core->consensus();
  spdlog::info("replica {} of {} serving {} on {}, pid {}; log up to index {} at term {}", id,
               config.database.replicas.size(), path, me->address, ::getpid(), raft.last_index(), raft.term());
  oly::Node node(*core, *transport, clock);
  try {
    oly::run_loop(node, *transport, clock, oly::ms(std::max(1, config.database.raft_heartbeat_ms / 4)));
  } catch (const std::runtime_error& e) {
    spdlog::critical("{}", e.what());
    die(e.what(), 3);
  }
  log_batches(core->counters());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"database — the database tier of the Olympic scores cluster"};
  oly::CommonFlags flags;
  std::string id;
  oly::add_common_flags(app, flags);
  app.add_option("--id", id, "which of database.replicas this process is (replicated tier only)");
  CLI11_PARSE(app, argc, argv);

  const oly::Config config = oly::load_config_or_exit(flags);
  if (config.replicated() && id.empty()) die(config.source + ": database.replicas: give --id (one of them)", 2);
  if (!config.replicated() && !id.empty() && id != config.database.id) {
    die("--id '" + id + "': the config has a single database '" + config.database.id + "', not replicas", 2);
  }
  oly::init_logging(config.replicated() ? id : config.database.id, config.log_level, flags.log_file);
  oly::set_role("database");

  std::error_code ec;
  std::filesystem::create_directories(config.run_dir, ec);
  if (ec) die("cannot create run_dir '" + config.run_dir + "': " + ec.message());
  return config.replicated() ? run_replica(config, id) : run_single(config);
}
