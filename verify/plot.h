// The checker's timeline plot: a PNG made with gnuplot (Debian's gnuplot-nox) from a run's
// records, for `olympics check --plot`.
//
// Four panels over seconds since the start of the run (the zero of the checker's table and of the
// scenario scripts' log), titled with the scenario (RUN_DIR/scenario.txt, when a scenario script
// ran it). In every panel each failure is marked (a red dashed line at each kill or pause, a green
// one at each restart or continue, labelled with the node) and its outage shaded (from the
// failure to the first acknowledged update after it). Rates and latencies are per 0.25 s bucket
// (1 s for runs over 3 minutes), so that a failover shows as a dip, not a smear.
//   1. master: the front end that acknowledged updates in each bucket, each change labelled
//      (a takeover, or mastership handed back);
//   2. requests per second: successful reads served by each front end, failed reads (timeouts and
//      errors), and (right axis) Cacofonix's acknowledged updates;
//   3. latency (ms, log scale): p50 and p99 of tablet reads (start to answer) and of updates
//      (first send to acknowledgement);
//   4. staleness of stale reads (ms, log scale), one point per stale read; in pull mode the bound
//      is drawn as a line.
// The data files and the gnuplot script are kept next to the PNG (<png without .png>-plot/), so a
// user can restyle the plot and run `gnuplot timeline.gp` again.
//
// Errors: std::runtime_error when a file cannot be written, gnuplot is not installed ("install
// gnuplot-nox") or it fails (its output is quoted).
//
// Thread-safety: one thread; runs gnuplot as a child process.
#pragma once

#include <string>

#include "verify/check.h"

namespace oly::verify {

void plot_timeline(const CheckInput& in, const CheckReport& report, const std::string& png_path);

}  // namespace oly::verify
