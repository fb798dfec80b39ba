// Failover windows: how long clients were without service around each kill of a front end,
// computed from what the clients recorded (Cacofonix's acks, the tablets' reads) and the times of
// the failures of a run (events.h) or of bench_failover's kills. All times are steady-clock microseconds,
// comparable across the processes of one host (see common/clock.h).
//
// For a kill of front end F at time K:
//   - publisher window: the first acknowledgement after K minus K. Acks that F itself sent before
//     it died but that arrived just after K (acked > K, via F, first sent before K) do not count.
//   - publisher wait: the longest acked - first_sent of the updates acknowledged after K and
//     first sent before F was restarted (any time, when it was not): how long an update waited
//     for its acknowledgement while F was dead (push: a dead peer's lease holds acks back).
//   - tablets windows, for every tablet whose last successful read completed before K was served
//     by F (the tablets F served when it died; with all_tablets, every tablet that had read):
//       first read: the end of the tablet's first successful read completed after K, minus K
//         (a read served by F counts only if it started after K, i.e. by a restarted F). This
//         includes the wait for the tablet's next scheduled read (up to read_interval_ms).
//       read wait: the same end minus the start of the tablet's earliest read that had not
//         completed at K (in flight at K, or started after it): how long a reader waited.
//     A tablet with no successful read after K is counted in tablets_without_read.
//   - handoff gap: the longest gap between consecutive acknowledgements that overlaps
//     [restarted, settled + handoff_slack]: the disturbance while F rejoins and, when F is the
//     home master, takes mastership back (the ordered handoff). `settled` is when the cluster
//     was seen steady again. Acks before `restarted` are used only as the left end of the first
//     gap, so the kill's own gap does not leak in when F stayed down briefly.
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/records.h"

namespace oly::verify {

struct KillEvent {
  std::string node;                    // the front end killed
  bool was_master = false;             // it was the master when killed
  TimePoint killed;                    // just before SIGKILL was sent
  std::optional<TimePoint> restarted;  // just before it was started again (nullopt: never)
  std::optional<TimePoint> settled;    // when the cluster was seen steady again (nullopt: never)
  bool all_tablets = false;            // every tablet is affected, whoever served it (the database)
};

inline constexpr Duration kHandoffSlack = ms(1000);

struct KillWindows {
  std::optional<Duration> publisher;       // nullopt: no ack after the kill
  std::optional<Duration> publisher_wait;  // nullopt: likewise
  std::vector<Duration> tablets_first;     // one per tablet of the killed front end that read again
  std::vector<Duration> tablets_wait;      // likewise, read wait
  size_t tablets_affected = 0;             // tablets the killed front end served
  size_t tablets_without_read = 0;         // ... that never read successfully after the kill
  std::optional<Duration> handoff_gap;     // nullopt: not restarted or settled, or no acks around
};

// One KillWindows per element of `kills`, in order. `acks` and `reads` need not be sorted.
std::vector<KillWindows> failover_windows(const std::vector<KillEvent>& kills,
                                          const std::vector<AckRecord>& acks,
                                          const std::vector<ReadRecord>& reads,
                                          Duration handoff_slack = kHandoffSlack);

struct Spread {
  size_t n = 0;
  Duration p50{0}, p99{0}, max{0};  // nearest rank; zero when n == 0
};

// Nearest-rank percentiles (the smallest value with at least p of the values at or below it).
Spread spread_of(std::vector<Duration> values);

}  // namespace oly::verify
