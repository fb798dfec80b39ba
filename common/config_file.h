// Reading and writing the cluster's configuration as YAML (config.h has the struct and its
// rules). Part of the shell library: binaries and tools link it, cores never do.
//
// Errors: ConfigError whose what() names the file, the key and what was expected, e.g.
// "config/cluster.yaml: consistency: expected push or pull, got 'sideways'". Unknown keys are
// errors too (a typo must not silently fall back to a default).
//
// Thread-safety: plain functions.
#pragma once

#include <string>

#include "common/config.h"

namespace oly {

// Reads and validates a YAML file.
Config load_config(const std::string& path);
// Parses and validates YAML text; `source` names it in error messages.
Config parse_config(const std::string& yaml, const std::string& source);
// The config as YAML that parse_config reads back to an equal Config.
std::string to_yaml(const Config& c);

}  // namespace oly
