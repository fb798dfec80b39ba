// ReplicaCore on its own (one replica, or a follower that knows no leader), on a virtual clock:
// a write is answered only once its entry is committed and applied, a follower sends clients to
// the leader, Raft messages from outside the group are refused, and a restart rebuilds the state
// from the log.
#include "database/replica_core.h"

#include <gtest/gtest.h>

#include "database/sqlite_store.h"

namespace oly::database {
namespace {

Config replicas(int n) {
  Config c;
  for (int i = 1; i <= n; ++i) c.database.replicas.push_back({"db" + std::to_string(i), "tcp://127.0.0.1:" + std::to_string(7119 + i)});
  return c;
}

SetScore score(const std::string& event, int64_t gauls, uint64_t seq) {
  SetScore m;
  m.event = event;
  m.gauls = gauls;
  m.publisher = "p";
  m.seq = seq;
  m.epoch = 1;
  return m;
}

// Drives one core: ticks until `pred` holds (at most `limit` of virtual time), collecting output.
struct Driver {
  Driver(ReplicaCore& core, VirtualClock& clock) : core(core), clock(clock) {}
  bool run_until(const std::function<bool()>& pred, Duration limit = ms(3000)) {
    const TimePoint end = clock.now() + limit;
    while (!pred()) {
      const TimePoint next = std::max(clock.now(), std::min(core.next_wake(), end));
      clock.set(next);
      core.on_tick(clock.now(), out);
      if (clock.now() >= end) return pred();
    }
    return true;
  }
  void send(const std::string& from, uint64_t req, Body body) {
    core.on_message(from, Message{req, std::move(body)}, false, clock.now(), out);
  }
  void end_step() { core.on_batch_end(clock.now(), out); }
  // The answer to request `req`, if one went out.
  const Body* answer(uint64_t req) {
    for (const auto& o : out.items()) {
      if (o.msg.req == req) return &o.msg.body;
    }
    return nullptr;
  }
  bool ready() {
    Effects e;
    core.on_message("tool", Message{99, GetStats{}}, false, clock.now(), e);
    return std::get<Stats>(e.items().at(0).msg.body).info.at("raft_ready") == "yes";
  }
  ReplicaCore& core;
  VirtualClock& clock;
  Effects out;
};

TEST(ReplicaCore, ASingleReplicaAnswersAWriteOnlyOnceItsEntryIsCommittedAndApplied) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  ReplicaCore core(replicas(1), "db1", store, clock, clock.now(), 1);
  Driver d(core, clock);
  ASSERT_TRUE(d.run_until([&] { return d.ready(); }));
  d.send("fe1", 1, ClaimMaster{"fe1", 1});
  EXPECT_EQ(d.answer(1), nullptr) << "held until the step's entry is committed";
  EXPECT_EQ(store.master().epoch, 0u);
  d.end_step();
  d.run_until([&] { return d.answer(1) != nullptr; });
  ASSERT_NE(d.answer(1), nullptr);
  const auto* m = std::get_if<MasterInfo>(d.answer(1));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->epoch, 1u);
  EXPECT_TRUE(m->lease_ms.has_value());
  EXPECT_EQ(store.master().frontend, "fe1") << "applied before it was answered";
  // A bad request is refused at once, naming what is wrong; nothing is proposed for it.
  d.send("fe1", 2, score("Luge", 1, 1));
  ASSERT_NE(d.answer(2), nullptr);
  EXPECT_EQ(std::get<Error>(*d.answer(2)).code, ErrorCode::kUnknownEvent);
}

TEST(ReplicaCore, AMinVersionReadItsStateSatisfiesIsAnsweredAtOnceAnyOtherWaitsForARound) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  ReplicaCore core(replicas(1), "db1", store, clock, clock.now(), 1);
  Driver d(core, clock);
  ASSERT_TRUE(d.run_until([&] { return d.ready(); }));
  GetScore local{"Curling", 0, std::nullopt, std::nullopt};
  d.send("fe1", 1, local);
  ASSERT_NE(d.answer(1), nullptr) << "version 0 is applied: no round needed";
  EXPECT_EQ(std::get<ScoreReply>(*d.answer(1)).score.version, 0u);
  GetScore ahead{"Curling", 3, std::nullopt, std::nullopt};
  d.send("fe1", 2, ahead);
  GetScore linearizable{"Curling", std::nullopt, std::nullopt, std::nullopt};
  d.send("fe1", 3, linearizable);
  EXPECT_EQ(d.answer(2), nullptr) << "version 3 is not applied: a quorum round first";
  EXPECT_EQ(d.answer(3), nullptr) << "without min_version: a quorum round first";
  d.end_step();
  d.run_until([&] { return d.answer(2) != nullptr && d.answer(3) != nullptr; });
  ASSERT_NE(d.answer(2), nullptr);
  ASSERT_NE(d.answer(3), nullptr);
  EXPECT_EQ(core.counters()["local_reads"], 1);
}

TEST(ReplicaCore, AFollowerThatKnowsNoLeaderSaysSoAndRaftFromOutsideTheGroupOrUnderAnotherIdIsRefused) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  ReplicaCore core(replicas(3), "db2", store, clock, clock.now(), 1);
  Driver d(core, clock);
  d.send("fe1", 1, GetMaster{});
  ASSERT_NE(d.answer(1), nullptr);
  const auto& e = std::get<Error>(*d.answer(1));
  EXPECT_EQ(e.code, ErrorCode::kNotLeader);
  EXPECT_FALSE(e.leader.has_value());
  EXPECT_NE(e.error.find("election"), std::string::npos) << e.error;
  RaftRpc rpc;
  rpc.rpc.data = "\x91\x01";
  d.send("intruder", 0, rpc);  // not a member, and no Raft id given
  d.send("db1", 0, RaftRpc{});  // a replica, with bytes that are not a Raft message
  rpc.id = 1;                   // db1's Raft id, claimed by another endpoint
  d.send("db3", 0, rpc);
  EXPECT_EQ(core.counters()["raft_rpcs_refused"], 3);
  EXPECT_EQ(core.counters()["raft_rpcs"], 3);
  EXPECT_EQ(core.consensus().rpcs_dropped(), 3u);
}

