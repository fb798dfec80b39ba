// TabletsCore: N logical tablets in one process, as one deterministic core.
//
// Each tablet registers with a front end (spread across them), which answers with the tablet's
// home front end and the list of all front ends. It follows a few events, drawn with Zipf-like
// popularity (event i of the config has weight 1/(i+1)^zipf_s), and both medal tallies, and
// reads each of them every read_interval_ms (+- jitter) from its current front end, asking for
// at least the version it last saw (min_version), so that its reads never go backwards.
// A read that times out is retried at once on the next front end of the list, which becomes the
// tablet's current one; so is one whose front end's connection closed under it (on_peer_lost:
// outcome "lost", counted in `lost`), without waiting for its timeout. A timed-out attempt counts
// in reads_failed; a lost one only when it was already the retry (the tablet waited for nothing).
//
// Serving notices (topic "serving", from the master through every front end): the core keeps the
// newest one it has accepted. A notice is accepted only when its (epoch, seq) is greater than the
// last accepted one (lexicographically); front end names not in the config are dropped from it,
// and a notice left with none is ignored. On accepting one, every registered tablet whose
// current front end differs from serving_frontend(id, home, serving) moves there. Reads in flight
// to a front end the notice does not list (it is suspected, maybe dead) are resent at once to the
// tablet's new front end, and the abandoned attempt is recorded with outcome "moved" (counted in
// reads_moved, not reads_failed); reads in flight elsewhere complete where they are. A registration
// reply sets the tablet's current front end the same way once a notice has been seen. A timed-out
// request still fails over on its own (tablets that miss a notice recover this way), but to the
// next front end after the failed one, in config order, that the latest notice lists (plain next
// one when no notice was seen or it lists no other). A tablet not yet registered makes its first
// attempt at serving_frontend(id, <its spread pick>, serving). Counters: serving_notices
// (accepted), serving_moves (tablets moved by a notice); stats() info "serving" is the accepted
// list, comma-joined.
//
// Byzantine mode (config.byzantine, docs/byzantine.md "Reads"): a tablet takes a (version, value)
// only when two front ends vouch for it. Each read asks two front ends at once (its current one and
// the next serving one); when their answers agree it takes them; otherwise (a traitor, or one
// simply fresher), once both have answered or failed, it asks the next front end it has not asked,
// and so on; it takes the newest version that two front ends answered with the same value, as
// soon as there is one. With every front end asked and no two agreeing, the read fails (outcome
// "unvouched"). One ReadRecord per read, naming the front end asked first (the tablet's current
// one); a timed-out front end counts as an answer of none (and the current one fails over as usual).
//
// Every read becomes a ReadRecord (the shell writes them to the history file for the checker).
//
// Thread-safety: none (driven by one Node).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/key.h"
#include "common/node.h"
#include "common/records.h"

namespace oly {

// What the tablets see of one key, for the watch view.
struct SeenValue {
  std::string text;        // e.g. "Gauls 3 - 2 Romans" or "gold 4 silver 2 bronze 1"
  uint64_t version = 0;
  TimePoint at;
};

class TabletsCore final : public Core {
 public:
  // Tablets are named <prefix><first>, ..., <prefix><first + count - 1>.
  TabletsCore(const Config& cfg, int count, int first = 0);

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  // The connection to front end `peer` closed (it died, or refused a connection): every request
  // waiting on it fails now as it would at its timeout (outcome "lost"), and is retried the same way.
  void on_peer_lost(const std::string& peer, TimePoint now, Effects& out) override;
  TimePoint next_wake() const override;
  Counters& counters() override { return counters_; }

  // Records of reads since the last call.
  std::vector<ReadRecord> take_reads() { return std::exchange(reads_, {}); }
  // Tablets per current front end, and per home front end (as the registry assigned them).
  std::map<std::string, int64_t> tablets_per_frontend() const;
  std::map<std::string, int64_t> tablets_per_home() const;
  // The latest value the first tablet saw per key (for --watch).
  const std::map<std::string, SeenValue>& first_tablet_view() const { return watch_; }
  int registered() const { return registered_; }
  Stats stats() const;
  // The ids of all tablets (for subscriptions).
  std::vector<std::string> ids() const;
  // Events followed by tablet `i` (for tests of popularity).
  std::vector<std::string> events_of(int i) const;
  // The text a tablet shows of a value ("Gauls 3 - 2 Romans", "gold 4  silver 2  bronze 1").
  static std::string text_of(const Score& s);
  static std::string text_of(const Tally& t);
  // The value as a ReadRecord keeps it ("3-2", "4/2/1").
  static std::string value_of(const Score& s);
  static std::string value_of(const Tally& t);
  // Tells `o` of every read a tablet takes (key, version, text): for the simulator's checks.
  using ReadObserver = std::function<void(const std::string& key, uint64_t version, const std::string& text)>;
  void observe_reads(ReadObserver o) { read_observer_ = std::move(o); }
  // The front ends of the latest accepted Serving notice (empty before the first one).
  const std::vector<std::string>& serving() const { return serving_; }

