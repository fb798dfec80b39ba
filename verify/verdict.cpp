#include "verify/verdict.h"

namespace oly::verify {

const char* to_string(Status s) {
  switch (s) {
    case Status::kPass:
      return "PASS";
    case Status::kFail:
      return "FAIL";
    case Status::kNotJudged:
      break;
  }
  return "n/a";
}

std::string failures_text(const std::vector<Verdict>& verdicts) {
  std::string out;
  for (const auto& v : verdicts) {
    if (!v.failed()) continue;
    out += "FAIL " + v.guarantee + ": " + v.figures + "\n";
    for (const auto& e : v.examples) out += "  - " + e + "\n";
  }
  return out;
}

}  // namespace oly::verify
