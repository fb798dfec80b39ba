// What every process answers GET /metrics with (Prometheus text format, metrics/prometheus.h;
// docs/api.md, "Metrics"), and a small endpoint that serves it beside a process's own loop.
//
// metrics_text(stats, gauges, histograms) renders, each sample labelled node="<stats.node>":
//   - every stats counter: oly_<name>_total (a counter), or oly_<name> (a gauge) for the names in
//     `gauges`; a name that is not a valid metric name (built from data) is left out;
//   - oly_info{node, role, version} 1, and oly_up_seconds (the process's age);
//   - process_resident_memory_bytes (from /proc/self/statm);
//   - the histograms given, as oly_<name> (their names end in _seconds).
//
// Thread-safety: none; the process's loop thread.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.h"
#include "metrics/histogram.h"

namespace oly {

namespace http {
class Server;
}

struct HistogramView {
  std::string name;  // without the oly_ prefix, e.g. "read_latency_seconds"
  std::string help;
  const metrics::Histogram* histogram;
};

std::string metrics_text(const Stats& stats, const std::set<std::string>& gauges,
                         const std::vector<HistogramView>& histograms = {});

// The resident memory in bytes of the process whose /proc directory is `proc_dir` (this one by
// default); 0 when /proc cannot say.
int64_t resident_memory_bytes(const std::string& proc_dir = "/proc/self");

// Serves GET /metrics (and 404 for anything else) on `address` (host:port), from the caller's
// loop: watch fd() and call serve() whenever it is readable (or every loop pass; it is cheap).
class MetricsEndpoint {
 public:
  // Throws std::runtime_error naming the address when it cannot listen.
  MetricsEndpoint(const std::string& address, std::function<std::string()> render);
  ~MetricsEndpoint();
  int fd() const;
  void serve();

 private:
  std::unique_ptr<http::Server> server_;
  std::function<std::string()> render_;
};

}  // namespace oly
