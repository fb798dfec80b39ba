// The key-value store over HTTP (docs/kvstore.md) with the real binaries on loopback.
//
// Protocol: the exact bytes of a response's status line and headers, over a raw socket, at every
// replica (a follower forwards); curl works against every replica; bad requests get their status.
//
// Failures: four replicas under concurrent load, each client sending to one replica only (so a
// follower's forward is on most paths), while the leader is killed (kill -9) and restarted, and
// then a follower. Every key's recorded history, with the requests that got no answer, must be
// linearizable (verify/linearizability.h), every acknowledged set must be readable afterwards
// with its latest value, and the test prints the downtime at each failure: the longest interval
// with no successful request.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "kvclient/client.h"
#include "tests/support/process.h"
#include "verify/linearizability.h"

namespace oly::testing {
namespace {

using Clock = std::chrono::steady_clock;

int64_t now_us() { return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count(); }

// A replicated tier of `n` replicas, each serving HTTP too, on free ports.
class KvTier {
 public:
  explicit KvTier(int n) {
    config_ = cluster_config(dir_.path());
    replicate(config_, n);
    const auto ports = free_ports(n);
    for (int i = 0; i < n; ++i) config_.database.replicas[static_cast<size_t>(i)].http = "127.0.0.1:" + std::to_string(ports[static_cast<size_t>(i)]);
    write_config(config_, dir_.file("cluster.yaml"));
  }
  void start(const std::string& id) {
    children_[id] = std::make_unique<Child>(
        std::vector<std::string>{bin("database"), "--config", dir_.file("cluster.yaml"), "--id", id},
        dir_.file(id + ".log"));
  }
  void start_all() {
    for (const auto& r : config_.database.replicas) start(r.id);
  }
  void kill(const std::string& id) { children_.erase(id); }  // SIGKILL, reaped
  const std::string& http(const std::string& id) const { return config_.replica(id)->http; }
  std::vector<std::string> https() const {
    std::vector<std::string> out;
    for (const auto& r : config_.database.replicas) out.push_back(r.http);
    return out;
  }
  const Config& config() const { return config_; }
  // The id of the replica whose HTTP address is `http`.
  std::string id_of(const std::string& http) const {
    for (const auto& r : config_.database.replicas) {
      if (r.http == http) return r.id;
    }
    return "";
  }
  // The leader's id, once it is settled: every replica that answers a local read names the same
  // leader, and that leader is one of them (so it names itself). A replica naming a leader of a
  // start-up election that another has since won does not count.
  std::string leader(Duration timeout = ms(10000)) {
    std::string found;
    eventually(
        [&] {
          std::set<std::string> named;
          std::set<std::string> answered;
          for (const auto& h : https()) {
            kv::KvClient c({h}, kv::Options{std::chrono::milliseconds(500), 1, std::chrono::milliseconds(500)});
            const auto r = c.get("probe", true);
            if (!r.ok) continue;
            answered.insert(h);
            named.insert(c.leader());
          }
          if (named.size() != 1 || named.begin()->empty() || !answered.contains(*named.begin())) return false;
          found = id_of(*named.begin());
          return true;
        },
        timeout);
    return found;
  }
  std::string log_tail(const std::string& id) const {
    const std::string text = read_text_file(dir_.file(id + ".log"));
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
  }

