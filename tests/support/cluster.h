// ProcessCluster: the real binaries of one cluster, started by a process test on free loopback
// ports in a temporary directory, and always killed when the object goes away.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace oly::testing {

// For tests that judge consistency, not failover: heartbeat and tablet request timeouts (1.5 s)
// long enough that a process of a shared CI host descheduled for a few hundred ms neither looks
// dead nor fails reads.
void tolerate_descheduling(Config& c);

class ProcessCluster {
 public:
  // A cluster config on free ports with run_dir in a fresh TempDir; `tweak` may adjust it. With
  // `security: curve`, every node's key pair is made in the run directory, and ask() (and any
  // request_all of this process) speaks with the operator's key; with byzantine: true, the
  // publisher's signing keys too.
  explicit ProcessCluster(const std::function<void(Config&)>& tweak = {});

  const Config& config() const { return cfg_; }
  const std::string& config_path() const { return config_path_; }
  std::string run_file(const std::string& name) const { return cfg_.in_run_dir(name); }

  // Starts the database / a front end and waits until it answers `stats`; fails the test
  // (ADD_FAILURE, returning false) with the log's tail when it does not within 5 s. With
  // database.replicas, start_database starts every replica and waits until one leads.
  bool start_database();
  bool start_replica(const std::string& id);
  // Starts a new replica `id` on a free port that joins the running tier through replica `via`
  // (database --join); true once it answers.
  bool join_replica(const std::string& id, const std::string& via);
  // Starts front end `id` with a copy of the config whose database.replicas lists only `replica`
  // (it must learn the others from the tier).
  bool start_frontend_knowing(const std::string& id, const std::string& replica);
  // The replica that leads and is ready to serve (asked by `stats`), or "" when none answers so.
  std::string db_leader();
  // `extra`: more arguments (e.g. --traitor flip).
  bool start_frontend(const std::string& id, const std::vector<std::string>& extra = {});
  // Starts Cacofonix / the tablet process with extra arguments (e.g. --duration 5). `name`: the
  // child's name (its log is <name>.log), for a second publisher at once.
  void start_cacofonix(const std::vector<std::string>& args, const std::string& name = "cacofonix");
  void start_tablets(const std::vector<std::string>& args);

  Child* child(const std::string& name);
  // Sends `sig` to a node; with SIGKILL also waits for it and forgets it.
  void signal(const std::string& name, int sig);
  // Waits for a client (cacofonix, tablets) to exit; returns its status.
  std::optional<int> wait(const std::string& name, Duration timeout);

  // A request to a server by its config id ("db", "fe1", ...).
  std::optional<Message> ask(const std::string& node, Body body, Duration timeout = ms(2000));
  std::string log_tail(const std::string& name, int lines = 20) const;

 private:
  bool start_server(const std::string& name, std::vector<std::string> argv);
  std::string address_of(const std::string& node) const;

  TempDir dir_;
  Config cfg_;
  std::string config_path_;
  std::map<std::string, std::string> joined_;  // replicas started with join_replica -> address
  std::map<std::string, std::unique_ptr<Child>> children_;
};

}  // namespace oly::testing
