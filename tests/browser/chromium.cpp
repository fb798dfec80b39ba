#include "tests/browser/chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace oly::testing {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::runtime_error error(const std::string& what) {
  return std::runtime_error("chromium: " + what);
}

std::string ms_text(milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

// Data URLs make long messages; the start is enough to tell which page.
std::string short_url(const std::string& url) {
  return url.size() <= 120 ? url : url.substr(0, 117) + "...";
}

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0 && !std::filesystem::is_directory(path);
}

std::string find_executable(const std::string& configured) {
  std::vector<std::string> tried;
  auto found = [&](const std::string& path) {
    tried.push_back(path);
    return executable(path);
  };
  if (!configured.empty()) {
    if (found(configured)) return configured;
  } else if (const char* env = std::getenv("OLY_CHROMIUM"); env != nullptr && *env != '\0') {
    if (found(env)) return env;
  } else {
    if (found("/usr/lib/chromium/chromium")) return "/usr/lib/chromium/chromium";
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
      for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
        if (!dir.empty() && found(dir + "/" + name)) return dir + "/" + name;
      }
    }
  }
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
  throw error("no browser found (tried " + list +
              "); install Debian's chromium package or set OLY_CHROMIUM");
}

// Under $OLY_TEST_TMPDIR when set (as the other process tests' TempDir), else the system's.
std::string make_temp_dir() {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  if (const char* dir = std::getenv("OLY_TEST_TMPDIR"); dir != nullptr && *dir != '\0') base = dir;
  std::string tmpl = (base / "oly-chromium-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw error("cannot create a directory in " + base.string() + ": " + std::strerror(errno));
  return tmpl;
}

std::string base64_decode(const std::string& in) {
  std::array<int, 256> value{};
  value.fill(-1);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < alphabet.size(); ++i)
    value[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned bits = 0;
  int nbits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = value[static_cast<unsigned char>(c)];
    if (v < 0) continue;  // line breaks
    bits = (bits << 6) | static_cast<unsigned>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFFu));
    }
  }
  return out;
}

// One console argument as the console would print it.
std::string remote_object_text(const json& o) {
  if (o.contains("value"))
    return o["value"].is_string() ? o["value"].get<std::string>() : o["value"].dump();
  if (o.contains("unserializableValue")) return o["unserializableValue"].get<std::string>();
  if (o.contains("description")) return o["description"].get<std::string>();
  return o.value("type", "?");
}

// JavaScript's truthiness of a RemoteObject.
bool truthy(const json& o) {
  const std::string type = o.value("type", "undefined");
  const std::string unserializable = o.value("unserializableValue", "");
  if (type == "undefined") return false;
  if (type == "object") return o.value("subtype", "") != "null";
  if (type == "boolean") return o.value("value", false);
  if (type == "number")
    return o.contains("value") ? o["value"].get<double>() != 0.0
                               : unserializable != "NaN" && unserializable != "-0";
  if (type == "string") return !o.value("value", "").empty();
  if (type == "bigint") return unserializable != "0n";
  return true;  // function, symbol
}

std::chrono::milliseconds until(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(deadline - Clock::now()));
}

}  // namespace

Chromium::Chromium(ChromiumOptions options) : options_(std::move(options)) {
  try {
    start();
    attach_page();
  } catch (...) {
    shutdown(false);  // no destructor runs for an object whose constructor threw
    throw;
  }
}

Chromium::~Chromium() {
  shutdown(true);
}

