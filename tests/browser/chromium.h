// A headless Chromium for browser tests, driven by the Chrome DevTools Protocol (CDP) over
// --remote-debugging-pipe: no websocket, no port. Chromium reads commands from its fd 3 and writes
// replies and events to its fd 4, each a JSON text ended by a NUL byte.
//
// One Chromium object is one browser process with a fresh profile in a temporary directory and one
// page (a tab) the methods act on. The constructor returns once the page is attached and ready; the
// destructor always ends the browser: Browser.close, then SIGKILL to its whole process group after
// a short grace, then waitpid, then the profile is removed. The browser runs in a process group of
// its own (all its helper processes stay in it) and gets PR_SET_PDEATHSIG=SIGKILL, so it also dies
// when the test process is killed; its helpers then exit by themselves. While it closes, the test
// process is briefly a child subreaper (PR_SET_CHILD_SUBREAPER), so that it reaps the helpers the
// browser leaves behind instead of leaving them as zombies to init.
//
// Every CDP call waits for its reply at most a timeout (ChromiumOptions::call_timeout unless the
// method takes one) and throws std::runtime_error naming the method on a timeout, a CDP error reply
// or the browser's exit. Events that arrive while a call waits are handled, not lost: console
// messages are kept (console_messages()), load events end navigate().
//
// Thread-safety: none; use one object from one thread, one that outlives it: the death signal
// follows the thread that started the browser, not the process. Not copyable or movable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace oly::testing {

struct ChromiumOptions {
  // The browser binary. Empty: $OLY_CHROMIUM when set, else /usr/lib/chromium/chromium (Debian's
  // real binary: the /usr/bin/chromium shell wrapper adds flags of its own, such as extensions to
  // load), else the first of chromium, chromium-browser, google-chrome on $PATH.
  std::string executable;
  // The viewport in CSS pixels (device scale factor 1), so a screenshot is width x height pixels.
  int width = 1024;
  int height = 768;
  // How long the browser may take to start and attach the page.
  std::chrono::milliseconds start_timeout{15000};
  // Default wait for one CDP reply; navigate() waits for the load event at most this long too.
  std::chrono::milliseconds call_timeout{10000};
  // How long the destructor waits after Browser.close before it SIGKILLs the process group.
  std::chrono::milliseconds close_grace{2000};
  // Added to the command line after the driver's own flags.
  std::vector<std::string> extra_args;
};

// Thrown by evaluate() when the script throws (or its promise rejects); what() is the exception's
// text as the page's console would print it (e.g. "Error: boom\n    at <anonymous>:1:16"; a
// thrown non-Error value as itself: "42").
class JsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Chromium {
 public:
  // Starts the browser and attaches one page of options.width x options.height at about:blank.
  // Throws std::runtime_error when the binary is missing or cannot run, or when the browser exits
  // or does not answer within options.start_timeout (the message ends with the tail of its stderr).
  explicit Chromium(ChromiumOptions options = {});
  // Never throws; leaves no process of the browser behind (see the file comment).
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Loads `url` in the page and waits for its load event, at most `timeout` (default:
  // call_timeout). Throws when the navigation fails (the message holds Chromium's errorText, e.g.
  // net::ERR_CONNECTION_REFUSED) or the load event does not come in time. A same-document
  // navigation (only the #fragment changes) returns at once.
  void navigate(const std::string& url,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // Evaluates the JavaScript expression `js` in the page (a promise is awaited) and returns its
  // value as JSON: undefined is null; NaN, Infinity, -0 and BigInts come back as strings ("NaN",
  // "1n"); DOM nodes, functions and Maps, which do not serialize, come back as {}. Throws JsError
  // when the script throws, std::runtime_error on a CDP failure (a Symbol cannot be returned).
  nlohmann::json evaluate(const std::string& js);

  // Evaluates `js_predicate` every 50 ms until its value is truthy (as in JavaScript) or `timeout`
  // passes; returns whether it became truthy. A predicate that throws (say, the element is not
  // there yet) counts as false; CDP failures still throw. Events are handled between the polls.
  bool wait_for(const std::string& js_predicate, std::chrono::milliseconds timeout);

  // Writes a PNG of the page's viewport to `png_path`. Throws when the capture or the write fails.
  void screenshot(const std::string& png_path);

  // Everything the page logged so far, oldest first, one line each: console calls as
  // "console.<type>: <args separated by spaces>", uncaught exceptions as "exception: <text>",
  // browser log entries (failed loads, violations) as "log.<level>: <text> (<url>)".
  std::vector<std::string> console_messages();

  // Sends one CDP command to the page (`session` true) or to the browser and returns the reply's
  // result. Throws std::runtime_error naming `method` on an error reply, on the browser's exit or
  // when no reply comes within `timeout` (default: call_timeout).
  nlohmann::json call(const std::string& method,
                      const nlohmann::json& params = nlohmann::json::object(), bool session = true,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // The browser's process id, which is also its process group id.
  pid_t pid() const { return pid_; }
  // The temporary directory holding the profile and chromium.log (the browser's stderr); removed by
  // the destructor unless OLY_KEEP_TEST_DIRS is set.
  const std::string& temp_dir() const { return dir_; }

 private:
  void start();
  void attach_page();
  // Runtime.evaluate of `js`: its RemoteObject (value included); throws JsError on an exception.
  nlohmann::json run_script(const std::string& js);
  // Handles events until `until` (at least once); throws when the browser or the page is gone.
  void idle(std::chrono::steady_clock::time_point until);
  // Ends the browser (see the file comment); `graceful` false skips Browser.close and its grace.
  void shutdown(bool graceful) noexcept;
  // Queues one command; returns its id.
  std::int64_t send(const std::string& method, const nlohmann::json& params, bool session);
  // Moves bytes both ways for at most `wait` (0: only what is ready now); handles whole messages.
  // Sets browser_gone_ when the browser has closed its end; throws nothing of its own.
  void pump(std::chrono::milliseconds wait);
  void on_message(const std::string& text);
  void on_event(const std::string& method, const nlohmann::json& params);
  // Throws std::runtime_error with `what` and the tail of the browser's stderr.
  [[noreturn]] void fail(const std::string& what) const;
  std::string log_tail() const;

  ChromiumOptions options_;
  std::string dir_;
  pid_t pid_ = -1;
  int to_browser_ = -1;    // our end of the browser's fd 3
  int from_browser_ = -1;  // our end of the browser's fd 4
  bool browser_gone_ = false;
  std::string page_gone_;  // why the page is unusable (crashed, detached); empty while it is fine
  std::string out_;        // queued, not yet written
  std::string in_;         // read, not yet a whole message
  std::int64_t next_id_ = 1;
  std::set<std::int64_t> waiting_;                  // ids of calls still waiting for a reply
  std::map<std::int64_t, nlohmann::json> replies_;  // replies to ids in waiting_
  std::string session_id_;
  std::set<std::string> loaded_;  // loaderIds whose load event fired since the last navigate()
  std::vector<std::string> console_;
};

}  // namespace oly::testing
