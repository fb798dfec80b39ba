// Every message of the wire protocol, as plain structs.
//
// On the wire each message is one ZeroMQ frame holding one MessagePack map with string keys:
// `op` (the struct's kOp), `req` (the client-chosen request id, echoed by the reply), `ok` on
// replies (true, or false for Error), then the struct's own fields under the names its
// `visit` gives. Unknown keys are ignored so that fields can be added without breaking peers;
// optional fields are std::optional and may be absent. See codec.h for the rules of decoding
// and docs/protocol.md for the protocol itself.
//
// Each struct lists its fields once, in `visit(F&& f)`, which the codec uses both to encode
// and to decode. Adding a message means: define the struct, add it to `Body` below.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error_code.h"

namespace oly {

// ---------------------------------------------------------------- shared value types

// Opaque bytes (MessagePack bin on the wire, never checked as text): the Raft messages between
// database replicas carry them.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

// The score of one event. `version` is assigned by the database and rises by one on every
// applied update of this event; 0 means "never updated". `updated_at` is the wall-clock time of
// that update in milliseconds since the Unix epoch (0 when never updated).
struct Score {
  std::string event;
  int64_t gauls = 0;
  int64_t romans = 0;
  uint64_t version = 0;
  int64_t updated_at = 0;
  template <class F> void visit(F&& f) {
    f("event", event); f("gauls", gauls); f("romans", romans);
    f("version", version); f("updated_at", updated_at);
  }
  bool operator==(const Score&) const = default;
};

// The medal tally of one team, versioned like Score.
struct Tally {
  std::string team;
  int64_t gold = 0;
  int64_t silver = 0;
  int64_t bronze = 0;
  uint64_t version = 0;
  template <class F> void visit(F&& f) {
    f("team", team); f("gold", gold); f("silver", silver); f("bronze", bronze);
    f("version", version);
  }
  bool operator==(const Tally&) const = default;
};

// A front end as tablets learn it from `registered`: its id, its request address (ROUTER) and
// notice address (PUB), and the native TCP port where tablets read (docs/protocol.md, section 8).
struct FrontendInfo {
  std::string id;
  std::string address;
  std::string pub;
  std::string tcp;
  template <class F> void visit(F&& f) { f("id", id); f("address", address); f("pub", pub); f("tcp", tcp); }
  bool operator==(const FrontendInfo&) const = default;
};

// One row of the tablet registry: a tablet and its home front end.
struct RegistryEntry {
  std::string tablet;
  std::string home;
  template <class F> void visit(F&& f) { f("tablet", tablet); f("home", home); }
  bool operator==(const RegistryEntry&) const = default;
};

// Gossip mode (docs/gossip.md): a vector timestamp, replica -> how many of the updates it accepted
// from front ends are covered (gossip/vector_clock.h; entries at 0 left out).
using VectorStamp = std::map<std::string, uint64_t>;

// ---------------------------------------------------------------- tablet-facing

// Tablet -> front end. Registers (or re-registers) a tablet; the reply names its home.
struct Register {
  static constexpr std::string_view kOp = "register";
  std::string tablet;
  template <class F> void visit(F&& f) { f("tablet", tablet); }
};

// Reply to Register: the tablet's home front end and every front end it may fail over to.
struct Registered {
  static constexpr std::string_view kOp = "registered";
  std::string tablet;
  std::string home;
  std::vector<FrontendInfo> frontends;
  template <class F> void visit(F&& f) { f("tablet", tablet); f("home", home); f("frontends", frontends); }
};

// Tablet -> front end (and front end -> database). `min_version`, when given, asks for a value
// at least that new (a tablet's session guarantee: its reads never go backwards). `tablet`, when
// given, names the reading tablet (front ends count the tablets they serve). `committed` (front
// end -> replicated database only; others ignore it): true asks for what the tier has committed
// now, without waiting for the writes of the key that it is still committing (a read index,
// database/replica_core.h).
struct GetScore {
  static constexpr std::string_view kOp = "get_score";
  std::string event;
  std::optional<uint64_t> min_version;
  std::optional<std::string> tablet;
  std::optional<bool> committed;
  std::optional<VectorStamp> clock = {};  // gossip mode, front end -> replica: answer once you have seen this
  template <class F> void visit(F&& f) {
    f("event", event); f("min_version", min_version); f("tablet", tablet); f("committed", committed);
    f("clock", clock);
  }
};

struct GetMedalTally {
  static constexpr std::string_view kOp = "get_medal_tally";
  std::string team;
  std::optional<uint64_t> min_version;
  std::optional<std::string> tablet;
  std::optional<bool> committed;
  std::optional<VectorStamp> clock = {};  // gossip mode, front end -> replica: answer once you have seen this
  template <class F> void visit(F&& f) {
    f("team", team); f("min_version", min_version); f("tablet", tablet); f("committed", committed);
    f("clock", clock);
  }
};

// Everything in one reply. `clock` as GetScore's (gossip mode, front end -> replica).
struct GetScoreboard {
  static constexpr std::string_view kOp = "get_scoreboard";
  std::optional<std::string> tablet;
  std::optional<VectorStamp> clock = {};
  template <class F> void visit(F&& f) { f("tablet", tablet); f("clock", clock); }
};

// Reply to GetScore. `staleness_bound_ms` is set by a front end in pull mode: the most the
// value can be behind the database (its time to refresh plus the poll round trip).
// Gossip mode, replica -> front end: `clock` is what the answering replica had seen, and `partial`
// says it answered without everything the request's clock asked for, because the replica holding
// the rest is down (docs/gossip.md).
struct ScoreReply {
  static constexpr std::string_view kOp = "score";
  Score score;
  std::optional<int64_t> staleness_bound_ms;
  std::optional<VectorStamp> clock = {};
  std::optional<bool> partial = {};
  template <class F> void visit(F&& f) {
    f("score", score); f("staleness_bound_ms", staleness_bound_ms); f("clock", clock); f("partial", partial);
  }
};

struct TallyReply {
  static constexpr std::string_view kOp = "medal_tally";
  Tally tally;
  std::optional<int64_t> staleness_bound_ms;
  std::optional<VectorStamp> clock = {};
  std::optional<bool> partial = {};
  template <class F> void visit(F&& f) {
    f("tally", tally); f("staleness_bound_ms", staleness_bound_ms); f("clock", clock); f("partial", partial);
  }
};

// `clock` and `partial` as ScoreReply's (gossip mode).
struct Scoreboard {
  static constexpr std::string_view kOp = "scoreboard";
  std::vector<Score> scores;
  std::vector<Tally> tallies;
  std::optional<VectorStamp> clock = {};
  std::optional<bool> partial = {};
  template <class F> void visit(F&& f) { f("scores", scores); f("tallies", tallies); f("clock", clock); f("partial", partial); }
};

// Notice, master -> tablets on topic "serving": the front ends that serve tablets now, in
// config order. A tablet reads from its home front end while that one is listed, otherwise from
// serving[hash(tablet id) % size] (see serving_frontend). Newer (epoch, seq) wins.
struct Serving {
  static constexpr std::string_view kOp = "serving";
  uint64_t epoch = 0;
  uint64_t seq = 0;
  std::vector<std::string> frontends;
  template <class F> void visit(F&& f) { f("epoch", epoch); f("seq", seq); f("frontends", frontends); }
};

// Where a tablet with `home` should read while `serving` serve: its home if listed, otherwise
// one of them chosen by a stable hash of its id (so the moved tablets spread evenly). Empty
// `serving` keeps `home`.
const std::string& serving_frontend(const std::string& tablet, const std::string& home,
                                    const std::vector<std::string>& serving);

// Front-end ids comma-joined ("fe1,fe2"), as stats info shows such lists.
std::string comma_joined(const std::vector<std::string>& ids);
// The reverse: the non-empty pieces between commas ("fe1,,fe2" -> {"fe1", "fe2"}; "" -> {}).
std::vector<std::string> comma_split(const std::string& list);

// Anyone -> front end (which asks the database tier), or -> a replica: the play-by-play, the
// latest applied updates oldest first, only `event`'s set_scores when given, only those whose `at`
// is above `since` when given, at most `limit` (default and most: kFeedMax). Reply: FeedReply.
// In raft mode and with a single database, a read at the leader of the replicated record of
// applied updates, in log order, `at` each one's commit time in µs (database/requests.h).
struct GetFeed {
  static constexpr std::string_view kOp = "get_feed";
  static constexpr uint64_t kFeedMax = 100;
  std::optional<std::string> event;
  std::optional<uint64_t> since;
  std::optional<uint64_t> limit;
  template <class F> void visit(F&& f) { f("event", event); f("since", since); f("limit", limit); }
};

// One applied update of the feed: the update as written (a score's gauls and romans, and the
// publisher's `written_at_us`; a tally's medal), the key's version after it, and its vector
// timestamp `ts`. `at` is the sum of ts: the feed is ordered by (at, origin, origin_seq), an order
// that extends the causal one and is the same on every replica holding the same updates. A
// set_score that lost to a later-written one (gossip mode, two publishers) shows what it wrote;
// the score kept the winner's value.
struct FeedItem {
  uint64_t at = 0;
  std::string origin;
  uint64_t origin_seq = 0;
  VectorStamp ts;
  std::string publisher;
  uint64_t seq = 0;
  std::string op;
  std::string key;
  uint64_t version = 0;
  int64_t gauls = 0;
  int64_t romans = 0;
  std::string medal;
  std::optional<int64_t> written_at_us = {};
  template <class F> void visit(F&& f) {
    f("at", at); f("origin", origin); f("origin_seq", origin_seq); f("ts", ts); f("publisher", publisher);
    f("seq", seq); f("op", op); f("key", key); f("version", version); f("gauls", gauls); f("romans", romans);
    f("medal", medal); f("written_at_us", written_at_us);
  }
};

struct FeedReply {
  static constexpr std::string_view kOp = "feed";
  std::vector<FeedItem> items;
  template <class F> void visit(F&& f) { f("items", items); }
};

// ---------------------------------------------------------------- publisher-facing

// Publisher -> master (and master -> database, which adds `epoch`). `publisher` names one
// incarnation of a publisher; `seq` starts at 1 and rises by one per update of that publisher.
// `token` authenticates the publisher to the front end (config: cacofonix.token). In Byzantine
// mode `signature` is the publisher's Ed25519 signature of the update (byzantine/signed_update.h),
// which every front end and the database check.
// SetScore's `written_at_us` is the publisher's wall clock when it made the update, µs since the
// Unix epoch, rising with seq; it travels with every copy and resend of the update. In gossip
// mode it decides between concurrent set_scores of one event by different publishers: the score
// is the write with the greatest (written_at_us, publisher, seq), on every replica whatever the
// order they arrive in (docs/gossip.md, "Concurrent writers"). Absent counts as 0; raft mode and
// the single database apply in log order and ignore it.
struct SetScore {
  static constexpr std::string_view kOp = "set_score";
  std::string event;
  int64_t gauls = 0;
  int64_t romans = 0;
  std::string publisher;
  uint64_t seq = 0;
  std::optional<std::string> token;
  std::optional<uint64_t> epoch;
  std::optional<Bytes> signature;
  std::optional<int64_t> written_at_us = {};
  template <class F> void visit(F&& f) {
    f("event", event); f("gauls", gauls); f("romans", romans); f("publisher", publisher);
    f("seq", seq); f("token", token); f("epoch", epoch); f("signature", signature);
    f("written_at_us", written_at_us);
  }
};

// Adds one medal of kind `medal` (gold, silver, bronze) to `team`. Not idempotent: exactly-once
// comes from the database's (publisher, seq) record.
struct IncrementMedalTally {
  static constexpr std::string_view kOp = "increment_medal_tally";
  std::string team;
  std::string medal;
  std::string publisher;
  uint64_t seq = 0;
  std::optional<std::string> token;
  std::optional<uint64_t> epoch;
  std::optional<Bytes> signature;  // as SetScore's
  template <class F> void visit(F&& f) {
    f("team", team); f("medal", medal); f("publisher", publisher); f("seq", seq);
    f("token", token); f("epoch", epoch); f("signature", signature);
  }
};

// Reply to an update: it is durable. `key` is "score/<event>" or "tally/<team>" and `version`
// the key's version after this update. `duplicate` is true when this (publisher, seq) had been
// applied before and the stored result is returned.
// The database also fills in the key's value after the update (`score` or `tally`), which
// the master writes through to its cache; publishers may ignore it.
// Byzantine mode: every front end whose submission of an update the database acknowledged
// publishes that Ack as a notice on topic "publisher" (it vouches for it); Cacofonix takes an
// update as acknowledged once two front ends vouch for the same (key, version).
struct Ack {
  static constexpr std::string_view kOp = "ack";
  std::string publisher;
  uint64_t seq = 0;
  std::string key;
  uint64_t version = 0;
  bool duplicate = false;
  std::optional<Score> score;
  std::optional<Tally> tally;
  std::optional<VectorStamp> clock = {};  // gossip mode: the accepting replica's, covering this update
  template <class F> void visit(F&& f) {
    f("publisher", publisher); f("seq", seq); f("key", key); f("version", version);
    f("duplicate", duplicate); f("score", score); f("tally", tally); f("clock", clock);
  }
};

// Notice, front end -> publishers on topic "publisher": the master is now `frontend` at
// `address`, with fencing epoch `epoch`.
struct MasterChanged {
  static constexpr std::string_view kOp = "master_changed";
  std::string frontend;
  std::string address;
  uint64_t epoch = 0;
  template <class F> void visit(F&& f) { f("frontend", frontend); f("address", address); f("epoch", epoch); }
};

// ---------------------------------------------------------------- internal: database

// Front end -> database: make `frontend` master with `epoch`, which must be exactly the current
// epoch + 1 (compare-and-set). Reply: MasterInfo on success, Error{code: "fenced"} otherwise, or
// Error{code: "lease_held", retry_after_ms} while another front end's master lease is live.
struct ClaimMaster {
  static constexpr std::string_view kOp = "claim_master";
  std::string frontend;
  uint64_t epoch = 0;
  template <class F> void visit(F&& f) { f("frontend", frontend); f("epoch", epoch); }
};

// Master -> database, every heartbeat.interval_ms: renew the master lease of `frontend` at
// `epoch` (it lasts heartbeat.timeout_ms from the database's receipt; the master counts it from
// its send time, so it ends there first). With `release`, end the lease now (ordered handoff).
// Reply: MasterInfo with lease_ms, or Error{code: "fenced"} when `epoch` is no longer current.
struct RenewMaster {
  static constexpr std::string_view kOp = "renew_master";
  std::string frontend;
  uint64_t epoch = 0;
  bool release = false;
  template <class F> void visit(F&& f) { f("frontend", frontend); f("epoch", epoch); f("release", release); }
};

// Anyone -> database: who is master? Reply: MasterInfo.
struct GetMaster {
  static constexpr std::string_view kOp = "get_master";
  template <class F> void visit(F&&) {}
};

// The database's epoch row. frontend is "" and epoch 0 before anyone claimed.
// `lease_ms` answers renew_master: how long the renewed master lease lasts.
struct MasterInfo {
  static constexpr std::string_view kOp = "master";
  std::string frontend;
  uint64_t epoch = 0;
  std::optional<int64_t> lease_ms;
  template <class F> void visit(F&& f) { f("frontend", frontend); f("epoch", epoch); f("lease_ms", lease_ms); }
};

// Front end -> database: give `tablet` a home among `frontends` (kept if it has one there,
// otherwise the one with the fewest home tablets, ties to the earliest in the list).
// Reply: RegistryEntry-shaped TabletHome.
struct AssignHome {
  static constexpr std::string_view kOp = "assign_home";
  std::string tablet;
  std::vector<std::string> frontends;
  template <class F> void visit(F&& f) { f("tablet", tablet); f("frontends", frontends); }
};

struct TabletHome {
  static constexpr std::string_view kOp = "tablet_home";
  std::string tablet;
  std::string home;
  template <class F> void visit(F&& f) { f("tablet", tablet); f("home", home); }
};

// Anyone -> database: the tablet registry, all of it or only the tablets whose home is `home`.
struct ListRegistry {
  static constexpr std::string_view kOp = "list_registry";
  std::optional<std::string> home;
  template <class F> void visit(F&& f) { f("home", home); }
};

struct Registry {
  static constexpr std::string_view kOp = "registry";
  std::vector<RegistryEntry> entries;
  template <class F> void visit(F&& f) { f("entries", entries); }
};

// One Raft RPC between database replicas (consensus/rpc_codec.h encodes `rpc`). Never answered:
// Raft's own result messages travel as RaftRpc too. `id` is the sender's Raft id (a replica that
// is joining, or that missed a membership change, learns it from the leader's messages).
// A message larger than a frame's share (a snapshot) travels in `parts` frames, `part` 0 to
// parts - 1 in order, each with a piece of `rpc`; the receiver joins them.
struct RaftRpc {
  static constexpr std::string_view kOp = "raft";
  Bytes rpc;
  std::optional<uint64_t> id;
  std::optional<uint64_t> part;
  std::optional<uint64_t> parts;
  template <class F> void visit(F&& f) { f("rpc", rpc); f("id", id); f("part", part); f("parts", parts); }
};

// ---------------------------------------------------------------- replicated tier membership

// One replica of the replicated tier, as its membership (replicated in the Raft log) lists it.
// role: "voter" (counts in the quorum), "standby" (replicates, does not vote) or "spare" (added,
// not yet replicating).
struct ReplicaInfo {
  std::string id;
  std::string address;
  std::string role;
  std::optional<std::string> http;  // host:port of its key-value HTTP port (docs/kvstore.md), if it has one
  template <class F> void visit(F&& f) { f("id", id); f("address", address); f("role", role); f("http", http); }
};

// Anyone -> any replica: the tier's membership as that replica knows it (its latest
// configuration); answered by Members.
struct GetMembers {
  static constexpr std::string_view kOp = "get_members";
  template <class F> void visit(F&&) {}
};

// `leader`: the replica the answering one believes leads, if any. `index`: the log index of the
// configuration listed (a larger one is newer).
struct Members {
  static constexpr std::string_view kOp = "members";
  std::vector<ReplicaInfo> members;
  std::optional<std::string> leader;
  uint64_t index = 0;
  template <class F> void visit(F&& f) { f("members", members); f("leader", leader); f("index", index); }
};

// A new replica -> the leader: add me (Raft id `raft_id`, reachable at `address`). Answered by
// Members once it is in the configuration (as a standby; the leader promotes it to voter once it
// has caught up, up to 5 voters). Repeating it is harmless.
struct JoinTier {
  static constexpr std::string_view kOp = "join";
  std::string id;
  std::string address;
  uint64_t raft_id = 0;
  std::optional<std::string> http;  // its key-value HTTP address (host:port), if it serves one
  template <class F> void visit(F&& f) { f("id", id); f("address", address); f("raft_id", raft_id); f("http", http); }
};

// ---------------------------------------------------------------- the key-value store (docs/kvstore.md)
//
// A string namespace beside the Olympic tables, served by the replicated tier; the HTTP gateway
// (database/kv_gateway.h) turns each HTTP request into one of these, and so may any client.

// Anyone -> any replica: the value of `key`. Linearizable (a follower forwards it to the leader),
// unless `local`: then the replica answers from its own applied state at once, saying how far
// behind it may be. Answered by KvValue.
struct KvGet {
  static constexpr std::string_view kOp = "kv_get";
  std::string key;
  bool local = false;
  template <class F> void visit(F&& f) { f("key", key); f("local", local); }
};

// Anyone -> any replica: `key` becomes `value`, through the Raft log. Answered by KvValue with the
// old value once the set is committed and applied.
struct KvSet {
  static constexpr std::string_view kOp = "kv_set";
  std::string key;
  std::string value;
  template <class F> void visit(F&& f) { f("key", key); f("value", value); }
};

// The answer to KvGet (the value) and KvSet (the value before the set); `value` absent: none.
// `leader`: the leading replica's HTTP address, when the answering one knows it. `applied_index`
// and `behind_ms` come with a local read: the Raft index of the state read, and how far behind it
// may be (absent: unknown; see docs/kvstore.md).
struct KvValue {
  static constexpr std::string_view kOp = "kv_value";
  std::string key;
  std::optional<std::string> value;
  std::optional<std::string> leader;
  std::optional<uint64_t> applied_index;
  std::optional<int64_t> behind_ms;
  template <class F> void visit(F&& f) {
    f("key", key); f("value", value); f("leader", leader); f("applied_index", applied_index); f("behind_ms", behind_ms);
  }
};

// An operator -> the leader: remove replica `id` from the tier. A leader asked to remove itself
// first hands leadership over and answers not_leader (ask the new leader). Answered by Members.
// Gossip mode: to any other member, which answers at once; gossip spreads it (a tombstone).
struct RemoveReplica {
  static constexpr std::string_view kOp = "remove_replica";
  std::string id;
  template <class F> void visit(F&& f) { f("id", id); }
};

// ---------------------------------------------------------------- internal: front ends

// Front end <-> front end, every heartbeat.interval_ms both ways. Carries what the sender
// believes about mastership so that views converge, and the sender's incarnation (chosen at
// start), so that a peer heard again after a suspicion is known to have restarted or not.
struct Heartbeat {
  static constexpr std::string_view kOp = "heartbeat";
  std::string from;
  std::string master;
  uint64_t epoch = 0;
  uint64_t incarnation = 0;
  bool database_ok = true;  // false while the sender's last request to the database went unanswered
  template <class F> void visit(F&& f) {
    f("from", from); f("master", master); f("epoch", epoch); f("incarnation", incarnation);
    f("database_ok", database_ok);
  }
};

// Acting master -> home master (ordered handoff): "I accept no more updates, every write I
// started is acknowledged, and I released my master lease: claim epoch + 1".
struct HandOver {
  static constexpr std::string_view kOp = "hand_over";
  std::string from;
  uint64_t epoch = 0;
  template <class F> void visit(F&& f) { f("from", from); f("epoch", epoch); }
};

// ---------------------------------------------------------------- internal: Byzantine agreement
//
// Byzantine mode (docs/byzantine.md): OM(1) among the four front ends for each update
// (publisher, seq). Neither is answered; a round that misses a message counts it as none.

// Round 1, the commander (the front end Cacofonix sent the update to) -> each lieutenant:
// `update` is the signed update as a frame (common/codec.h encode of a set_score or
// increment_medal_tally with req 0, no token, no epoch).
struct Propose {
  static constexpr std::string_view kOp = "propose";
  std::string publisher;
  uint64_t seq = 0;
  Bytes update;
  template <class F> void visit(F&& f) { f("publisher", publisher); f("seq", seq); f("update", update); }
};

// Round 2, a lieutenant -> the two others: what it received from `commander` for (publisher,
// seq); no `update` when nothing valid came.
struct Relay {
  static constexpr std::string_view kOp = "relay";
  std::string commander;
  std::string publisher;
  uint64_t seq = 0;
  std::optional<Bytes> update;
  template <class F> void visit(F&& f) {
    f("commander", commander); f("publisher", publisher); f("seq", seq); f("update", update);
  }
};

// ---------------------------------------------------------------- internal: cache consistency
//
// Keys are "score/<event>" and "tally/<team>"; a value travels as a KeyValue with exactly one of
// `score` and `tally` set.

struct KeyValue {
  std::string key;
  uint64_t version = 0;
  std::optional<Score> score;
  std::optional<Tally> tally;
  // Gossip mode: read from a replica that lacked updates the reader had seen (message 5.8
  // `partial`): served once, marked so, never cached.
  std::optional<bool> partial = {};
  template <class F> void visit(F&& f) {
    f("key", key); f("version", version); f("score", score); f("tally", tally); f("partial", partial);
  }
};

// Push mode, peer -> master: the value of `key`, registering the peer in the master's directory
// for it in the same step (so no update can slip between the read and the registration).
// Reply: Value, whose `cacheable` says whether the peer was registered (it holds a lease).
// Pull mode: a place in a master's log of changes (frontend/change_log.h): every change that
// master acknowledged up to sequence number `seq`, in its `epoch`.
struct Cursor {
  uint64_t epoch = 0;
  uint64_t seq = 0;
  template <class F> void visit(F&& f) { f("epoch", epoch); f("seq", seq); }
};

// Pull mode, on the master's answer to a Fetch or Poll that carried a cursor: what changed since
// it (hints: only ever sent in an answer the peer asked for). `changed` holds the latest value of
// every key that changed after sequence number `from` up to `to`, in the master's `epoch`; `from`
// is the peer's cursor, or `to` when the master cannot list that far back. `unsettled` names the
// keys with an update in flight, whose value at the database may already be newer. `current`:
// the answered value is the master's as of `to`.
struct Changes {
  uint64_t epoch = 0;
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<KeyValue> changed;
  std::vector<std::string> unsettled;
  bool current = false;
  template <class F> void visit(F&& f) {
    f("epoch", epoch); f("from", from); f("to", to); f("changed", changed); f("unsettled", unsettled);
    f("current", current);
  }
};

struct Fetch {
  static constexpr std::string_view kOp = "fetch";
  std::string key;
  std::optional<Cursor> since;  // pull mode with hints: the peer's place in the master's changes
  template <class F> void visit(F&& f) { f("key", key); f("since", since); }
};

// Reply to Fetch and Poll: the current value. `cacheable` is false when the master did not
// register the fetching peer (no valid lease), which must then not cache it.
struct Value {
  static constexpr std::string_view kOp = "value";
  KeyValue value;
  bool cacheable = false;
  std::optional<Changes> changes;  // pull mode, when the request carried a cursor
  template <class F> void visit(F&& f) { f("value", value); f("cacheable", cacheable); f("changes", changes); }
};

// Push mode, master -> peer: `key` changed to `version`; drop anything older. Reply: InvalidateAck.
// Gossip mode: `clock` is the newest database clock the master has seen (it covers the update);
// the peer reads the database with at least that clock from then on (docs/gossip.md).
struct Invalidate {
  static constexpr std::string_view kOp = "invalidate";
  std::string key;
  uint64_t version = 0;
  uint64_t epoch = 0;
  std::optional<VectorStamp> clock = {};
  template <class F> void visit(F&& f) { f("key", key); f("version", version); f("epoch", epoch); f("clock", clock); }
};

struct InvalidateAck {
  static constexpr std::string_view kOp = "invalidate_ack";
  std::string key;
  uint64_t version = 0;
  template <class F> void visit(F&& f) { f("key", key); f("version", version); }
};

// Pull mode, peer -> master: is `key` still at `version`? Reply: NotModified or Value.
struct Poll {
  static constexpr std::string_view kOp = "poll";
  std::string key;
  uint64_t version = 0;
  std::optional<Cursor> since;  // with hints: the peer's place in the master's changes
  template <class F> void visit(F&& f) { f("key", key); f("version", version); f("since", since); }
};

struct NotModified {
  static constexpr std::string_view kOp = "not_modified";
  std::string key;
  uint64_t version = 0;
  std::optional<Changes> changes;  // when the poll carried a cursor
  template <class F> void visit(F&& f) { f("key", key); f("version", version); f("changes", changes); }
};

// Push mode, peer -> master every heartbeat interval: renew my read lease under `epoch`.
// Reply: LeaseGrant, valid for `duration_ms` from when the peer *sent* the request (so the
// peer's view of the lease always ends before the master's).
struct LeaseRequest {
  static constexpr std::string_view kOp = "lease_request";
  std::string from;
  uint64_t epoch = 0;
  template <class F> void visit(F&& f) { f("from", from); f("epoch", epoch); }
};

struct LeaseGrant {
  static constexpr std::string_view kOp = "lease_grant";
  uint64_t epoch = 0;
  int64_t duration_ms = 0;
  template <class F> void visit(F&& f) { f("epoch", epoch); f("duration_ms", duration_ms); }
};

// ---------------------------------------------------------------- any process

// Anyone -> any process: report counters. Reply: Stats.
struct GetStats {
  static constexpr std::string_view kOp = "stats";
  template <class F> void visit(F&&) {}
};

// `counters` are monotonic counts and gauges; `info` is descriptive (role, mode, master...).
struct Stats {
  static constexpr std::string_view kOp = "stats_reply";
  std::string node;
  std::string role;
  std::map<std::string, int64_t> counters;
  std::map<std::string, std::string> info;
  template <class F> void visit(F&& f) { f("node", node); f("role", role); f("counters", counters); f("info", info); }
};

// Any failed request. `code` is a stable reason (common/error_code.h; it travels as its name, e.g.
// "not_master"), `error` a human-readable one. A not_master error also carries the master's id and
// address when known; a fenced error carries the current epoch.
struct Error {
  static constexpr std::string_view kOp = "error";
  ErrorCode code = ErrorCode::kMalformed;
  std::string error;
  std::optional<std::string> master;
  std::optional<std::string> address;
  std::optional<uint64_t> epoch;
  std::optional<int64_t> retry_after_ms;  // lease_held: when the lease runs out
  std::optional<std::string> leader;      // not_leader: the replica that leads, when known
  std::optional<std::string> leader_http; // and its key-value HTTP address, when it has one
  template <class F> void visit(F&& f) {
    f("code", code); f("error", error); f("master", master); f("address", address); f("epoch", epoch);
    f("retry_after_ms", retry_after_ms); f("leader", leader); f("leader_http", leader_http);
  }
};

// ---------------------------------------------------------------- gossip mode, replica <-> replica
//
// docs/gossip.md. Each replica sends every other a Gossip notice every gossip_interval_ms, and at
// once after accepting updates: its clock, the log entries the peer lacks by the clock the peer
// last sent, and what it knows of the master and the tablets' homes.

// One entry of a replica's update log (gossip/update_log.h): update (publisher, seq), the
// `origin_seq`-th that replica `origin` accepted, with the timestamp it had then (`ts`), and the
// command it applies (database/command.h encode_batch of one command).
struct GossipEntry {
  std::string publisher;
  uint64_t seq = 0;
  std::string origin;
  uint64_t origin_seq = 0;
  VectorStamp ts;
  Bytes update;
  template <class F> void visit(F&& f) {
    f("publisher", publisher); f("seq", seq); f("origin", origin); f("origin_seq", origin_seq); f("ts", ts);
    f("update", update);
  }
};

struct Gossip {
  static constexpr std::string_view kOp = "gossip";
  VectorStamp clock;
  std::vector<GossipEntry> entries;
  std::optional<MasterInfo> master;
  std::vector<RegistryEntry> homes;
  // The tier's members as the sender knows them (the config's replicas, then those that joined).
  std::vector<ReplicaInfo> members;
  template <class F> void visit(F&& f) {
    f("clock", clock); f("entries", entries); f("master", master); f("homes", homes); f("members", members);
  }
};

// A replica joining a gossip tier -> any replica of it (docs/gossip.md, "Joining"): add me (`id`,
// reachable at `address`) and send me the state from byte `offset`. The first request (offset 0)
// makes the joiner a member where it is answered and takes a copy of that replica's state, rows,
// log, clock, feed and members (SqliteStore::gossip_dump); the next ones read that copy.
// Answered by StatePart, or by Error (bad_value: a bad id or address, the id a member at another
// address, the tier full; unavailable: no copy under way for a nonzero offset).
struct FetchState {
  static constexpr std::string_view kOp = "fetch_state";
  std::string id;
  std::string address;
  uint64_t offset = 0;
  template <class F> void visit(F&& f) { f("id", id); f("address", address); f("offset", offset); }
};

// Bytes [offset, offset + data.size) of a state copy of `total` bytes.
struct StatePart {
  static constexpr std::string_view kOp = "state_part";
  Bytes data;
  uint64_t offset = 0;
  uint64_t total = 0;
  template <class F> void visit(F&& f) { f("data", data); f("offset", offset); f("total", total); }
};

// ---------------------------------------------------------------- the envelope

using Body = std::variant<Register, Registered, GetScore, GetMedalTally, GetScoreboard, ScoreReply,
                          TallyReply, Scoreboard, SetScore, IncrementMedalTally, Ack,
                          MasterChanged, ClaimMaster, GetMaster, MasterInfo, AssignHome,
                          TabletHome, ListRegistry, Registry, Heartbeat, Fetch, Value, Invalidate,
                          InvalidateAck, Poll, NotModified, LeaseRequest, LeaseGrant, GetStats, Stats,
                          Error, RenewMaster, HandOver, Serving, RaftRpc, GetMembers, Members,
                          JoinTier, RemoveReplica, KvGet, KvSet, KvValue, Propose, Relay, Gossip, GetFeed, FeedReply,
                          FetchState, StatePart>;

// One message: the request id it carries (or answers) and its body.
struct Message {
  uint64_t req = 0;
  Body body;

  template <class T> bool is() const { return std::holds_alternative<T>(body); }
  template <class T> T& as() { return std::get<T>(body); }
  template <class T> const T& as() const { return std::get<T>(body); }
};

// The op name of a body, e.g. "get_score".
std::string_view op_name(const Body& body);

// True for bodies that answer a request (they carry `ok` on the wire).
bool is_reply(const Body& body);

// Builds an Error body.
Error make_error(ErrorCode code, std::string text);

}  // namespace oly
