// What clients record for the checker: every acknowledged update (Cacofonix's ack log) and every
// read (the tablets' history), and their CSV files. Times are steady-clock microseconds, which on
// one host are comparable across processes (see clock.h).
//
// Thread-safety: plain values and free functions.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/clock.h"

namespace oly {

struct AckRecord {
  std::string publisher;
  uint64_t seq = 0;
  std::string op;       // set_score or increment_medal_tally
  std::string key;      // score/<event> or tally/<team>
  std::string detail;   // "3-2" for a score, "gold" for a medal
  uint64_t version = 0;
  bool duplicate = false;
  std::string via;      // the front end that acknowledged it
  TimePoint created;    // when the feed produced it
  TimePoint first_sent;
  TimePoint acked;
};

struct ReadRecord {
  std::string tablet;
  std::string key;         // score/<event> or tally/<team>
  uint64_t version = 0;    // 0 when the read failed
  TimePoint start;
  TimePoint end;
  std::string frontend;
  // ok, partial (gossip mode: a value the database could not vouch was as new as the front end had
  // seen; judged apart), timeout, lost (its connection closed), moved (resent after a serving
  // notice), or an error code
  std::string outcome;
  // An ok read's value as the tablet took it: "3-2" (Gauls-Romans) for a score, "4/2/1" (gold,
  // silver, bronze) for a tally; "" when not recorded (a failed read, an older history).
  std::string value = {};
};

// CSV with a header line; fields never contain commas (keys and event names are checked).
const char* ack_csv_header();
void write_csv(std::ostream& out, const AckRecord& a);
const char* read_csv_header();
void write_csv(std::ostream& out, const ReadRecord& r);

// Calls `row(fields)` for each line after the header line of a CSV file whose lines have
// `columns` fields, or up to `max_columns` when it is larger (a last field that is empty is not
// counted; empty lines skipped). Throws std::runtime_error "<path>: cannot read the file",
// "<path>:<line>: expected N fields, got M", or, when `row` throws std::logic_error (std::stoll),
// "<path>:<line>: a number field is not a number".
void for_each_csv_row(const std::string& path, size_t columns,
                      const std::function<void(const std::vector<std::string>&)>& row, size_t max_columns = 0);

// Read a whole file; throw std::runtime_error "<path>:<line>: ..." on a malformed line.
std::vector<AckRecord> read_ack_log(const std::string& path);
std::vector<ReadRecord> read_history(const std::string& path);

}  // namespace oly
