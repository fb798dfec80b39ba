// KvClient: one client of the key-value store over HTTP (docs/kvstore.md), as the `kv` binary
// and scripts use it.
//
// It is given the tier's servers (`host:port` HTTP addresses, in preference order) and sends each
// request as `GET /<key>` (a get), `GET /<key>=<value>` (a set) or `GET /<key>?local` (a local
// read), key and value percent-encoded: every byte but the unreserved ASCII `A-Z a-z 0-9 - . _ ~`
// is written `%XX` (upper-case hex), so `=`, `?`, `#`, `%`, `/`, a space and non-ASCII bytes
// never appear raw. Key and value are checked against the store's limits first (key 1-1,024
// bytes of valid UTF-8 without `=` or control characters U+0000-U+001F, U+007F; value 0-65,536
// bytes of valid UTF-8 without NUL); a request breaking one is refused without contacting any
// server (Result.status 0).
//
// Server choice: the leader when known, else the first server, then the next ones in list order
// (round and round). The leader is learned from the `X-Leader` header of any response and
// remembered for later calls; a leader not in the list is added to its end. A leader that could
// not be reached is forgotten (the next call starts again from the first server).
//
// Failover: a request goes to the next server (or to the leader a 503 names) on any transport
// failure (connection refused, name not resolved, no answer within Options::request_timeout,
// the connection closed before a full answer) and on `503 Service Unavailable`. Any other status
// is the answer and is returned as is, never retried elsewhere: 200, and the errors 400, 404,
// 405, 414, 500, 507 (Result.error is then the body's one-line text). After each full pass over
// the servers without an answer it waits a little (50 ms, doubling up to 1 s, never past the
// deadline) and starts another, until Options::max_passes passes were made or
// Options::total_timeout passed, whichever comes first.
//
// Repeated sets: an attempt that timed out, lost its connection or got a 503 may or may not have
// been applied by the tier; the set is sent again to the next server all the same. Setting a
// register twice to the same value leaves the same state, so the repeat is harmless to the store,
// but then the old value returned may be the value just written (the first attempt's effect)
// rather than the value before this call; and a set by another client applied between the two
// attempts is overwritten by the repeat.
//
// Time: real time (std::chrono::steady_clock) and real sockets; this is an edge component.
// libcurl's easy interface, one handle reused for every request (keep-alive when the server
// allows it; the store answers HTTP/1.0 and closes). Proxies from the environment are ignored.
//
// Thread-safety: a KvClient is used by one thread at a time; distinct KvClients may be used from
// distinct threads (curl_global_init runs once, the first time any KvClient is constructed).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oly::kv {

struct Options {
  // Limit of one attempt at one server, connecting included (milliseconds). Shorter: a dead
  // server is left sooner; too short: a slow answer (a set waits for a Raft round) is missed.
  std::chrono::milliseconds request_timeout{2000};
  // Full passes over the servers before giving up; 0: no limit, only total_timeout.
  int max_passes = 0;
  // Limit of a whole call, failovers and waits between passes included (milliseconds). An
  // attempt never runs past it.
  std::chrono::milliseconds total_timeout{10000};
};

struct Result {
  bool ok = false;
  // Get: the value, nullopt when the key has none (`X-Kv-Found: no`). Set: the old value, nullopt
  // when the key had none. Always nullopt when !ok. Without an `X-Kv-Found` header (not this
  // store's server), a body `<key>=NIL` is taken as no value.
  std::optional<std::string> value;
  // Why !ok: the server's one-line reason (its trailing newline removed) for an HTTP error, else
  // a message of the client's (a refused key or value, an unexpected answer, no server answered).
  std::string error;
  int status = 0;      // the HTTP status of the answer; 0 when no server answered or none was asked
  std::string server;  // `host:port` of the server that answered; "" when none did
  // Local reads only (`X-Applied-Index`, `X-Behind-Ms`, as the server wrote them: a number, or
  // "unknown" for behind_ms); nullopt when the header was absent.
  std::optional<std::string> applied_index;
  std::optional<std::string> behind_ms;
};

class KvClient {
 public:
  // Throws std::invalid_argument when `servers` is empty, when an entry is not `host:port`
  // (servers_file.h; the message names the entry), or when an option is out of range (timeouts
  // must be positive, max_passes >= 0). Duplicate entries are kept once. Contacts no server.
  explicit KvClient(const std::vector<std::string>& servers, Options options = {});
  ~KvClient();
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;

  // The value of `key`, linearizable; with `local`, the answer of the first server that answers
  // from its own applied state (possibly stale: see applied_index, behind_ms).
  Result get(std::string_view key, bool local = false);
  // Sets `key` to `value`; Result.value is the old value (see the note on repeats above).
  Result set(std::string_view key, std::string_view value);

  // The servers in the order tried from the first one (the given ones, then learned leaders).
  const std::vector<std::string>& servers() const { return servers_; }
  // The leader learned, "" when none is known.
  const std::string& leader() const { return leader_; }

 private:
  struct Handle;        // the CURL easy handle
  struct Response;      // one HTTP answer
  Result call(std::string_view key, const std::string& target);
  void learn_leader(const std::string& leader);

  std::vector<std::string> servers_;
  Options options_;
  std::string leader_;
  std::unique_ptr<Handle> handle_;
};

// Every byte of `s` but A-Z a-z 0-9 - . _ ~ written %XX (upper-case hex).
std::string percent_encode(std::string_view s);

// Why `key` breaks the store's limits, "" when it is a valid key.
std::string check_key(std::string_view key);
// Why `value` breaks the store's limits, "" when it is a valid value.
std::string check_value(std::string_view value);

}  // namespace oly::kv
