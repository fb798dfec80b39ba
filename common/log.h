// Logging for cores and shells alike: spdlog's functions (spdlog::info, ...) on its default
// logger. Cores only log; how lines look (level, process id, process name and current role on
// every line) is set up by the shell (log_setup.h), so a core holds no logging state of its own.
//
// Thread-safety: spdlog's default logger is thread-safe.
#pragma once

#include <spdlog/spdlog.h>
