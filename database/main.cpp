// The database binary: a thin shell that runs DatabaseCore over ZeroMQ and one SQLite file.
// Exit status: 0 after SIGINT/SIGTERM, 1 when the file cannot be opened or the address bound,
// 2 on a bad config or flag.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/log_setup.h"
#include "common/shell.h"
#include "database/database_core.h"
#include "database/sqlite_store.h"

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"database — the database tier of the Olympic scores cluster"};
  oly::CommonFlags flags;
  oly::add_common_flags(app, flags);
  CLI11_PARSE(app, argc, argv);

  const oly::Config config = oly::load_config_or_exit(flags);
  oly::init_logging(config.database.id, config.log_level, flags.log_file);
  oly::set_role("database");

  std::error_code ec;
  std::filesystem::create_directories(config.run_dir, ec);
  if (ec) die("cannot create run_dir '" + config.run_dir + "': " + ec.message());

  const std::string path = config.in_run_dir(config.database.path);
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
  spdlog::info("serving {} on {}; master '{}' at epoch {}", path, config.database.address,
               master.frontend, master.epoch);

  oly::SteadyClock clock;
  oly::database::DatabaseCore core(config, *store, clock);
  oly::Node node(core, *transport, clock);
  oly::run_loop(node, *transport, clock);
  // How well group commit did over the whole run (bench/update reads this line).
  auto& counters = core.counters();
  const int64_t applied = counters["updates_applied"], batches = counters["batches"];
  spdlog::info("stopped: {} updates applied in {} transactions ({:.1f} per transaction)", applied, batches,
               batches > 0 ? static_cast<double>(applied) / static_cast<double>(batches) : 0.0);
  return 0;
}
