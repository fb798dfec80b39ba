// Consensus: the project's adapter over Canonical's libraft (Debian libraft-dev 0.15), the one
// place that knows libraft. It replicates opaque entries among a group of replicas and applies
// the committed ones, in log order, to a Machine on every replica.
//
// It is deterministic and does no I/O of its own: the caller hands it the time, the Raft messages
// that arrived (receive) and the ticks (tick); it queues the messages to send (take_outbox) and
// the disk writes, which flush() hands to the LogStore in one sync per batch. The same code
// therefore runs in the real replica (over ZeroMQ and a SQLite file) and in the whole-cluster
// simulation (in-memory network, virtual clock, seeded randomness). libraft's raft_io is
// implemented here over those: libraft's own libuv backend is not used.
//
// Nobody waits for the disk in the loop. flush() starts a batch's sync (LogStore::start_sync) and
// goes on; the batch's completions fire in a later flush(), once the store says the sync is done
// (next_wake() is then due), so nothing is acknowledged before it is durable. A leader whose disk
// stalls keeps heartbeating and answering probes; a follower's append is acknowledged to the
// leader only once durable. The one exception: before an election can start (a tick whose
// election timer has run out, a TimeoutNow) everything is made durable first, so a candidate
// never asks for votes with entries that are not on its disk (the gap below).
//
// libraft 0.15 commits nothing past what the leader itself has on disk (it counts the quorum at
// its own last stored index), so a leader whose sync has run for a whole election timeout hands
// leadership to a voter whose disk works (it has stored the barrier the leader appended at half
// the timeout), when one does (stall_handovers(): the hand-overs started); writes then go on there. When every disk stalls together nobody is
// handed anything: writes wait for the disks, reads do not (below).
//
// Reads need no log entry: confirm() is a read index, a round of probes that a majority of
// voters answers from memory. A stalled disk delays writes, never a confirm.
//
// Known gaps of libraft 0.15 and what this adapter does about each (REPLICATION.md section 1):
// - No entry of its own term is appended when a leader is elected, so reads could be answered
//   from an unknown commit point: leading() is false until a barrier proposed at election has
//   been applied.
// - A candidate could advertise entries that are not yet on disk: everything is durable before a
//   tick that can start an election and before a TimeoutNow (see above).
// - A failed disk write does not depose a leader: any LogStore failure stops this replica for
//   good (failed(); the process exits and is restarted, as after a crash).
// Pre-vote is on, so a replica that was cut off does not depose a healthy leader when it returns.
//
// Machine::apply runs for every committed command entry on every replica, in order; it must be
// deterministic. The state it builds must be rebuilt from scratch at every start: restore() of
// the latest snapshot (if any) then the entries after it. Machine::snapshot() is taken every
// snapshot_threshold applied entries; the log keeps snapshot_trailing entries behind it.
//
// Thread-safety: none; one thread. One Consensus at a time may exist per LogStore.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "consensus/log_store.h"