 private:
  TempDir dir_;
  Config config_;
  std::map<std::string, std::unique_ptr<Child>> children_;
};

// One raw HTTP exchange: `request` written, everything read until the server closes (or 5 s of
// silence); "" when the connection failed.
std::string raw_http(const std::string& host_port, const std::string& request) {
  const size_t colon = host_port.rfind(':');
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(KvProcess, EveryReplicaAnswersWithTheExactStatusLineAndHeadersAndCurlWorks) {
  KvTier tier(3);
  tier.start_all();
  const std::string leader = tier.leader();
  ASSERT_FALSE(leader.empty()) << tier.log_tail("db1");
  const std::string lead_http = tier.http(leader);
  const std::string x_leader = "X-Leader: " + lead_http + "\r\n";
  for (const auto& r : tier.config().database.replicas) {
    SCOPED_TRACE(r.id);
    const std::string value = "v-" + r.id;
    EXPECT_EQ(raw_http(r.http, "GET /medal-" + r.id + "=" + value + " HTTP/1.0\r\n\r\n"),
              "HTTP/1.0 200 OK\r\nConnection: close\r\nServer: olympics-kv/1.0\r\nContent-Type: text/plain\r\n"
              "X-Kv-Found: no\r\n" + x_leader + "Content-Length: " + std::to_string(("medal-" + r.id + "=NIL").size()) +
                  "\r\n\r\nmedal-" + r.id + "=NIL");
    // Without a leading slash, over HTTP/1.1: still an HTTP/1.0 answer.
    EXPECT_EQ(raw_http(r.http, "GET medal-" + r.id + " HTTP/1.1\r\nHost: x\r\n\r\n"),
              "HTTP/1.0 200 OK\r\nConnection: close\r\nServer: olympics-kv/1.0\r\nContent-Type: text/plain\r\n"
              "X-Kv-Found: yes\r\n" + x_leader + "Content-Length: " + std::to_string(("medal-" + r.id + "=" + value).size()) +
                  "\r\n\r\nmedal-" + r.id + "=" + value);
    EXPECT_EQ(raw_http(r.http, "GET /bad%FF HTTP/1.0\r\n\r\n"),
              "HTTP/1.0 400 Bad Request\r\nConnection: close\r\nServer: olympics-kv/1.0\r\nContent-Type: text/plain\r\n"
              "Content-Length: 27\r\n\r\nthe key is not valid UTF-8\n");
    EXPECT_EQ(raw_http(r.http, "DELETE /k HTTP/1.0\r\n\r\n").substr(0, 33), "HTTP/1.0 405 Method Not Allowed\r\n");
    EXPECT_EQ(raw_http(r.http, "GET / HTTP/1.0\r\n\r\n").substr(0, 24), "HTTP/1.0 404 Not Found\r\n");
    // curl, as a user would type it: a UTF-8 value, percent-encoded.
    const std::string out_file = "/tmp/oly-kv-curl-" + std::to_string(::getpid());
    auto curl = [&](const std::vector<std::string>& args) {
      std::remove(out_file.c_str());
      std::vector<std::string> argv = {"/usr/bin/curl", "-sS"};
      argv.insert(argv.end(), args.begin(), args.end());
      return run_to_end(argv, out_file, ms(10000));
    };
    const Finished set = curl({"http://" + r.http + "/ville-" + r.id + "=Li%C3%A8ge"});
    EXPECT_EQ(set.status, 0) << set.output;
    EXPECT_EQ(set.output, "ville-" + r.id + "=NIL");
    const Finished got = curl({"http://" + r.http + "/ville-" + r.id});
    EXPECT_EQ(got.output, "ville-" + r.id + "=Li\xc3\xa8ge");
    const Finished local = curl({"-i", "http://" + r.http + "/ville-" + r.id + "?local"});
    EXPECT_NE(local.output.find("X-Applied-Index: "), std::string::npos) << local.output;
    EXPECT_NE(local.output.find("X-Behind-Ms: "), std::string::npos) << local.output;
    std::remove(out_file.c_str());
  }
}

// One request, one attempt, to one replica: the status (0 when no answer came) and the value.
struct Answer {
  int status = 0;
  std::optional<std::string> value;
};
Answer ask_once(const std::string& host_port, const std::string& key, const std::optional<std::string>& value) {
  std::string target = "/" + kv::percent_encode(key);
  if (value) target += "=" + kv::percent_encode(*value);
  const std::string out = raw_http(host_port, "GET " + target + " HTTP/1.0\r\n\r\n");
  Answer a;
  if (out.size() < 12 || !out.starts_with("HTTP/1.0 ")) return a;
  a.status = std::stoi(out.substr(9, 3));
  const size_t body = out.find("\r\n\r\n");
  if (a.status != 200 || body == std::string::npos || out.find("X-Kv-Found: ") == std::string::npos) return a;
  if (out.find("X-Kv-Found: yes") != std::string::npos) a.value = out.substr(body + 4 + key.size() + 1);
  return a;
}

TEST(KvProcess, TheClientFailsOverFromADeadReplicaAndFollowsTheLeaderItLearns) {
  KvTier tier(3);
  tier.start_all();
  const std::string leader = tier.leader();
  ASSERT_FALSE(leader.empty()) << tier.log_tail("db1");
  std::string follower;
  for (const auto& r : tier.config().database.replicas) {
    if (r.id != leader) follower = r.id;
  }
  // The list starts with a dead replica: refused, then the next one.
  tier.kill(follower);
  std::vector<std::string> servers = {tier.http(follower)};
  for (const auto& r : tier.config().database.replicas) {
    if (r.id != follower) servers.push_back(r.http);
  }
  kv::KvClient client(servers, kv::Options{std::chrono::milliseconds(2000), 0, std::chrono::milliseconds(15000)});
  kv::Result r = client.set("relay", "1");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(client.leader(), tier.http(leader)) << "learnt from X-Leader";
  // The follower is back and the leader dies: the client's next calls fail over and find the new
  // leader.
  tier.start(follower);
  ASSERT_TRUE(eventually([&] { return kv::KvClient({tier.http(follower)}).get("relay", true).value == "1"; }, ms(10000)));
  tier.kill(leader);
  r = client.set("relay", "2");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(client.leader(), tier.http(leader));
  EXPECT_EQ(client.get("relay").value, "2");
  // The binary too: it prints the value, or NULL.
  TempDir cwd;
  std::string list;
  for (const auto& s : servers) list += (list.empty() ? "" : ",") + s;
  const Finished got = run_to_end({bin("kv"), "-h", list, "relay"}, cwd.file("kv.out"), ms(20000));
  EXPECT_EQ(got.status, 0) << got.output;
  EXPECT_EQ(got.output, "2\n");
  const Finished none = run_to_end({bin("kv"), "-h", list, "nothing"}, cwd.file("kv2.out"), ms(20000));
  EXPECT_EQ(none.output, "NULL\n");
}

TEST(KvProcess, ScriptsKvstoreStartsTheTierOfAServersTxtThatKvReadsAndStopsIt) {
  TempDir dir;
  // Three HTTP ports whose Raft ports (+1,000) are free too.
  const std::vector<int> ports = free_ports(3, 1000);
  std::string servers = "# the tier\n";
  for (int p : ports) servers += "127.0.0.1:" + std::to_string(p) + (p == ports[1] ? " " : "\n");
  {
    std::ofstream(dir.file("servers.txt")) << servers;
  }
  const std::string script = std::string(OLY_SOURCE_DIR) + "/scripts/kvstore";
  auto in_dir = [&](const std::string& command, const std::string& log) {
    return run_to_end({"/bin/sh", "-c", "cd '" + dir.path() + "' && OLY_BIN_DIR='" + std::string(OLY_BIN_DIR) + "' " + command},
                      dir.file(log), ms(60000));
  };
  struct StopAtEnd {
    std::function<void()> f;
    ~StopAtEnd() { f(); }
  } stop_at_end{[&] { in_dir("bash '" + script + "' stop", "stop-at-end.log"); }};
  const Finished started = in_dir("bash '" + script + "' start", "start.log");
  ASSERT_EQ(started.status, 0) << started.output;
  EXPECT_NE(started.output.find("3 replicas up; the leader is 127.0.0.1:"), std::string::npos) << started.output;
  const Finished set = in_dir("'" + std::string(OLY_BIN_DIR) + "/kv' city=LiÃ¨ge", "kv1.log");
  EXPECT_EQ(set.output, "NULL\n");
  const Finished got = in_dir("'" + std::string(OLY_BIN_DIR) + "/kv' city", "kv2.log");
  EXPECT_EQ(got.output, "LiÃ¨ge\n");
  const Finished status = in_dir("bash '" + script + "' status", "status.log");
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("leader"), std::string::npos) << status.output;
  EXPECT_EQ(std::count(status.output.begin(), status.output.end(), '\n'), 4) << status.output;
  const Finished stopped = in_dir("bash '" + script + "' stop", "stop.log");
  EXPECT_EQ(stopped.status, 0) << stopped.output;
  const Finished after = in_dir("bash '" + script + "' status", "status2.log");
  EXPECT_EQ(after.status, 1) << "every replica is down: " << after.output;
  EXPECT_NE(after.output.find("stopped"), std::string::npos) << after.output;
  // What was set survives a restart of the tier.
  ASSERT_EQ(in_dir("bash '" + script + "' start", "start2.log").status, 0);
  EXPECT_EQ(in_dir("'" + std::string(OLY_BIN_DIR) + "/kv' city", "kv3.log").output, "LiÃ¨ge\n");
}

TEST(KvProcess, ScriptsKvstoreSaysWhichDerivedRaftPortIsTakenAndStartsNothing) {
  TempDir dir;
  const std::vector<int> ports = free_ports(3, 1000);
  std::string servers;
  for (int p : ports) servers += "127.0.0.1:" + std::to_string(p) + "\n";
  {
    std::ofstream(dir.file("servers.txt")) << servers;
  }
  // Another program listens on the second replica's Raft port.
  const int squatter = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(ports[1] + 1000));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(squatter, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(squatter, 1), 0);
  const std::string script = std::string(OLY_SOURCE_DIR) + "/scripts/kvstore";
  const Finished started = run_to_end({"/bin/sh", "-c", "cd '" + dir.path() + "' && OLY_BIN_DIR='" + std::string(OLY_BIN_DIR) +
                                                            "' bash '" + script + "' start"},
                                      dir.file("start.log"), ms(30000));
  ::close(squatter);
  EXPECT_EQ(started.status, 1) << started.output;
  EXPECT_NE(started.output.find("127.0.0.1:" + std::to_string(ports[1]) + ": its Raft port " + std::to_string(ports[1] + 1000) +
                                " (its HTTP port + 1000) is in use"),
            std::string::npos)
      << started.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("kvstore"))) << "a replica was started";
}

