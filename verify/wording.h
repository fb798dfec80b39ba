// How the judges describe what they found: counts, times relative to the run's start, acks,
// failures and splits of tablets, in the words of the checker's report. Internal to verify/.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/records.h"
#include "verify/check.h"
#include "verify/verdict.h"

namespace oly::verify {

Verdict verdict(std::string name);            // a verdict not judged yet
void example(Verdict& v, std::string s);      // kept while fewer than kMaxExamples
std::string plural(size_t n, const std::string& one, const std::string& many);  // "2 reads"
std::string at_text(TimePoint t, TimePoint start);  // seconds since `start`: "12.30 s"
std::string ms_text(Duration d);                     // "41.5"
std::string ms_text(const std::optional<Duration>& d);  // "-" for nullopt
std::string spread_text(const Spread& s);            // "p50/p99/max" in ms, "-" when empty
// freshness.cpp describes a read's time as "at t=<steady us>us": made relative to `start`.
std::string relative_times(std::string s, TimePoint start);
std::string describe_ack(const AckRecord& a, TimePoint start);
std::string describe_failure(const Failure& f, TimePoint start);
const char* role_of(const Failure& f);  // database, master or peer
// "fe1 25 fe2 25", config order first; "-" when the split was not judged.
std::string split_text(const Split& s, const std::vector<std::string>& frontends);

}  // namespace oly::verify