namespace oly::consensus {

struct Probe;  // rpc_codec.h

// A replica of the group: its Raft id (above 0, unique), endpoint name and the address it listens
// on ("" when the transport needs none, as in the simulation). libraft's configuration keeps
// name and address together in its address string (member_address()).
struct Member {
  uint64_t id = 0;
  std::string name;
  std::string address;
  bool operator==(const Member&) const = default;
};
std::string member_address(const Member& m);               // "name address", or "name"
Member member_of(uint64_t id, std::string_view address);   // its inverse

// What a member does: a voter counts in the quorum; a standby replicates without voting; a spare
// (just added) does neither.
enum class Standing { voter, standby, spare };
const char* to_string(Standing s);
struct Configured {
  Member member;
  Standing standing = Standing::voter;
};

struct Options {
  Member self;
  // The voters of a new group: a replica whose log is empty bootstraps with them (every member
  // of a new group must be given the same list). Empty for a replica joining a running group: it
  // starts with no configuration and learns it from the leader once added (add()).
  std::vector<Member> voters;
  int election_timeout_ms = 300;  // randomised by libraft in [1x, 2x)
  int heartbeat_ms = 50;          // a leader's heartbeat interval
  int tick_ms = 10;               // how often libraft's timers are checked
  bool pre_vote = true;
  unsigned snapshot_threshold = 1024;
  unsigned snapshot_trailing = 4096;
  size_t max_entry_bytes_per_rpc = 256 * 1024;
  uint64_t seed = 1;              // randomness of the election timeouts
};

// The replicated state machine.
class Machine {
 public:
  virtual ~Machine() = default;
  virtual void apply(std::string_view entry) = 0;
  virtual std::string snapshot() = 0;
  virtual void restore(std::string_view snapshot) = 0;
};

enum class Role { follower, candidate, leader, stopped };
const char* to_string(Role r);

class Consensus {
 public:
  // Loads the log (bootstrapping a new group with options.voters when it is empty), restores the
  // latest snapshot into `machine` and starts. Throws std::runtime_error when libraft refuses.
  Consensus(Options options, LogStore& log, Machine& machine, TimePoint now);
  ~Consensus();
  Consensus(const Consensus&) = delete;
  Consensus& operator=(const Consensus&) = delete;

  // A Raft message from endpoint `from`, whose Raft id is `sender` (0: look it up by name in the
  // configuration). A sender not in this replica's configuration is accepted when it gives its id
  // (a leader elected in a configuration this replica has not yet seen, or the leader of a group
  // this replica is joining). Dropped (and counted) when the bytes are malformed, when `from`
  // names a member whose id differs, or (sender 0) when `from` is not a member; the reason is
  // logged once per sender. A vote request from a replica with a shorter log while no leader is
  // known (or, in a split vote with equal logs, from a higher Raft id) makes this replica start
  // its own election at its next tick, instead of after its election timeout.
  void receive(const std::string& from, std::string_view rpc, TimePoint now, uint64_t sender = 0);
  // Runs libraft's timers when due (after a flush, see the file comment).
  void tick(TimePoint now);
  // The connection to the leader closed under us (its process died, database/replica_core.h):
  // brings this follower's election forward by one election timeout, as if that much more time
  // had passed without a heartbeat. libraft draws the timeout in [1x, 2x), so the election starts
  // within [0, 1x) of the loss instead of [1x, 2x). Safe whatever really happened: an election
  // may start at any time, and with pre-vote a leader that is in fact alive keeps leading. False,
  // and nothing done, unless this replica follows a known leader.
  bool leader_lost();
  // When tick() next has work, or now when a flush is pending or a sync it started is done.
  TimePoint next_wake() const;
  // Starts the sync of the queued disk writes (one per batch) and fires the completions of every
  // batch whose sync is done, which may queue more (a few rounds at most; the rest waits for the
  // next flush). Also sends the probes of the confirms asked since the last one.
  void flush(TimePoint now);
  // The Raft messages to send, as (endpoint name, bytes for RaftRpc.rpc), in order.
  std::vector<std::pair<std::string, std::string>> take_outbox();

  // Called once an entry (or barrier) is applied (`ok`), or when it cannot be (`ok` false: this
  // replica lost leadership or stopped; the entry may still be committed by a later leader).
  using Done = std::function<void(bool ok)>;
  // Appends `entry` when leading; false (and `done` never called) otherwise.
  bool propose(std::string_view entry, Done done);
  bool barrier(Done done);
  // A read index (Raft thesis 6.4), without a log entry: `done(true)` once a majority of the
  // voters (this leader included) has said, after this call, that it follows this leader in this
  // term. No other leader can then have been elected since the call, so the state applied up to
  // the commit index of the call's time answers a linearizable read. `done(false)` if leadership
  // is lost first. The probes of every call of a step go out together at its flush, and again
  // every heartbeat interval while any call waits. Leader only (false, and `done` never called,
  // otherwise). Followers answer probes from their loop, whatever their disk is doing.
  bool confirm(Done done);