// What one client thread recorded.
struct ClientLog {
  std::map<std::string, std::vector<verify::RegisterOp>> history;
  std::vector<int64_t> successes_us;  // completion times of answered requests
  int answered = 0, unanswered = 0;
};

TEST(KvProcess, FourReplicasUnderLoadStayLinearizableWhileTheLeaderAndThenAFollowerAreKilled) {
  KvTier tier(4);
  tier.start_all();
  ASSERT_FALSE(tier.leader().empty()) << tier.log_tail("db1");
  const std::vector<std::string> keys = {"k1", "k2", "k3", "k4", "k5"};
  std::atomic<bool> stop{false};
  std::vector<ClientLog> logs(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      // One replica only, one attempt a request (no retry that could apply a set twice): each
      // request is one operation of the history.
      const std::string replica = tier.https()[static_cast<size_t>(i)];
      std::mt19937 rng(static_cast<unsigned>(i + 1));
      ClientLog& log = logs[static_cast<size_t>(i)];
      for (int n = 1; !stop.load(); ++n) {
        verify::RegisterOp op;
        op.client = i + 1;
        const std::string key = keys[rng() % keys.size()];
        op.is_set = rng() % 2 == 0;
        op.invoked_us = now_us();
        if (op.is_set) op.value = "c" + std::to_string(i + 1) + "-" + std::to_string(n);
        const Answer r = ask_once(replica, key, op.is_set ? op.value : std::nullopt);
        op.completed_us = now_us();
        if (r.status == 200) {
          (op.is_set ? op.old : op.value) = r.value;
          ++log.answered;
          log.successes_us.push_back(op.completed_us);
        } else {
          op.completed = false;  // refused, timed out or a 503: it may or may not have taken effect
          ++log.unanswered;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a dead replica is not hammered
        }
        if (op.is_set || op.completed) log.history[key].push_back(std::move(op));
      }
    });
  }
  auto wait = [](int millis) { std::this_thread::sleep_for(std::chrono::milliseconds(millis)); };
  const int64_t began = now_us();
  wait(2000);
  const std::string leader = tier.leader();
  ASSERT_FALSE(leader.empty());
  const int64_t leader_killed = now_us();
  tier.kill(leader);
  wait(3000);
  tier.start(leader);
  wait(3000);
  const std::string new_leader = tier.leader();
  std::string follower;
  for (const auto& r : tier.config().database.replicas) {
    if (r.id != new_leader && r.id != leader) follower = r.id;
  }
  const int64_t follower_killed = now_us();
  tier.kill(follower);
  wait(3000);
  tier.start(follower);
  wait(3000);
  stop = true;
  for (auto& t : threads) t.join();
  const int64_t ended = now_us();

  // Every acknowledged set readable afterwards with its latest value: the final reads (at the
  // leader, after every client stopped) join the history, whose linearizability decides what
  // "latest" must be.
  std::map<std::string, std::vector<verify::RegisterOp>> histories;
  std::vector<int64_t> successes;
  int answered = 0, unanswered = 0;
  for (auto& log : logs) {
    for (auto& [key, ops] : log.history) histories[key].insert(histories[key].end(), ops.begin(), ops.end());
    successes.insert(successes.end(), log.successes_us.begin(), log.successes_us.end());
    answered += log.answered;
    unanswered += log.unanswered;
  }
  kv::KvClient reader(tier.https());
  for (const auto& key : keys) {
    verify::RegisterOp op;
    op.client = 99;
    op.invoked_us = now_us();
    const kv::Result r = reader.get(key);
    op.completed_us = now_us();
    ASSERT_TRUE(r.ok) << key << ": " << r.error;
    op.value = r.value;
    bool acked_set = false;
    for (const auto& o : histories[key]) acked_set = acked_set || (o.is_set && o.completed);
    if (acked_set) {
      EXPECT_TRUE(r.value.has_value()) << key << " lost every acknowledged set";
    }
    histories[key].push_back(op);
  }
  for (const auto& [key, result] : verify::check_registers(histories)) {
    EXPECT_TRUE(result.linearizable) << key << ": " << result.explanation;
    EXPECT_FALSE(result.gave_up) << key << ": " << result.explanation;
  }
  EXPECT_GT(answered, 400);

  // Downtime: the longest interval with no successful request, in each failure's window.
  std::sort(successes.begin(), successes.end());
  auto longest_gap = [&](int64_t from, int64_t to) {
    int64_t last = from, gap = 0;
    for (int64_t t : successes) {
      if (t < from || t > to) continue;
      gap = std::max(gap, t - last);
      last = t;
    }
    return std::max(gap, to - last);
  };
  const int64_t leader_gap = longest_gap(leader_killed, follower_killed);
  const int64_t follower_gap = longest_gap(follower_killed, ended);
  std::printf("[ measured ] kv downtime: kill -9 of the leader %s: %.0f ms; of follower %s: %.0f ms; "
              "over the whole run: %.0f ms (%d requests answered, %d not, in %.1f s)\n",
              leader.c_str(), static_cast<double>(leader_gap) / 1000, follower.c_str(),
              static_cast<double>(follower_gap) / 1000, static_cast<double>(longest_gap(began, ended)) / 1000, answered,
              unanswered, static_cast<double>(ended - began) / 1e6);
  EXPECT_LT(leader_gap, 5'000'000) << "the tier did not serve again after the leader's kill";
  EXPECT_LT(follower_gap, 1'000'000) << "a follower's kill should barely be noticed";
}

}  // namespace
}  // namespace oly::testing
