// Command lines, the same in every program (README, "Running it by hand"):
//   - `--help` prints the help and exits 0; `--version` prints "<program> <version>" and exits 0;
//   - a bad flag or value is one line on stderr, "error: <what> (see '<program> --help')", and
//     exit status 2 (CLI11's own exit codes, 105-114, never leak out).
// And validators whose messages name the bound plainly (CLI11's PositiveNumber prints the
// largest double in full, 309 digits).
//
// Header-only: every program links CLI11, not all link the shell library.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <string>

#include "common/version.h"

namespace oly::cli {

// Parses `argc`/`argv` into `app` for program `program`. Returns the exit status to leave with
// (0 after --help or --version, 2 after a bad command line), or nullopt to go on.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv, const std::string& program) {
  app.set_version_flag("--version", program + " " + std::string(kVersion));
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    const auto parsed = app.get_subcommands();
    const std::string help = parsed.empty() ? program : program + " " + parsed.front()->get_name();
    std::fprintf(stderr, "error: %s (see '%s --help')\n", what.c_str(), help.c_str());
    return 2;
  }
}

namespace detail {

inline CLI::Validator number_check(const char* name, const char* expected, bool (*ok)(double)) {
  return CLI::Validator(
      [expected, ok](std::string& in) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(in, v)) return "expected a number, got '" + in + "'";
        if (!ok(v)) return std::string("expected ") + expected + ", got " + in;
        return {};
      },
      name);
}

}  // namespace detail

// A finite number above 0 ("--rate: expected a number above 0, got -1").
inline const CLI::Validator kPositive =
    detail::number_check("POSITIVE", "a number above 0", [](double v) { return v > 0 && v < 1e300; });
// A finite number at least 0.
inline const CLI::Validator kNonNegative =
    detail::number_check("NONNEGATIVE", "a number at least 0", [](double v) { return v >= 0 && v < 1e300; });

}  // namespace oly::cli
