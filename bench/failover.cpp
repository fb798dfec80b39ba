// bench_failover: measure failover. Starts a cluster in its own run directory, kill -9s front ends
// again and again (the master, a non-master, or both in turn), restarts each, then prints the
// windows clients went without service and writes failover.json (bench/support/failover_run.h).
// The bench/failover script runs it at two heartbeat settings; bench/run reads its JSON.
//
// Exit status: 0, or 1 when the run ended early (the cluster did not settle) or could not start;
// 2 for a bad flag or config; 130 when interrupted (the cluster is stopped).
#include <CLI/CLI.hpp>

#include <iostream>

#include "common/cli.h"
#include "common/config_file.h"
#include "bench/support/failover_run.h"
#include "common/node.h"
#include "common/shell.h"
#include "olympics/cluster.h"

int main(int argc, char** argv) {
  using namespace oly;
  CLI::App app{
      "bench_failover: measure failover: kill -9 front ends again and again, then report the "
      "windows",
      "bench_failover"};
  CommonFlags common;
  bench::FailoverOptions o;
  app.add_option("-c,--config", common.config, "cluster configuration file (YAML)")->capture_default_str();
  app.add_option("--run-dir", common.run_dir,
                 "the run directory (default <run_dir>/failover-<date-time>)");
  app.add_option("--consistency", o.consistency, "push or pull for every front end (default: the config's)")
      ->check(CLI::IsMember({"push", "pull"}));
  app.add_option("--tablets", o.tablets, "number of logical tablets")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--rate", o.rate, "Cacofonix's updates per second")
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  app.add_option("--kills", o.kills, "how many kills")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--interval-ms", o.interval_ms, "heartbeat.interval_ms (default: the config's)")
      ->check(CLI::Range(1, 60000));
  app.add_option("--timeout-ms", o.timeout_ms,
                 "heartbeat.timeout_ms: silence before a peer is suspected (default: the config's; "
                 "at least twice the interval)")
      ->check(CLI::Range(1, 600000));
  app.add_option("--target", o.target,
                 "what to kill: master, nonmaster, or both (alternating, master first) front ends, or "
                 "dbleader (the database leader of a replicated tier)")
      ->check(CLI::IsMember({"master", "nonmaster", "both", "dbleader"}))
      ->capture_default_str();
  app.add_option("--down-ms", o.down_ms, "how long a killed front end stays down after the takeover")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--quiet-ms", o.quiet_ms, "how long the cluster must be steady before each kill")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_flag("--clean", o.clean, "delete an earlier run's records and logs in --run-dir first");
  app.footer(
      "Starts a cluster in its own run directory with a derived config (failover.yaml there), then\n"
      "K times: waits until it is steady (the first front end is master, every front end serves),\n"
      "kill -9s the master or a non-master, waits for the takeover, restarts it after --down-ms\n"
      "and waits for the handoff back. Then stops the cluster and prints, from acks.csv and\n"
      "reads.csv, p50/p99/max of the publisher windows (first ack after the kill; longest ack\n"
      "wait), the killed front end's tablets' windows (first ok read after the kill; read wait)\n"
      "and the handoff gap (longest ack gap after the restart), against heartbeat.timeout_ms;\n"
      "failover.json in the run directory has every kill.");
  if (const auto rc = oly::cli::parse(app, argc, argv, "bench_failover")) return *rc;

  const Config base = load_config_or_exit(common);
  const std::string run_dir = olympics::dated_run_dir(base, !common.run_dir.empty(), "failover");
  const std::atomic<bool>& stop = install_stop_signals();
  return olympics::exit_status_of([&] { return bench::run_failover(base, o, run_dir, stop, std::cout); },
                                  "the cluster has been stopped");
}
