// Logging: spdlog with the level, the process id, the process name and its current role on
// every line, e.g.
//   2026-11-21 22:40:01.123 info  [12345 fe1 master] claimed epoch 3
//
// init_logging() once at start; set_role() whenever the role changes (front ends: master,
// peer, ...). Everything else uses spdlog's functions directly (spdlog::info, ...).
//
// Thread-safety: set_role may be called from any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace oly {

// REQUIRES: level is one of trace, debug, info, warn, error (Config validates it).
// `file`, when not empty, receives the log instead of stderr.
void init_logging(const std::string& process, const std::string& level, const std::string& file = "");
void set_role(const std::string& role);

}  // namespace oly