 private:
  struct Tablet {
    std::string id;
    std::vector<Key> keys;
    std::map<Key, uint64_t> last_version;
    std::set<Key> reading;  // keys with a read in flight (never two at once)
    std::string home;
    std::string current;
    bool registered = false;
  };
  struct InFlight {
    int tablet;
    std::optional<Key> key;  // none for a registration
    TimePoint start;
    TimePoint deadline;
    std::string frontend;
    bool retry;            // already a retry after a timeout
    uint64_t vouch = 0;    // Byzantine mode: the vouched read it is part of
  };
  // Byzantine mode: one read asked of several front ends.
  struct Vouch {
    int tablet;
    Key key;
    TimePoint start;
    std::vector<std::string> asked;
    // (version, value, text) by front end; none: an error or a timeout.
    std::map<std::string, std::optional<std::tuple<uint64_t, std::string, std::string>>> answers;
  };

  void send_register(int t, TimePoint now, Effects& out, bool retry);
  void send_read(int t, const Key& key, TimePoint now, Effects& out, bool retry);
  // One request for `key` to `frontend` (part of vouched read `vouch`, or 0).
  void send_request(int t, const Key& key, const std::string& frontend, uint64_t vouch, TimePoint now, Effects& out,
                    bool retry);
  // Records the read attempt (not a registration) with its outcome; counts it in reads_ok, or in
  // reads_failed when `failed`.
  void finish(uint64_t req, InFlight& f, TimePoint now, uint64_t version, const std::string& outcome,
              bool failed = true, const std::string& value = {});
  void on_reply(uint64_t req, Message& msg, TimePoint now, Effects& out);
  // Byzantine mode: a vouched read, an answer (none for a failure) of one of its front ends.
  void send_vouched_read(int t, const Key& key, TimePoint now, Effects& out);
  void ask(uint64_t vouch, const std::string& frontend, TimePoint now, Effects& out);
  void vouch_answer(const InFlight& f, std::optional<std::tuple<uint64_t, std::string, std::string>> answer,
                    TimePoint now, Effects& out);
  void on_timeout(uint64_t req, TimePoint now, Effects& out);
  // Request `req` got no answer (outcome "timeout" or "lost"): the tablet fails over, and the
  // request is retried once, at once, on its next front end.
  void abandon(uint64_t req, const std::string& outcome, TimePoint now, Effects& out);
  void on_serving(const Serving& notice, TimePoint now, Effects& out);
  // Where a tablet fails over to after `failed` timed out (see the contract above).
  const std::string& failover_target(const std::string& failed) const;
  bool is_serving(const std::string& frontend) const;
  void schedule(int t, TimePoint at);
  std::map<std::string, int64_t> count_by(std::string Tablet::*frontend) const;
  TimePoint jittered(TimePoint now);

  const Config cfg_;
  std::vector<Tablet> tablets_;
  std::map<std::string, int> index_;  // tablet id -> index
  std::mt19937_64 rng_;
  using Due = std::pair<TimePoint, int>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;  // next read round per tablet
  std::map<uint64_t, InFlight> in_flight_;
  std::map<uint64_t, Vouch> vouches_;  // Byzantine mode
  ReadObserver read_observer_;
  uint64_t next_vouch_ = 1;
  std::deque<std::pair<TimePoint, uint64_t>> deadlines_;  // in send order (timeouts are equal)
  uint64_t next_req_ = 1;
  bool started_ = false;
  int registered_ = 0;
  std::vector<ReadRecord> reads_;
  std::map<std::string, SeenValue> watch_;
  // The latest accepted Serving notice: its (epoch, seq) and its front ends (config ids only).
  bool serving_seen_ = false;
  std::pair<uint64_t, uint64_t> serving_version_{0, 0};
  std::vector<std::string> serving_;
  Counters counters_;
};

}  // namespace oly