void Chromium::start() {
  const std::string exe = find_executable(options_.executable);
  dir_ = make_temp_dir();
  std::vector<std::string> args = {
      exe,
      "--headless=new",
      "--no-sandbox",  // required as root
      "--disable-gpu",
      "--remote-debugging-pipe",
      "--user-data-dir=" + dir_ + "/profile",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-dev-shm-usage",  // a container's /dev/shm may be 64 MB
      "--disable-crash-reporter",
      "--hide-scrollbars",
      "--mute-audio",
      "--window-size=" + std::to_string(options_.width) + "," + std::to_string(options_.height)};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  args.push_back("about:blank");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Every descriptor close-on-exec; the child moves the browser's two ends to fds 3 and 4.
  const std::string log_path = dir_ + "/chromium.log";
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) throw error("cannot create " + log_path + ": " + std::strerror(errno));
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) {
    const int e = errno;
    ::close(log);
    throw error(std::string("cannot open /dev/null: ") + std::strerror(e));
  }
  int commands[2] = {-1, -1}, events[2] = {-1, -1}, exec_error[2] = {-1, -1};
  if (::pipe2(commands, O_CLOEXEC) != 0 || ::pipe2(events, O_CLOEXEC) != 0 ||
      ::pipe2(exec_error, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int fd : {log, null, commands[0], commands[1], events[0], events[1]}) {
      if (fd >= 0) ::close(fd);
    }
    throw error(std::string("pipe: ") + std::strerror(e));
  }
  to_browser_ = commands[1];
  from_browser_ = events[0];
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the test died before prctl took effect
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int in = ::fcntl(commands[0], F_DUPFD_CLOEXEC, 10);  // out of the way of fds 3 and 4
    const int out = ::fcntl(events[1], F_DUPFD_CLOEXEC, 10);
    if (in < 0 || out < 0 || ::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0 ||
        ::dup2(in, 3) < 0 || ::dup2(out, 4) < 0) {
      const int e = errno;
      (void)!::write(exec_error[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execv(argv[0], argv.data());
    const int e = errno;
    (void)!::write(exec_error[1], &e, sizeof e);
    ::_exit(127);
  }
  const int fork_errno = errno;
  for (int fd : {commands[0], events[1], exec_error[1], log, null}) {
    if (fd >= 0) ::close(fd);
  }
  if (pid < 0) {
    ::close(exec_error[0]);
    throw error(std::string("fork: ") + std::strerror(fork_errno));
  }
  pid_ = pid;
  ::setpgid(pid_, pid_);  // also here, so the group exists whichever of the two runs first
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_error[0], &child_errno, sizeof child_errno);  // EOF once exec succeeded
  } while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (n > 0) throw error("cannot run " + exe + ": " + std::strerror(child_errno));
  ::fcntl(to_browser_, F_SETFL, ::fcntl(to_browser_, F_GETFL) | O_NONBLOCK);
  ::fcntl(from_browser_, F_SETFL, ::fcntl(from_browser_, F_GETFL) | O_NONBLOCK);
}

void Chromium::attach_page() {
  const milliseconds t = options_.start_timeout;
  // A page of our own rather than the one on the command line: no race with the browser's startup.
  const json target = call("Target.createTarget", {{"url", "about:blank"}}, false, t);
  const json attached = call("Target.attachToTarget",
                             {{"targetId", target.at("targetId")}, {"flatten", true}}, false, t);
  session_id_ = attached.at("sessionId").get<std::string>();
  call("Page.enable", json::object(), true, t);
  call("Page.setLifecycleEventsEnabled", {{"enabled", true}}, true, t);
  call("Runtime.enable", json::object(), true, t);
  call("Log.enable", json::object(), true, t);
  call("Emulation.setDeviceMetricsOverride",
       {{"width", options_.width},
        {"height", options_.height},
        {"deviceScaleFactor", 1},
        {"mobile", false}},
       true, t);
}

