// Self-tests of the headless Chromium driver (tests/browser/chromium.h): pages, scripts,
// screenshots, console capture, and that no browser process outlives its Chromium object.
#include "tests/browser/chromium.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using oly::testing::Chromium;
using oly::testing::ChromiumOptions;
using oly::testing::JsError;
using std::chrono::milliseconds;

namespace {

// The processes (zombies included) whose process group is `pgid`, from /proc.
std::vector<pid_t> group_members(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    std::ifstream in("/proc/" + name + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto paren = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    if (fields >> state >> ppid >> pgrp && pgrp == pgid)
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  ::closedir(proc);
  return out;
}

bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// A data: URL of `html` (percent-encoding only what a URL cannot hold as is).
std::string page(const std::string& html) {
  std::string url = "data:text/html;charset=utf-8,";
  for (const char ch : html) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '%' || c == '#' || c == '?' || c == ' ' || c == '\n' || c == '"' || c >= 0x80) {
      static const char* hex = "0123456789ABCDEF";
      url += '%';
      url += hex[c >> 4];
      url += hex[c & 15];
    } else {
      url += ch;
    }
  }
  return url;
}

bool contains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

}  // namespace

TEST(Chromium, ReadsTheTextOfANavigatedPage) {
  Chromium b;
  b.navigate(page("<title>Scores</title><h1 id=\"h\">Gold: 3 &amp; 50% done</h1>"));
  EXPECT_EQ(b.evaluate("document.getElementById('h').textContent"), "Gold: 3 & 50% done");
  EXPECT_EQ(b.evaluate("document.title"), "Scores");
  EXPECT_EQ(b.evaluate("[window.innerWidth, window.innerHeight]"), nlohmann::json({1024, 768}));
}

TEST(Chromium, WaitForFindsWhatAScriptAddsAfterATimeout) {
  Chromium b;
  b.navigate(
      page("<div id=\"board\"></div><script>setTimeout(() => {"
           " const p = document.createElement('p'); p.id = 'late'; p.textContent = 'USA 12';"
           " document.getElementById('board').append(p); }, 300);</script>"));
  // Throws (no #late) until the script has run: counts as false, not as an error.
  EXPECT_TRUE(
      b.wait_for("document.getElementById('late').textContent === 'USA 12'", milliseconds(5000)));
  EXPECT_FALSE(b.wait_for("document.getElementById('never') !== null", milliseconds(200)));
}

TEST(Chromium, WaitForUsesJavaScriptTruthiness) {
  Chromium b;
  for (const char* falsy : {"0", "''", "null", "undefined", "NaN", "-0", "0n", "false"}) {
    EXPECT_FALSE(b.wait_for(falsy, milliseconds(0))) << falsy;
  }
  for (const char* truthy : {"1", "'0'", "({})", "[]", "Infinity", "1n", "Promise.resolve(true)"}) {
    EXPECT_TRUE(b.wait_for(truthy, milliseconds(0))) << truthy;
  }
}

TEST(Chromium, EvaluateReturnsValuesAndAwaitsPromises) {
  Chromium b;
  EXPECT_EQ(b.evaluate("1 + 2"), 3);
  EXPECT_EQ(b.evaluate("({a: [1, 'x', null]})"), nlohmann::json::parse(R"({"a": [1, "x", null]})"));
  EXPECT_EQ(b.evaluate("new Promise(r => setTimeout(() => r('done'), 50))"), "done");
  EXPECT_TRUE(b.evaluate("undefined").is_null());
  EXPECT_EQ(b.evaluate("NaN"), "NaN");
}

TEST(Chromium, EvaluateThrowsTheTextOfAJavaScriptException) {
  Chromium b;
  try {
    b.evaluate("(() => { throw new Error('boom in the page'); })()");
    FAIL() << "no exception";
  } catch (const JsError& e) {
    EXPECT_NE(std::string(e.what()).find("boom in the page"), std::string::npos) << e.what();
  }
  EXPECT_THROW(b.evaluate("Promise.reject(new TypeError('rejected'))"), JsError);
  EXPECT_THROW(b.evaluate("this is not javascript"), JsError);
  EXPECT_EQ(b.evaluate("'still usable'"), "still usable");
}

TEST(Chromium, CdpErrorsAndTimeoutsThrowNamingTheMethod) {
  Chromium b;
  try {
    b.call("No.suchMethod");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("No.suchMethod"), std::string::npos) << e.what();
  }
  try {
    b.call("Runtime.evaluate", {{"expression", "new Promise(() => {})"}, {"awaitPromise", true}},
           true, milliseconds(200));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no reply to Runtime.evaluate within 200 ms"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(b.evaluate("40 + 2"), 42);  // the late reply, if any, is dropped
}

