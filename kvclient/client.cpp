#include "kvclient/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>

#include "common/kv_rules.h"
#include "common/servers_file.h"

namespace oly::kv {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A body is at most a key, `=` and a value; anything much longer is not this store's server.
constexpr size_t kMaxBody = 1 << 20;
constexpr milliseconds kFirstBackoff{50}, kMaxBackoff{1000};

// curl_global_init is not thread-safe in every libcurl; a function-local static is initialised
// exactly once even when several threads construct their first KvClient together.
void global_init() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) throw std::runtime_error(std::string("curl_global_init failed: ") + curl_easy_strerror(code));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// `s` without the blanks and line ends around it.
std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string describe(milliseconds d) { return std::to_string(d.count()) + " ms"; }

Result refused(std::string why) {
  Result r;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string check_key(std::string_view key) { return kv_key_problem(key); }

std::string check_value(std::string_view value) { return kv_value_problem(value); }

// One HTTP answer, or why there was none.
struct KvClient::Response {
  bool answered = false;  // false: a transport failure (fail over)
  bool too_long = false;  // the body went past kMaxBody
  std::string failure;    // when !answered
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names, last one wins
  std::string body;

  std::optional<std::string> header(const std::string& name) const {
    const auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

struct KvClient::Handle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};

  Handle() {
    global_init();
    curl = curl_easy_init();
    if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  }
  ~Handle() { curl_easy_cleanup(curl); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  static size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* r = static_cast<Response*>(user);
    if (r->body.size() + size * n > kMaxBody) {
      r->too_long = true;
      return 0;  // stops the transfer (CURLE_WRITE_ERROR)
    }
    r->body.append(data, size * n);
    return size * n;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* r = static_cast<Response*>(user);
    const std::string_view line(data, size * n);
    if (line.substr(0, 5) == "HTTP/") {
      r->headers.clear();  // a new response (after a 100 Continue, say)
    } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
      r->headers[lower(strip(line.substr(0, colon)))] = std::string(strip(line.substr(colon + 1)));
    }
    return size * n;
  }

  Response perform(const std::string& url, milliseconds timeout) {
    Response r;
    error[0] = '\0';
    const long ms = std::max<long>(1, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);      // no SIGALRM for timeouts: safe in threads
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);    // a key `..` must not be squashed to `/`
    curl_easy_setopt(curl, CURLOPT_PROXY, "");         // the store is reached directly
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "olympics-kv-client/1.0");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Handle::on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Handle::on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    const CURLcode code = curl_easy_perform(curl);
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && r.too_long)) {
      r.answered = true;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
      r.failure = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code));
    }
    return r;
  }
};

KvClient::KvClient(const std::vector<std::string>& servers, Options options) : options_(options) {
  if (servers.empty()) throw std::invalid_argument("no server given (expected at least one host:port)");
  for (const auto& s : servers) {
    const std::string entry = parse_host_port(s).str();
    if (std::find(servers_.begin(), servers_.end(), entry) == servers_.end()) servers_.push_back(entry);
  }
  if (options_.max_passes < 0) throw std::invalid_argument("max_passes must be 0 (no limit) or more");
  if (options_.request_timeout.count() <= 0) throw std::invalid_argument("request_timeout must be positive");
  if (options_.total_timeout.count() <= 0) throw std::invalid_argument("total_timeout must be positive");
  handle_ = std::make_unique<Handle>();
}

KvClient::~KvClient() = default;

Result KvClient::get(std::string_view key, bool local) {
  if (std::string why = check_key(key); !why.empty()) return refused(std::move(why));
  return call(key, "/" + percent_encode(key) + (local ? "?local" : ""));
}

Result KvClient::set(std::string_view key, std::string_view value) {
  if (std::string why = check_key(key); !why.empty()) return refused(std::move(why));
  if (std::string why = check_value(value); !why.empty()) return refused(std::move(why));
  return call(key, "/" + percent_encode(key) + "=" + percent_encode(value));
}