void Chromium::shutdown(bool graceful) noexcept {
  if (pid_ > 0) {
    // The browser exits before its zygotes: make them (and what they leave) our children rather
    // than init's while it closes, so that we reap them; this container's init leaves them zombies.
    int was_subreaper = 0;
    ::prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    try {
      const auto deadline = Clock::now() + (graceful ? options_.close_grace : milliseconds(0));
      if (graceful && !browser_gone_) send("Browser.close", json::object(), false);
      // Until the browser has exited (not yet reaped, so its pid and group id stay ours)...
      while (Clock::now() < deadline) {
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
          break;
        if (info.si_pid == pid_) break;
        if (browser_gone_) {
          const timespec tick{0, 10'000'000};
          ::nanosleep(&tick, nullptr);
        } else {
          pump(milliseconds(10));  // writes Browser.close, drains what it says meanwhile
        }
      }
    } catch (...) {
      // SIGKILL below
    }
    // ...then the whole group, whatever is left of it, and reap every member that became ours.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(-pid_, &status, 0) > 0 || errno == EINTR) {
    }
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {  // were it not in its group
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
    pid_ = -1;
  }
  for (int* fd : {&to_browser_, &from_browser_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (!dir_.empty() && std::getenv("OLY_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::int64_t Chromium::send(const std::string& method, const json& params, bool session) {
  json msg = {{"id", next_id_}, {"method", method}};
  if (!params.is_null()) msg["params"] = params;
  if (session) msg["sessionId"] = session_id_;
  out_ += msg.dump(-1, ' ', false, json::error_handler_t::replace);
  out_.push_back('\0');
  waiting_.insert(next_id_);
  return next_id_++;
}

json Chromium::call(const std::string& method, const json& params, bool session,
                    milliseconds timeout) {
  if (timeout <= milliseconds(0)) timeout = options_.call_timeout;
  if (session && session_id_.empty()) throw error(method + ": no page attached");
  if (session && !page_gone_.empty()) throw error(method + ": " + page_gone_);
  if (browser_gone_) fail("the browser has exited; cannot send " + method);
  const auto deadline = Clock::now() + timeout;
  const std::int64_t id = send(method, params, session);
  while (true) {
    if (auto it = replies_.find(id); it != replies_.end()) {
      const json reply = std::move(it->second);
      replies_.erase(it);
      waiting_.erase(id);
      if (reply.contains("error")) {
        const json& e = reply["error"];
        std::string text = e.value("message", e.dump());
        if (e.contains("data"))
          text += " (" + (e["data"].is_string() ? e["data"].get<std::string>() : e["data"].dump()) +
                  ")";
        throw error(method + " failed: " + text);
      }
      return reply.value("result", json::object());
    }
    if (browser_gone_) {
      waiting_.erase(id);
      fail("the browser exited while " + method + " waited for its reply");
    }
    if (session && !page_gone_.empty()) {
      waiting_.erase(id);
      throw error(method + ": " + page_gone_);
    }
    if (Clock::now() >= deadline) {
      waiting_.erase(id);  // a late reply is dropped
      fail("no reply to " + method + " within " + ms_text(timeout));
    }
    pump(until(deadline));
  }
}

void Chromium::pump(milliseconds wait) {
  if (browser_gone_) return;
  pollfd fds[2] = {{from_browser_, POLLIN, 0},
                   {to_browser_, static_cast<short>(out_.empty() ? 0 : POLLOUT), 0}};
  const int timeout = static_cast<int>(std::min<std::int64_t>(wait.count(), 60'000));
  if (::poll(fds, 2, timeout) < 0) return;  // EINTR: the caller loops
  if (!out_.empty() && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
    // The browser may be gone: take a SIGPIPE here as EPIPE, without touching the process's
    // handler.
    sigset_t pipe_only, old, pending;
    ::sigemptyset(&pipe_only);
    ::sigaddset(&pipe_only, SIGPIPE);
    ::sigpending(&pending);
    const bool was_pending = ::sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    const ssize_t n = ::write(to_browser_, out_.data(), out_.size());
    const int write_errno = errno;
    if (n < 0 && write_errno == EPIPE && !was_pending) {
      const timespec zero{0, 0};
      ::sigtimedwait(&pipe_only, nullptr, &zero);
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (n > 0) {
      out_.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && write_errno != EAGAIN && write_errno != EINTR) {
      browser_gone_ = true;
    }
  }
  if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) return;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(from_browser_, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      browser_gone_ = true;
      break;
    }
    if (n < 0) break;
    size_t scan = in_.size();
    in_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t end; (end = in_.find('\0', scan)) != std::string::npos; scan = start = end + 1) {
      on_message(in_.substr(start, end - start));
    }
    in_.erase(0, start);
  }
}

void Chromium::on_message(const std::string& text) {
  json m = json::parse(text, nullptr, false);
  if (m.is_discarded() || !m.is_object()) {
    console_.push_back("cdp: unparsable message: " + text.substr(0, 200));
    return;
  }
  if (m.contains("id") && m["id"].is_number_integer()) {
    const auto id = m["id"].get<std::int64_t>();
    if (waiting_.count(id) != 0) replies_[id] = std::move(m);
    return;
  }
  if (!m.contains("method") || !m["method"].is_string()) return;
  const std::string session = m.value("sessionId", "");
  if (!session.empty() && session != session_id_) return;  // another target's
  on_event(m["method"].get<std::string>(), m.value("params", json::object()));
}

void Chromium::on_event(const std::string& method, const json& params) {
  if (method == "Runtime.consoleAPICalled") {
    std::string line = "console." + params.value("type", "log") + ":";
    for (const auto& arg : params.value("args", json::array()))
      line += " " + remote_object_text(arg);
    console_.push_back(line);
  } else if (method == "Runtime.exceptionThrown") {
    const json d = params.value("exceptionDetails", json::object());
    const json e = d.value("exception", json::object());
    console_.push_back("exception: " +
                       (e.contains("description") ? remote_object_text(e) : d.value("text", "?")));
  } else if (method == "Log.entryAdded") {
    const json e = params.value("entry", json::object());
    std::string line = "log." + e.value("level", "info") + ": " + e.value("text", "");
    if (!e.value("url", "").empty()) line += " (" + e.value("url", "") + ")";
    console_.push_back(line);
  } else if (method == "Page.lifecycleEvent") {
    if (params.value("name", "") == "load") loaded_.insert(params.value("loaderId", ""));
  } else if (method == "Inspector.targetCrashed") {
    page_gone_ = "the page crashed";
    console_.push_back("page: crashed");
  } else if (method == "Target.detachedFromTarget") {
    if (params.value("sessionId", "") == session_id_)
      page_gone_ = "the page was detached (closed?)";
  }
}

void Chromium::idle(Clock::time_point deadline) {
  do {
    pump(until(deadline));
    if (browser_gone_) fail("the browser exited");
    if (!page_gone_.empty()) throw error(page_gone_);
  } while (Clock::now() < deadline);
}

void Chromium::navigate(const std::string& url, milliseconds timeout) {
  if (timeout <= milliseconds(0)) timeout = options_.call_timeout;
  const auto deadline = Clock::now() + timeout;
  loaded_.clear();
  const json r = call("Page.navigate", {{"url", url}}, true, timeout);
  if (!r.value("errorText", "").empty())
    throw error("navigate to " + short_url(url) + " failed: " + r.value("errorText", ""));
  const std::string loader = r.value("loaderId", "");
  if (loader.empty()) return;  // same-document navigation: no load event
  while (loaded_.count(loader) == 0) {
    if (Clock::now() >= deadline)
      fail("no load event for " + short_url(url) + " within " + ms_text(timeout));
    idle(std::min(deadline, Clock::now() + milliseconds(50)));
  }
}

json Chromium::run_script(const std::string& js) {
  const json r = call("Runtime.evaluate",
                      {{"expression", js}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails")) {
    const json& d = r["exceptionDetails"];
    const json e = d.value("exception", json::object());
    throw JsError(e.contains("description") || e.contains("value") ? remote_object_text(e)
                                                                   : d.value("text", "exception"));
  }
  return r.value("result", json::object());
}

json Chromium::evaluate(const std::string& js) {
  const json o = run_script(js);
  if (o.contains("value")) return o["value"];
  if (o.contains("unserializableValue")) return o["unserializableValue"];
  return nullptr;
}

bool Chromium::wait_for(const std::string& js_predicate, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    try {
      if (truthy(run_script(js_predicate))) return true;
    } catch (const JsError&) {
      // not yet: counts as false
    }
    if (Clock::now() >= deadline) return false;
    idle(std::min(deadline, Clock::now() + milliseconds(50)));
  }
}

void Chromium::screenshot(const std::string& png_path) {
  const json r = call("Page.captureScreenshot", {{"format", "png"}});
  const std::string png = base64_decode(r.value("data", ""));
  if (png.empty()) throw error("Page.captureScreenshot returned no data");
  std::ofstream out(png_path, std::ios::binary | std::ios::trunc);
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) throw error("cannot write " + png_path);
}

std::vector<std::string> Chromium::console_messages() {
  pump(milliseconds(0));  // what has arrived meanwhile
  return console_;
}

void Chromium::fail(const std::string& what) const {
  const std::string tail = log_tail();
  throw error(what + (tail.empty() ? "" : "; the end of its stderr:\n" + tail));
}

// The last lines of the browser's stderr, without the D-Bus complaints of a container with no bus.
std::string Chromium::log_tail() const {
  std::ifstream in(dir_ + "/chromium.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find("dbus") == std::string::npos) lines.push_back(line);
  }
  std::string out;
  for (size_t i = lines.size() > 12 ? lines.size() - 12 : 0; i < lines.size(); ++i)
    out += lines[i] + "\n";
  return out;
}

}  // namespace oly::testing
