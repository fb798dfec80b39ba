// The checker's timeline plot: a PNG made with gnuplot (Debian's gnuplot-nox) from a run's
// records, for `olympics check --plot`.
//
// Two panels over seconds since the start of the run, failures marked in both (a red dashed line
// at each kill or pause, a green one at each restart or continue, labelled with the node):
//   1. requests per second: successful reads served by each front end, failed reads (timeouts and
//      errors), and (right axis) Cacofonix's acknowledged updates;
//   2. staleness of stale reads (ms, log scale), one point per stale read; in pull mode the bound
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
