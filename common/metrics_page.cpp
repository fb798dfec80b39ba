#include "common/metrics_page.h"

#include <unistd.h>

#include <chrono>
#include <fstream>

#include "common/http_listen.h"
#include "common/version.h"
#include "http/server.h"
#include "metrics/prometheus.h"

namespace oly {

namespace {

const auto kStarted = std::chrono::steady_clock::now();

}  // namespace

int64_t resident_memory_bytes(const std::string& proc_dir) {
  std::ifstream statm(proc_dir + "/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

std::string metrics_text(const Stats& stats, const std::set<std::string>& gauges,
                         const std::vector<HistogramView>& histograms) {
  const metrics::Labels node = {{"node", stats.node}};
  metrics::Exposition e;
  e.gauge("oly_info", "This process: its node, role and version", 1,
          {{"node", stats.node}, {"role", stats.role}, {"version", std::string(kVersion)}});
  e.gauge("oly_up_seconds", "Seconds since this process started",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - kStarted).count(), node);
  e.gauge("process_resident_memory_bytes", "Resident memory of this process",
          static_cast<double>(resident_memory_bytes()), node);
  std::map<std::string, int64_t> counters;
  for (const auto& [name, value] : stats.counters) {
    if (metrics::valid_metric_name("oly_" + name + "_total")) counters.emplace(name, value);
  }
  metrics::add_counter_map(e, "oly_", counters, gauges, node);
  for (const auto& h : histograms) e.histogram("oly_" + h.name, h.help, *h.histogram, node);
  return e.str();
}

MetricsEndpoint::MetricsEndpoint(const std::string& address, std::function<std::string()> render)
    : render_(std::move(render)) {
  server_ = std::make_unique<http::Server>(http_listen_options(address, "olympics/" + std::string(kVersion), false));
}

MetricsEndpoint::~MetricsEndpoint() = default;

int MetricsEndpoint::fd() const { return server_->fd(); }

void MetricsEndpoint::serve() {
  for (const http::Request& r : server_->run()) {
    http::Response response;
    const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    if (r.method != "GET" && r.method != "HEAD") {
      response.status = 405;
      response.headers = {{"Allow", "GET, HEAD"}, {"Content-Type", "text/plain"}};
      response.body = "only GET and HEAD are served\n";
    } else if (path != "/metrics") {
      response.status = 404;
      response.headers = {{"Content-Type", "text/plain"}};
      response.body = "only /metrics is served here\n";
    } else {
      response.headers = {{"Content-Type", std::string(metrics::kContentType)}};
      response.body = render_();
    }
    server_->respond(r.id, std::move(response));
  }
}

}  // namespace oly