void KvClient::learn_leader(const std::string& leader) {
  std::string entry;
  try {
    entry = parse_host_port(leader).str();
  } catch (const std::invalid_argument&) {
    return;  // not an address: ignored, as a header we do not understand
  }
  if (std::find(servers_.begin(), servers_.end(), entry) == servers_.end()) servers_.push_back(entry);
  leader_ = entry;
}

Result KvClient::call(std::string_view key, const std::string& target) {
  const auto start = Clock::now();
  const auto deadline = start + options_.total_timeout;
  const auto index_of = [&](const std::string& s) {
    return static_cast<size_t>(std::find(servers_.begin(), servers_.end(), s) - servers_.begin());
  };
  std::vector<std::pair<std::string, std::string>> failures;  // the last failure of each server
  const auto failed = [&](const std::string& server, std::string why) {
    for (auto& [s, w] : failures) {
      if (s == server) {
        w = std::move(why);
        return;
      }
    }
    failures.emplace_back(server, std::move(why));
  };

  size_t next = leader_.empty() ? 0 : index_of(leader_);
  size_t tried_in_pass = 0;
  int passes = 0, attempts = 0;
  milliseconds backoff = kFirstBackoff;
  while (true) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    const auto remaining = std::chrono::ceil<milliseconds>(deadline - now);
    const std::string server = servers_[next % servers_.size()];
    const size_t at = next % servers_.size();
    const Response r = handle_->perform("http://" + server + target, std::min(options_.request_timeout, remaining));
    ++attempts;
    if (!r.answered) {
      failed(server, r.failure);
      if (leader_ == server) leader_.clear();
      next = at + 1;
    } else {
      if (auto leader = r.header("x-leader"); leader && !leader->empty()) learn_leader(*leader);
      if (r.status != 503) {
        Result res;
        res.status = static_cast<int>(r.status);
        res.server = server;
        if (r.too_long) {
          res.error = "unexpected answer from " + server + ": a body over " + std::to_string(kMaxBody) + " bytes";
          return res;
        }
        if (r.status != 200) {
          res.error = std::string(strip(r.body));
          if (res.error.empty()) res.error = "HTTP status " + std::to_string(r.status) + " from " + server;
          return res;
        }
        const std::string prefix = std::string(key) + "=";
        if (r.body.compare(0, prefix.size(), prefix) != 0) {
          res.error = "unexpected answer from " + server + ": the body does not start with the key and '='";
          return res;
        }
        const auto found = r.header("x-kv-found");
        std::string value = r.body.substr(prefix.size());
        if (found == "yes" || (!found && value != "NIL")) {
          res.value = std::move(value);
        } else if (found && found != "no") {
          res.error = "unexpected answer from " + server + ": X-Kv-Found: " + *found;
          return res;
        }
        res.applied_index = r.header("x-applied-index");
        res.behind_ms = r.header("x-behind-ms");
        res.ok = true;
        return res;
      }
      std::string why = std::string(strip(r.body));
      failed(server, "503 Service Unavailable" + (why.empty() ? "" : ": " + why));
      // To the leader it names, unless that is the server that just said it cannot answer.
      next = (!leader_.empty() && leader_ != server) ? index_of(leader_) : at + 1;
    }
    if (++tried_in_pass >= servers_.size()) {
      tried_in_pass = 0;
      ++passes;
      if (options_.max_passes > 0 && passes >= options_.max_passes) break;
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) break;
      std::this_thread::sleep_for(std::min<Clock::duration>(backoff, left));
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  Result res;
  const auto spent = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  res.error = "no server answered (" + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts") +
              " in " + describe(spent) + ")";
  for (size_t i = 0; i < failures.size(); ++i) {
    res.error += (i == 0 ? ": " : "; ") + failures[i].first + ": " + failures[i].second;
  }
  return res;
}

}  // namespace oly::kv