  Role role() const;
  // Leading and caught up: libraft says leader and the election barrier has been applied.
  bool leading() const { return role() == Role::leader && ready_; }
  uint64_t term() const;
  // The leader this replica knows of, if any (itself when it leads).
  std::optional<Member> leader() const;
  uint64_t commit_index() const;
  uint64_t last_applied() const;
  uint64_t last_index() const;
  // When this replica last heard from the leader (or, leading, from a majority); nullopt never.
  std::optional<TimePoint> last_contact() const { return last_contact_; }
  // Per other member: how far its log matches the leader's (only meaningful when leading).
  struct Peer {
    Member member;
    uint64_t match_index = 0;
    bool voter = true;
  };
  std::vector<Peer> peers() const;
  uint64_t id() const { return options_.self.id; }

  // Membership. The configuration is replicated in the log; configuration() is the latest this
  // replica has (it may not be committed yet), at log index configuration_index().
  std::vector<Configured> configuration() const;
  uint64_t configuration_index() const;
  // Leading with a membership change (or a promotion's catch-up) in flight: libraft runs one at a
  // time, so add/assign/remove return false until it is done.
  bool changing() const;
  // Leader only; false when not leading, changing, or libraft refuses (the member is already
  // there, unknown, or has that standing). `done` is called once the change is committed (true)
  // or abandoned (false).
  bool add(const Member& m, Done done);  // as a spare
  bool assign(uint64_t id, Standing s, Done done);
  bool remove(uint64_t id, Done done);
  // Hands leadership to voter `id` (0: the most up-to-date one); `done(true)` once it leads.
  bool transfer(uint64_t id, Done done);
  // A storage failure stopped this replica (see the file comment); `failure()` says what.
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  uint64_t rpcs_dropped() const { return rpcs_dropped_; }
  // Elections this replica brought forward because a replica with a shorter log asked for its
  // vote while no leader was known (see receive).
  uint64_t elections_brought_forward() const { return elections_brought_forward_; }
  // Hand-overs of leadership this replica started because its disk held a sync too long.
  uint64_t stall_handovers() const { return stall_handovers_; }

  class Io;  // the raft_io (consensus.cpp)

 private:
  void after_step();  // role changes: the election barrier
  bool election_due() const;  // a follower's or candidate's election timer has run out
  void hand_over_if_disk_stalls(TimePoint now);
  void send_probes(TimePoint now);
  void on_probe(const std::string& from, uint64_t sender, const Probe& p);
  void settle_confirms();
  struct Fsm;


  Options options_;
  Machine& machine_;
  std::unique_ptr<Io> io_;
  struct Raft;
  std::unique_ptr<Raft> raft_;
  bool ready_ = false;
  uint64_t ready_term_ = 0;
  std::optional<TimePoint> last_contact_;
  std::string failure_;
  uint64_t rpcs_dropped_ = 0;
  uint64_t elections_brought_forward_ = 0;
  uint64_t stall_handovers_ = 0;
  uint64_t stall_probed_for_ = 0;  // the stuck sync (its ticket) a barrier was appended for
  uint64_t stall_probe_ = 0;       // that barrier's index
  std::vector<std::string> warned_;
  // Read index (confirm): each pending call, with the first probe that can answer it; the
  // highest probe each voter answered in probe_term_.
  struct Confirm {
    uint64_t seq;
    uint64_t term;
    Done done;
  };
  std::deque<Confirm> confirms_;
  uint64_t probe_seq_ = 0;
  TimePoint probe_sent_at_{};
  uint64_t probe_term_ = 0;
  std::map<uint64_t, uint64_t> probe_acks_;

};

}  // namespace oly::consensus
