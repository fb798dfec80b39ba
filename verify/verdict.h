// A verdict on one guarantee: PASS, FAIL or n/a (nothing to judge), the figures behind it and a
// few offending cases. Every judge of verify/ (check.h, ledger.h, reads.h, recovery.h,
// epochs.h) returns one; the checker prints them, the tests assert on them.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

namespace oly::verify {

enum class Status { kPass, kFail, kNotJudged };
const char* to_string(Status s);  // PASS, FAIL, n/a

// Examples kept per verdict; the rest are only counted.
inline constexpr size_t kMaxExamples = 8;

struct Verdict {
  std::string guarantee;              // its name, as check.h lists them
  Status status = Status::kNotJudged;
  std::string figures;                // one line: the numbers behind the status
  std::vector<std::string> examples;  // up to kMaxExamples offending cases, described
  bool failed() const { return status == Status::kFail; }
};

// "" when no verdict failed; otherwise one line per failed verdict ("FAIL name: figures") and
// its examples, for a test's failure message.
std::string failures_text(const std::vector<Verdict>& verdicts);

}  // namespace oly::verify
