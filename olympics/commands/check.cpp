#include "olympics/commands/command.h"

#include <fstream>
#include <iostream>

#include "verify/check.h"
#include "verify/load.h"
#include "verify/plot.h"
#include "verify/report.h"

namespace oly::olympics {

namespace {

using namespace oly::verify;

// `olympics check RUN_DIR`: prints the verdict, writes RUN_DIR/check.json (and the plot).
int cmd_check(const Flags& f) {
  LoadedRun run;
  try {
    run = load_run(f.check_dir, f.check_config, ms(f.pull_slack_ms));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  const CheckReport report = check_run(run.input);
  std::cout << format_check(report);
  const std::string json_path = run.config.in_run_dir("check.json");
  std::ofstream json(json_path, std::ios::trunc);
  json << check_json(report);
  if (!json) {
    std::cerr << "error: cannot write " << json_path << "\n";
    return 1;
  }
  std::cout << "written " << json_path << "\n";
  if (f.plot) {
    const std::string png = f.plot->empty() ? run.config.in_run_dir("check.png") : *f.plot;
    try {
      plot_timeline(run.input, report, png);
      std::cout << "written " << png << "\n";
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 1;
    }
  }
  return report.passed() ? 0 : 1;
}

}  // namespace

Command check_command(CLI::App& app, Flags& f) {
  auto* check = app.add_subcommand(
      "check", "judge a finished run: lost, duplicate or reordered updates, stale and backwards "
               "reads, unavailability, rebalancing");
  check->footer(
      "Reads RUN_DIR's acks.csv (Cacofonix), reads.csv (tablets), database file and events.csv\n"
      "(what olympics did: kills, pauses, restarts), prints PASS/FAIL per guarantee with the\n"
      "figures and a table of failures, and writes RUN_DIR/check.json. The config is the one the\n"
      "run was started with (from its saved command lines) unless --config is given.\n"
      "Exit status: 0 all guarantees held, 1 one was broken, 2 the run could not be read.");
  check->add_option("run_dir", f.check_dir, "the run directory to judge")->required();
  check->add_option("-c,--config", f.check_config,
                    "the run's config (default: found from the run directory)");
  check->add_option("--plot", f.plot,
                    "also write a PNG timeline (default RUN_DIR/check.png) with gnuplot")
      ->expected(0, 1)
      ->default_str("");
  check
      ->add_option("--pull-slack-ms", f.pull_slack_ms,
                   "pull: allowance for one poll round trip on top of the TTR bound")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  return {check, false, [&f](const std::atomic<bool>* stop) {
    (void)stop;
    return cmd_check(f);
  }};
}

}  // namespace oly::olympics
