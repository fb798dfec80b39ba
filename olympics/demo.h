// The demo: bring a cluster up, show it working for a while (scoreboard, roles, tablets per front
// end, updates acknowledged, reads per second), bring it down and judge the run: the summary, then
// the checker's verdict on the whole run (check.h) when the run directory held no earlier run.
//
// The loop is a timeline: at each whole second it runs what is due (a view every
// `view_every_s`); timed actions such as killing a node at a given second belong there.
// A raised stop flag (SIGINT/SIGTERM) ends the run early; the cluster is always brought down.
//
// Thread-safety: one thread.
#pragma once

#include <atomic>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/message.h"
#include "olympics/cluster.h"
#include "olympics/status.h"

namespace oly::olympics {

struct DemoOptions {
  int duration_s = 30;                     // how long the cluster runs
  int tablets = 50;                        // logical tablets
  std::optional<std::string> consistency;  // push or pull (default: the config's)
  int view_every_s = 3;                    // seconds between live views
  bool kill_master = true;                 // kill -9 the home master at 1/3 of the run, restart it at 2/3;
                                           // with replicas, also the database leader at 1/2, back at 5/6
};

// What the demo judges the run by, taken just before the cluster goes down.
struct DemoSummary {
  int64_t acked = 0;     // updates Cacofonix had acknowledged
  int64_t reads_ok = 0;  // tablet reads that succeeded
  int64_t reads_failed = 0;
  std::vector<std::pair<std::string, int64_t>> tablets;  // tablets per front end, config order
  bool interrupted = false;
  bool passed() const { return !interrupted && acked > 0 && reads_ok > 0; }
};

// The demo's last line: "demo: PASS: ..." when updates were acknowledged, reads succeeded and the
// checker found no guarantee broken (`broken`: the names of those it found broken; nullopt when it
// could not judge), else "demo: FAIL: <every reason>". `judged` false: the checker was not run
// (the run directory held earlier runs), which the line says.
std::string format_verdict(const DemoSummary& s, const std::optional<std::vector<std::string>>& broken,
                           const std::string& run_dir, bool judged = true);

// Runs the demo on `cluster` and returns the exit status: 0 when updates were acknowledged, reads
// succeeded and the checker found no guarantee broken, 1 otherwise (or when `up` failed), 130 when
// interrupted.
int run_demo(Cluster& cluster, const DemoOptions& options, const std::atomic<bool>& stop,
             std::ostream& out);

// The live view: the scoreboard (`board`, from front end `source`; null when none answered), then
// one line per front end and the clients' progress, from `rows`. `elapsed_s` heads it.
std::string format_view(int elapsed_s, const Scoreboard* board, const std::string& source,
                        const std::vector<NodeStatus>& rows);

// The summary printed at the end, ending with the verdict line.
DemoSummary summarize(const std::vector<NodeStatus>& rows);
std::string format_summary(const DemoSummary& s, int ran_s);

}  // namespace oly::olympics