TEST(ReplicaCore, ARestartRebuildsTheStateFromTheLog) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  std::string before;
  {
    ReplicaCore core(replicas(1), "db1", store, clock, clock.now(), 1);
    Driver d(core, clock);
    ASSERT_TRUE(d.run_until([&] { return d.ready(); }));
    d.send("fe1", 1, ClaimMaster{"fe1", 1});
    d.end_step();
    d.run_until([&] { return d.answer(1) != nullptr; });
    for (uint64_t seq = 1; seq <= 5; ++seq) d.send("fe1", 10 + seq, score("Curling", static_cast<int64_t>(seq), seq));
    d.end_step();
    d.run_until([&] { return d.answer(15) != nullptr; });
    ASSERT_TRUE(std::holds_alternative<Ack>(*d.answer(15)));
    before = store.state_dump();
  }
  EXPECT_EQ(store.score("Curling").gauls, 5);
  ReplicaCore again(replicas(1), "db1", store, clock, clock.now(), 2);
  Driver d(again, clock);
  ASSERT_TRUE(d.run_until([&] { return d.ready(); }));
  EXPECT_EQ(store.state_dump(), before);
  // The (publisher, seq) table came back with it: a resend is a duplicate.
  d.send("fe1", 20, score("Curling", 5, 5));
  d.end_step();
  d.run_until([&] { return d.answer(20) != nullptr; });
  ASSERT_TRUE(std::holds_alternative<Ack>(*d.answer(20)));
  EXPECT_TRUE(std::get<Ack>(*d.answer(20)).duplicate);
}

}  // namespace
}  // namespace oly::database

namespace oly::database {
namespace {

TEST(ReplicaCoreKv, ASetAndALinearizableGetAreAnsweredAfterTheirRoundALocalGetAtOnce) {
  Config c = replicas(1);
  c.database.replicas[0].http = "127.0.0.1:8120";
  SqliteStore store(":memory:");
  VirtualClock clock;
  ReplicaCore core(c, "db1", store, clock, clock.now(), 1);
  Driver d(core, clock);
  ASSERT_TRUE(d.run_until([&] { return d.ready(); }));
  d.send("http/1", 1, KvSet{"city", "Namur"});
  d.send("http/2", 2, KvGet{"city", false});
  d.send("http/3", 3, KvGet{"city", true});
  d.send("http/4", 4, KvSet{"bad=key", "x"});
  EXPECT_EQ(d.answer(1), nullptr);
  EXPECT_EQ(d.answer(2), nullptr) << "a linearizable get waits for its round";
  ASSERT_NE(d.answer(3), nullptr) << "a local get is answered at once";
  const auto& local = std::get<KvValue>(*d.answer(3));
  EXPECT_EQ(local.value, std::nullopt) << "the set is not applied yet";
  EXPECT_EQ(local.behind_ms, 0) << "at the leader";
  EXPECT_TRUE(local.applied_index.has_value());
  ASSERT_NE(d.answer(4), nullptr);
  EXPECT_EQ(std::get<Error>(*d.answer(4)).code, ErrorCode::kBadValue);
  d.end_step();
  d.run_until([&] { return d.answer(1) != nullptr && d.answer(2) != nullptr; });
  ASSERT_NE(d.answer(1), nullptr);
  EXPECT_EQ(std::get<KvValue>(*d.answer(1)).value, std::nullopt) << "no value before the set";
  EXPECT_EQ(std::get<KvValue>(*d.answer(1)).leader, "127.0.0.1:8120");
  ASSERT_NE(d.answer(2), nullptr);
  EXPECT_EQ(std::get<KvValue>(*d.answer(2)).value, "Namur") << "the get came after the set in the same round";
  EXPECT_EQ(core.counters()["kv_sets"], 1);
  EXPECT_EQ(core.members().members.at(0).http, "127.0.0.1:8120") << "the membership carries the HTTP address";
  EXPECT_EQ(core.members().members.at(0).address, "tcp://127.0.0.1:7120");
}

TEST(ReplicaCoreKv, AFollowerThatKnowsNoLeaderAnswersNotLeaderButServesALocalReadSayingItsLagIsUnknown) {
  SqliteStore store(":memory:");
  VirtualClock clock;
  ReplicaCore core(replicas(3), "db2", store, clock, clock.now(), 1);
  Driver d(core, clock);
  d.send("http/1", 1, KvSet{"k", "v"});
  ASSERT_NE(d.answer(1), nullptr);
  EXPECT_EQ(std::get<Error>(*d.answer(1)).code, ErrorCode::kNotLeader);
  d.send("http/2", 2, KvGet{"k", true});
  ASSERT_NE(d.answer(2), nullptr);
  const auto& local = std::get<KvValue>(*d.answer(2));
  EXPECT_EQ(local.value, std::nullopt);
  EXPECT_EQ(local.behind_ms, std::nullopt) << "it never heard from a leader";
}

}  // namespace
}  // namespace oly::database
