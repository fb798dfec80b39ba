// PublisherCore: Cacofonix's deterministic logic.
//
// It draws updates from a Feed at `rate` per second (with `max_unacknowledged`, also no faster
// than acknowledgements make room: a closed loop, for throughput measurements), stamps each with
// {publisher, seq, token} (seq 1, 2, 3, ... per publisher incarnation; a set_score also with its
// write stamp `written_at_us`, the clock's wall time in µs, rising with seq) and sends them, at most
// `window` in flight, to the front end it believes is master. Every update is kept until
// acknowledged. The database applies a publisher's updates strictly in seq order and deduplicates
// resends, so recovery is go-back-N: on a timeout, a not_master answer, a seq_gap or a
// master_changed notice, the publisher resends everything unacknowledged, oldest first, to the
// (new) master. On a timeout with no better knowledge it tries the next front end of the config,
// which answers not_master with the master's address if it is not master itself.
//
// Byzantine mode: Cacofonix signs each update, any front end takes it (it commands the
// agreement), and an update counts as acknowledged only once two front ends vouch for the same
// (key, version): the answer of the one it sent to, and the Ack notices front ends publish on
// topic "publisher" (a traitor's word alone is never taken). It follows no not_master, error or
// master_changed (a traitor could say anything): whenever no update was acknowledged for a request
// timeout while some wait, it sends them to the next front end. At most kByzantineWindow updates
// are in flight, whatever cacofonix.window says.
//
// Every acknowledgement becomes an AckRecord (the shell writes them to the ack log for the
// checker) and is counted per team and medal, so that tallies can be compared with the database.
//
// Thread-safety: none (driven by one Node).
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "cacofonix/feed.h"
#include "common/config.h"
#include "common/node.h"
#include "common/records.h"

namespace oly {

struct PublisherLimits {
  double rate = 20;          // updates per second
  uint64_t max_updates = 0;  // stop producing after this many (0 = no limit)
  // Draw from the feed only while fewer than this many updates are unacknowledged (0 = no
  // limit). With a rate above what the cluster acknowledges, production then follows the
  // acknowledgements instead of queueing without bound; an update's `created` is when room
  // appeared, so its latency counts from then.
  uint64_t max_unacknowledged = 0;
};

class PublisherCore final : public Core {
 public:
  // Byzantine mode: at most this many updates in flight, whatever cacofonix.window says.
  static constexpr size_t kByzantineWindow = 256;

  // `publisher` is the incarnation's name, e.g. "cacofonix-1f3a"; `clock` gives the write stamps'
  // wall time (kept by reference: it outlives the core).
  PublisherCore(const Config& cfg, std::string publisher, std::unique_ptr<Feed> feed, PublisherLimits limits,
                const Clock& clock);

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  TimePoint next_wake() const override;
  Counters& counters() override { return counters_; }

  // Byzantine mode (config.byzantine): the publisher's secret signing key; every update produced
  // from now on carries its signature (byzantine/signed_update.h).
  void set_signing_key(std::string secret_key) { signing_key_ = std::move(secret_key); }

  // Stops drawing from the feed; what was drawn is still delivered.
  void stop_producing() { producing_ = false; }
  // True when nothing more will be produced and everything produced is acknowledged.
  bool finished() const { return !producing_ && pending_.empty(); }
  size_t unacknowledged() const { return pending_.size(); }
  const std::string& target() const { return target_; }
  const std::string& publisher() const { return publisher_; }
  // Acknowledged increments per "<team>/<medal>".
  const std::map<std::string, int64_t>& medal_counts() const { return medal_counts_; }

  // Records of acknowledgements since the last call.
  std::vector<AckRecord> take_acks() { return std::exchange(acks_, {}); }
  Stats stats() const;

 private:
  struct Pending {
    Body body;
    TimePoint created;
    TimePoint first_sent{};
    TimePoint last_sent{};
    uint64_t last_req = 0;  // req of the latest send: answers to older sends don't steer us
  };

  void produce(TimePoint now);
  // True when max_unacknowledged holds production back.
  bool full() const;
  void send_window(TimePoint now, Effects& out);
  void go_back(const std::string& target, TimePoint now, Effects& out);
  void on_ack(const std::string& from, const Ack& ack, uint64_t req, TimePoint now);
  // Byzantine mode: front end `from` vouches for `ack`; true once a second one agrees.
  bool vouched(const std::string& from, const Ack& ack);
  void on_error(const Error& e, uint64_t req, TimePoint now, Effects& out);
  uint64_t seq_of(uint64_t req) const;

  const Config cfg_;
  const std::string publisher_;
  const Clock& clock_;
  int64_t last_written_at_us_ = 0;  // the last set_score's stamp: the next is above it
  std::unique_ptr<Feed> feed_;
  PublisherLimits limits_;
  bool producing_ = true;
  uint64_t produced_ = 0;
  TimePoint next_produce_{};
  bool started_ = false;

  std::string target_;
  uint64_t next_seq_ = 1;       // seq of the next update produced
  uint64_t next_to_send_ = 1;   // seqs below this were sent in the current round
  size_t in_flight_ = 0;        // sent in the current round, not yet acknowledged
  uint64_t next_req_ = 1;
  std::map<uint64_t, Pending> pending_;     // by seq
  std::map<uint64_t, uint64_t> req_to_seq_; // live requests only

  std::string signing_key_;  // Byzantine mode
  // Byzantine mode: the last acknowledgement, or the last change of target; with updates pending,
  // none for a request timeout moves us to the next front end.
  TimePoint progress_at_{};
  // Byzantine mode: seq -> front end -> the (key, version) it vouched for.
  std::map<uint64_t, std::map<std::string, std::pair<std::string, uint64_t>>> vouchers_;

  std::map<std::string, int64_t> medal_counts_;
  std::vector<AckRecord> acks_;
  Counters counters_;
};

}  // namespace oly
