// A process test's run judged by verify/, the one judge of every guarantee: the records the
// processes left in the run directory, the checker's report on them, and the data guarantees
// every such test asserts on.
#pragma once

#include <gtest/gtest.h>

#include "common/config.h"
#include "verify/check.h"
#include "verify/load.h"
#include "verify/report.h"

namespace oly::testing {

struct JudgedRun {
  verify::RunRecords records;
  verify::CheckReport report;
};

// Pull runs get 50 ms over the TTR bound and the master's 10 ms grace: a loopback round trip and a
// scheduling hiccup on a loaded machine.
inline JudgedRun judge_run(const Config& cfg) {
  JudgedRun run;
  run.records = verify::read_records(cfg);
  run.report = verify::check_run(verify::check_input(cfg, run.records, ms(50)));
  return run;
}

// None lost, none twice, in order, fresh reads and monotonic reads all passed.
inline void expect_data_guarantees(const verify::CheckReport& report) {
  SCOPED_TRACE(verify::format_check(report));
  for (size_t g : {verify::kNoneLost, verify::kNoneTwice, verify::kInOrder, verify::kFreshReads,
                   verify::kMonotonicReads}) {
    EXPECT_EQ(report.verdicts[g].status, verify::Status::kPass) << report.verdicts[g].guarantee;
  }
}

}  // namespace oly::testing
