#include "tests/support/process.h"

#include "common/config_file.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <set>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "common/codec.h"

namespace oly::testing {

Finished run_to_end(std::vector<std::string> argv, const std::string& log_file, Duration timeout) {
  std::optional<int> status;
  {
    Child c(std::move(argv), log_file);
    status = c.wait(timeout);
  }  // killed and reaped here when still running
  return {status.value_or(-1), read_text_file(log_file)};
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {
bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// See TempDir in process.h.
std::filesystem::path temp_base() {
  if (const char* dir = std::getenv("OLY_TEST_TMPDIR"); dir != nullptr && *dir != '\0') return dir;
  if (::access("/dev/shm", W_OK | X_OK) == 0 && std::filesystem::is_directory("/dev/shm")) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

}  // namespace

std::vector<int> free_ports(int n, int partner) {
  std::random_device rd;
  std::mt19937 rng(rd() ^ static_cast<unsigned>(::getpid()));
  // Below Linux's ephemeral range (32768-60999): a port picked there may be taken as the source
  // port of an outgoing connection between the pick and the bind.
  std::uniform_int_distribution<int> dist(20000, 32767);
  // Every port handed out by this process, by any call: two calls (a cluster's config, then a
  // test's extra HTTP ports) must not pick the same one before either is bound.
  static std::mutex mu;
  static std::set<int> chosen;
  std::lock_guard<std::mutex> lock(mu);
  std::vector<int> out;
  for (int tries = 0; static_cast<int>(out.size()) < n && tries < 10000; ++tries) {
    int p = dist(rng);
    if (chosen.count(p) || !port_free(p)) continue;
    if (partner > 0) {
      const int q = p + partner;
      if (q > 32767 || chosen.count(q) || !port_free(q)) continue;
      chosen.insert(q);
    }
    chosen.insert(p);
    out.push_back(p);
  }
  if (static_cast<int>(out.size()) < n) throw std::runtime_error("no free ports");
  return out;
}

TempDir::TempDir() {
  std::string tmpl = (temp_base() / "oly-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("OLY_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Child::Child(std::vector<std::string> argv, const std::string& log_file) {
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
}

Child::~Child() {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

bool Child::alive() { return !wait(Duration(0)).has_value(); }

void Child::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> Child::wait(Duration timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string bin(const std::string& name) { return std::string(OLY_BIN_DIR) + "/" + name; }

std::optional<std::string> request_raw(const std::string& address, const std::string& bytes, Duration timeout) {
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.connect(address);
  s.send(zmq::buffer(bytes), zmq::send_flags::none);
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  zmq::message_t reply;
  if (!s.recv(reply, zmq::recv_flags::dontwait)) return std::nullopt;
  return reply.to_string();
}

std::optional<Message> request(const std::string& address, const Message& msg, Duration timeout) {
  auto raw = request_raw(address, encode(msg), timeout);
  if (!raw) return std::nullopt;
  Decoded d = decode(*raw);
  if (!d.ok) return std::nullopt;
  return d.message;
}

bool eventually(const std::function<bool()>& pred, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Config cluster_config(const std::string& run_dir) {
  Config c;
  c.run_dir = run_dir;
  // Plain ZeroMQ: the tests' own clients (request, request_raw) speak no CURVE. The security tests
  // (security_process_test) and every run from config/cluster.yaml (scenarios, the demo) use curve.
  c.security = Security::kPlain;
  auto ports = free_ports(1 + 3 * static_cast<int>(c.frontends.size()));
  auto addr = [](int p) { return "tcp://127.0.0.1:" + std::to_string(p); };
  c.database.address = addr(ports[0]);
  for (size_t i = 0; i < c.frontends.size(); ++i) {
    c.frontends[i].address = addr(ports[1 + 3 * i]);
    c.frontends[i].pub = addr(ports[2 + 3 * i]);
    c.frontends[i].tcp = "127.0.0.1:" + std::to_string(ports[3 + 3 * i]);  // where tablets read
  }
  return c;
}

void replicate(Config& c, int n) {
  const auto ports = free_ports(n);
  c.database.replicas.clear();
  for (int i = 0; i < n; ++i) {
    c.database.replicas.push_back({"db" + std::to_string(i + 1), "tcp://127.0.0.1:" + std::to_string(ports[static_cast<size_t>(i)])});
  }
}

void add_frontends(Config& c, size_t n) {
  while (c.frontends.size() < n) {
    const auto ports = free_ports(3);
    const auto addr = [](int p) { return "tcp://127.0.0.1:" + std::to_string(p); };
    c.frontends.push_back({"fe" + std::to_string(c.frontends.size() + 1), addr(ports[0]), addr(ports[1]), "",
                           "127.0.0.1:" + std::to_string(ports[2])});
  }
}

void write_config(const Config& c, const std::string& path) {
  std::ofstream out(path);
  out << to_yaml(c);
}

}  // namespace oly::testing
