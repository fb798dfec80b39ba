// What was done to a cluster, and the failures that follows from it.
//
// Every start, signal and stop that the olympics tool (Cluster) does to a node is appended to
// <run_dir>/events.csv, one line per action with the steady-clock time just before it was done:
//
//   at_us,node,action
//   81234567890,fe1,start
//   81239567890,fe1,kill        (SIGKILL; term, int, stop, cont for the other signals)
//   81240567890,fe1,start       (a restart)
//   81250567890,fe1,down        (the graceful stop of `olympics down`)
//
// The checker turns these into failures: a kill (or term, or int) of a front end or the database
// opens a failure that its next start closes; a stop (SIGSTOP, a paused process) opens one that
// its next cont closes. `down` ends the run and is not a failure. Clients (cacofonix, tablets) are
// not failures the checker judges.
//
// Errors: read_events throws std::runtime_error "<path>:<line>: ..." on a malformed line;
// append_event throws when the file cannot be written.
//
// Thread-safety: plain values and free functions; append_event appends one whole line per call.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/records.h"

namespace oly::verify {

struct ClusterEvent {
  TimePoint at;
  std::string node;
  std::string action;  // start, kill, term, int, stop, cont or down
};

// The action word for a signal number (SIGKILL -> "kill"), or "signal <n>" for another.
std::string action_for_signal(int sig);

void append_event(const std::string& path, const ClusterEvent& e);
// The events of the file in file order; an absent file gives none.
std::vector<ClusterEvent> read_events(const std::string& path);

// One failure of a server.
struct Failure {
  std::string node;
  bool database = false;    // the database; otherwise a front end
  std::string how;          // how it went: "kill" (-9), "term" or "int" (a clean stop), "pause" (SIGSTOP)
  bool was_master = false;  // a front end that acknowledged the last update before `at`
  TimePoint at;
  std::optional<TimePoint> back;  // restarted (kill) or continued (pause); nullopt: never
};

struct RunEvents {
  std::vector<Failure> failures;  // in time order
  std::optional<TimePoint> start; // the first start event
  std::optional<TimePoint> end;   // the first down event after the last start (nullopt: none)
};

// The failures of the servers `frontends` and `database_ids` (the database or its replicas; see the file comment). `acks` tells
// which front end was master when one failed.
RunEvents failures_from_events(const std::vector<ClusterEvent>& events,
                               const std::vector<std::string>& frontends,
                               const std::vector<std::string>& database_ids,
                               const std::vector<AckRecord>& acks);

}  // namespace oly::verify
