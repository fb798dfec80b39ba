// Log set-up, for binaries (the shell library): spdlog with the level, the process id, the
// process name and its current role on every line, e.g.
//   2026-11-21 22:40:01.123 info  [12345 fe1 master] claimed epoch 3
//
// init_logging() once at start; set_role() whenever the role changes (run_loop does it from the
// core's role_name()).
//
// Thread-safety: set_role may be called from any thread.
#pragma once

#include <string>

#include "common/log.h"

namespace oly {

// REQUIRES: level is one of trace, debug, info, warn, error (Config validates it).
// `file`, when not empty, receives the log instead of stderr.
void init_logging(const std::string& process, const std::string& level, const std::string& file = "");
void set_role(const std::string& role);

}  // namespace oly
