// Small text helpers for the checker's and the olympics tool's output: aligned tables and
// fixed-point numbers (JSON is written with nlohmann-json, never by hand).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace oly::verify {

// Rows as left-aligned columns separated by two spaces, one line each, trailing blanks trimmed.
// Rows may have different lengths.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

// `v` with `decimals` digits after the point ("41.5").
std::string fixed(double v, int decimals = 1);

}  // namespace oly::verify
