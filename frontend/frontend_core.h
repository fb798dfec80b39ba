// FrontendCore: the deterministic logic of one front end ("stone server").
//
// Data flow of an update: Cacofonix sends set_score / increment_medal_tally to the master front
// end; the master checks the publisher's token, stamps its fencing epoch on the update and
// forwards it to the database; the database's Ack (durable) is relayed to Cacofonix. A front end
// that is not master answers not_master with the master's id and address; one that the database
// fences (a newer epoch exists) demotes itself and does the same.
//
// Data flow of a read: a tablet's get_score / get_medal_tally / get_scoreboard is answered from
// the database (the cache comes with the caching work); register asks the database's registry
// for the tablet's home front end.
//
// Mastership: the first front end of the config is the home master. At start it asks the
// database who is master and claims the next epoch (compare-and-set), which fences any older
// incarnation. Others learn the master from the database and from heartbeats, which every front
// end sends to every peer each heartbeat.interval_ms and which carry the sender's view
// (master, epoch); the highest epoch wins.
//
// Thread-safety: none (a Core is driven by one Node).
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>

#include "common/config.h"
#include "common/node.h"

namespace oly {

class FrontendCore final : public Core {
 public:
  // REQUIRES: cfg.frontend(id) != nullptr. `req_base` seeds the ids of requests this front end
  // sends (pick a different one per incarnation so that late replies to an earlier incarnation
  // are not mistaken for answers).
  FrontendCore(const Config& cfg, std::string id, uint64_t req_base);

  void on_message(const std::string& from, Message msg, bool notice, TimePoint now, Effects& out) override;
  void on_tick(TimePoint now, Effects& out) override;
  TimePoint next_wake() const override { return next_wake_; }
  Counters& counters() override { return counters_; }

  bool is_master() const { return master_ == id_ && epoch_ > 0 && claimed_; }
  const std::string& master() const { return master_; }
  uint64_t epoch() const { return epoch_; }
  const std::string& id() const { return id_; }

 private:
  // A request we sent to the database and the client request it serves.
  struct Pending {
    enum class Kind { kRead, kRegister, kUpdate, kGetMaster, kClaim } kind;
    std::string client;      // endpoint to answer ("" for our own requests)
    uint64_t client_req = 0;
    TimePoint sent_at;
  };

  void on_client_request(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_update(const std::string& from, Message& msg, TimePoint now, Effects& out);
  void on_database_reply(Message& msg, TimePoint now, Effects& out);
  void on_heartbeat(const Heartbeat& hb, TimePoint now, Effects& out);
  void on_master_info(const MasterInfo& info, bool claim_reply, TimePoint now, Effects& out);
  void ask_database(Body body, Pending p, Effects& out);
  void adopt_master(const std::string& master, uint64_t epoch, TimePoint now, Effects& out);
  void expire_pending(TimePoint now, Effects& out);
  Error not_master_error() const;
  Stats stats(TimePoint now) const;
  bool is_home_master() const { return cfg_.frontends.front().id == id_; }
  const FrontendInfo* info_of(const std::string& id) const;
  void recompute_wake();

  const Config cfg_;
  const std::string id_;
  std::vector<FrontendInfo> frontends_;
  std::set<std::string> events_;

  std::string master_;      // who we believe is master ("" = unknown)
  uint64_t epoch_ = 0;      // its epoch
  bool claimed_ = false;    // we claimed epoch_ ourselves and the database agreed
  bool claim_in_flight_ = false;

  uint64_t next_req_;
  std::map<uint64_t, Pending> pending_;
  std::deque<uint64_t> pending_order_;  // request ids in send order, for timeouts

  std::map<std::string, TimePoint> tablets_seen_;  // tablet -> last read, for "tablets served"
  TimePoint next_heartbeat_{};
  TimePoint next_master_poll_{};
  TimePoint next_wake_{};
  TimePoint started_{};
  bool started_set_ = false;
  Counters counters_;
};

}  // namespace oly