TEST(Chromium, NavigateThrowsWhenThePageCannotLoad) {
  // A port bound but not listening: connections to it are refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/";
  Chromium b;
  try {
    b.navigate(url);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ERR_CONNECTION_REFUSED"), std::string::npos) << e.what();
  }
  ::close(fd);
  EXPECT_EQ(b.evaluate("1"), 1);  // the page is still usable
}

TEST(Chromium, ScreenshotIsAPngOfTheViewport) {
  ChromiumOptions options;
  options.width = 640;
  options.height = 480;
  Chromium b(options);
  b.navigate(page("<body style=\"background:#0a0\"><h1>Medals</h1></body>"));
  const auto path = std::filesystem::path(b.temp_dir()) / "shot.png";
  b.screenshot(path.string());
  std::ifstream in(path, std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(png[at + 3]));
  };
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(16), 640u);  // width
  EXPECT_EQ(be32(20), 480u);  // height
  EXPECT_GT(png.size(), 1000u);
  EXPECT_LT(png.size(), 2'000'000u);
}

TEST(Chromium, CapturesConsoleMessagesAndUncaughtExceptions) {
  Chromium b;
  b.evaluate("console.log('hello', 42, {a: 1}); console.error('bad thing')");
  auto messages = b.console_messages();
  EXPECT_TRUE(contains(messages, "console.log: hello 42")) << ::testing::PrintToString(messages);
  EXPECT_TRUE(contains(messages, "console.error: bad thing")) << ::testing::PrintToString(messages);

  b.evaluate("setTimeout(() => { throw new Error('late boom'); }, 0); 0");
  // The exception event comes on its own; the evaluations in between let it arrive.
  b.wait_for("new Promise(r => setTimeout(() => r(true), 100))", milliseconds(2000));
  messages = b.console_messages();
  EXPECT_TRUE(contains(messages, "exception: Error: late boom"))
      << ::testing::PrintToString(messages);
}

TEST(Chromium, LeavesNoProcessBehind) {
  pid_t pid = -1;
  std::string dir;
  {
    Chromium b;
    pid = b.pid();
    dir = b.temp_dir();
    b.navigate(page("<p>x</p>"));
    ASSERT_TRUE(process_exists(pid));
    EXPECT_GE(group_members(pid).size(), 2u);  // the browser and its helpers share its group
  }
  EXPECT_FALSE(process_exists(pid));
  EXPECT_TRUE(group_members(pid).empty()) << ::testing::PrintToString(group_members(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(Chromium, LeavesNoProcessBehindWhenATestThrows) {
  pid_t pid = -1;
  try {
    Chromium b;
    pid = b.pid();
    b.evaluate("throw new Error('test failure')");
  } catch (const JsError&) {
  }
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(process_exists(pid));
  EXPECT_TRUE(group_members(pid).empty()) << ::testing::PrintToString(group_members(pid));
}

TEST(Chromium, LeavesNoProcessBehindWhenTheBrowserHangs) {
  pid_t pid = -1;
  {
    ChromiumOptions options;
    options.close_grace = milliseconds(300);
    Chromium b(options);
    pid = b.pid();
    ::kill(pid, SIGSTOP);  // Browser.close goes unanswered: the destructor must SIGKILL
  }
  EXPECT_FALSE(process_exists(pid));
  EXPECT_TRUE(group_members(pid).empty()) << ::testing::PrintToString(group_members(pid));
}

TEST(Chromium, ThrowsClearlyWhenTheBrowserIsMissing) {
  ChromiumOptions options;
  options.executable = "/nonexistent/chromium";
  try {
    Chromium b(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/chromium"), std::string::npos) << e.what();
  }
}

TEST(Chromium, ThrowsWhenTheBrowserExitsAtOnce) {
  ChromiumOptions options;
  options.executable = "/bin/false";
  try {
    Chromium b(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exited while Target.createTarget"), std::string::npos)
        << e.what();
  }
}

TEST(Chromium, ThrowsWhenTheBrowserDoesNotAnswerInTime) {
  // A "browser" that runs, writes its pid and never speaks CDP; the cleanup must end it too.
  const std::string script = (std::filesystem::temp_directory_path() /
                              ("oly-silent-browser-" + std::to_string(::getpid())))
                                 .string();
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho $$ > " << script << ".pid\nexec sleep 30\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ChromiumOptions options;
  options.executable = script;
  options.start_timeout = milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  try {
    Chromium b(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no reply to Target.createTarget within 300 ms"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  pid_t pid = -1;
  std::ifstream(script + ".pid") >> pid;
  std::filesystem::remove(script);
  std::filesystem::remove(script + ".pid");
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(process_exists(pid));
  EXPECT_TRUE(group_members(pid).empty()) << ::testing::PrintToString(group_members(pid));
}
