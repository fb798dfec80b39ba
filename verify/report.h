// The checker's report of a CheckReport (check.h): for people and as JSON. `olympics check`
// prints the first and writes the second to RUN_DIR/check.json.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "verify/check.h"

namespace oly::verify {

// One line per guarantee (PASS/FAIL/n/a, name, figures, examples), a table of failures (when,
// what, windows, tablets per front end before/during/after), the overall verdict last.
std::string format_check(const CheckReport& r);

// The same as one JSON object (written with nlohmann-json): {"pass", "run_dir", "consistency",
// "frontends", "guarantees": [{name, status, figures, examples}], "counts", "freshness",
// "baseline", "unavailability" (p50/p99/max over failures), "failures": [...]}; times in ms,
// failure times in seconds since the start; absent values are null. Ends with a newline.
std::string check_json(const CheckReport& r);

}  // namespace oly::verify
