#include "verify/events.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace oly::verify {

std::string action_for_signal(int sig) {
  switch (sig) {
    case SIGKILL: return "kill";
    case SIGTERM: return "term";
    case SIGINT: return "int";
    case SIGSTOP: return "stop";
    case SIGCONT: return "cont";
    default: return "signal " + std::to_string(sig);
  }
}

void append_event(const std::string& path, const ClusterEvent& e) {
  const bool fresh = !std::filesystem::exists(path);
  std::string line = (fresh ? std::string("at_us,node,action\n") : std::string()) +
                     std::to_string(to_us(e.at)) + "," + e.node + "," + e.action + "\n";
  // One write of whole lines, appended: concurrent tools never interleave within a line.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot append to " + path);
  const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) throw std::runtime_error("cannot append to " + path);
}

std::vector<ClusterEvent> read_events(const std::string& path) {
  std::vector<ClusterEvent> out;
  if (!std::filesystem::exists(path)) return out;
  for_each_csv_row(path, 3, [&](const std::vector<std::string>& f) {
    out.push_back({from_us(std::stoll(f[0])), f[1], f[2]});
  });
  return out;
}

namespace {

// The front end through which the last ack before `t` came, or "".
std::string acked_last_before(const std::vector<const AckRecord*>& by_time, TimePoint t) {
  auto it = std::lower_bound(by_time.begin(), by_time.end(), t,
                             [](const AckRecord* a, TimePoint x) { return a->acked < x; });
  return it == by_time.begin() ? "" : (*std::prev(it))->via;
}

}  // namespace

RunEvents failures_from_events(const std::vector<ClusterEvent>& events,
                               const std::vector<std::string>& frontends,
                               const std::vector<std::string>& database_ids,
                               const std::vector<AckRecord>& acks) {
  std::vector<const AckRecord*> by_time;
  for (const auto& a : acks) by_time.push_back(&a);
  std::stable_sort(by_time.begin(), by_time.end(),
                   [](const AckRecord* a, const AckRecord* b) { return a->acked < b->acked; });
  std::vector<const ClusterEvent*> sorted;
  for (const auto& e : events) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ClusterEvent* a, const ClusterEvent* b) { return a->at < b->at; });

  RunEvents out;
  std::map<std::string, size_t> open;  // node -> index of its open failure
  for (const ClusterEvent* e : sorted) {
    if (e->action == "start") {
      if (!out.start) out.start = e->at;
      out.end.reset();  // started again after a stop: the run goes on
    }
    if (e->action == "down") {
      if (!out.end) out.end = e->at;
      continue;
    }
    const bool frontend = std::find(frontends.begin(), frontends.end(), e->node) != frontends.end();
    if (!frontend && std::find(database_ids.begin(), database_ids.end(), e->node) == database_ids.end()) continue;
    const auto it = open.find(e->node);
    const bool fails = e->action == "kill" || e->action == "term" || e->action == "int";
    if ((fails || e->action == "stop") && it == open.end()) {
      Failure f;
      f.node = e->node;
      f.database = !frontend;
      f.how = fails ? e->action : "pause";
      f.was_master = frontend && acked_last_before(by_time, e->at) == e->node;
      f.at = e->at;
      open[e->node] = out.failures.size();
      out.failures.push_back(std::move(f));
    } else if (it != open.end()) {
      Failure& f = out.failures[it->second];
      const bool mends = f.how != "pause" ? e->action == "start" : e->action == "cont";
      // A paused process that is killed stays a failure until it is started again.
      if (f.how == "pause" && fails) f.how = e->action;
      if (mends) {
        f.back = e->at;
        open.erase(it);
      }
    }
  }
  return out;
}

}  // namespace oly::verify
