// DatabaseClient on its own: where requests to the database tier go, and what happens when a
// replica does not answer or does not lead.
#include "dbclient/database_client.h"

#include <gtest/gtest.h>

namespace oly {
namespace {

const TimePoint t0 = TimePoint(ms(10'000));

Message answer(uint64_t req, Body body) { return Message{req, std::move(body)}; }

Error not_leader(std::optional<std::string> leader) {
  Error e = make_error(ErrorCode::kNotLeader, "not the leader");
  e.leader = std::move(leader);
  return e;
}

TEST(DatabaseClient, SendsToTheFirstReplicaUntilAnotherIsKnownToLead) {
  DatabaseClient c({"db1", "db2", "db3"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db1");
  EXPECT_EQ(out.items()[0].msg.req, 7u);
  EXPECT_TRUE(c.owns(7));
  EXPECT_EQ(c.leader(), "db1");
}

TEST(DatabaseClient, MatchesAnswersByRequestIdWhateverEndpointSentThem) {
  DatabaseClient c({"db1", "db2"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  c.send(8, GetMaster{}, ms(900), t0, out);
  out.clear();
  EXPECT_TRUE(c.on_reply("db2", answer(8, MasterInfo{"fe1", 3, {}}), t0, out));
  EXPECT_FALSE(c.owns(8));
  EXPECT_TRUE(c.owns(7));
  EXPECT_EQ(c.leader(), "db2") << "the replica that answered leads";
  EXPECT_TRUE(out.items().empty());
}

TEST(DatabaseClient, AnAttemptWithoutAnswerIsRetriedOnTheNextReplicaWithTheSameId) {
  DatabaseClient c({"db1", "db2", "db3"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  out.clear();
  EXPECT_EQ(c.next_deadline(), t0 + ms(300)) << "each replica gets a third of the timeout";
  c.tick(t0 + ms(299), out);
  EXPECT_TRUE(out.items().empty());
  c.tick(t0 + ms(300), out);
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db2");
  EXPECT_EQ(out.items()[0].msg.req, 7u);
  out.clear();
  c.tick(t0 + ms(600), out);
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db3");
  out.clear();
  c.tick(t0 + ms(900), out);
  EXPECT_TRUE(out.items().empty()) << "every replica was tried: the caller's deadline decides";
  EXPECT_EQ(c.next_deadline(), TimePoint::max());
}

TEST(DatabaseClient, ALostReplicasRequestsGoToTheNextAtOnceAndItNoLongerLeads) {
  DatabaseClient c({"db1", "db2", "db3"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  c.send(8, GetMaster{}, ms(900), t0, out);
  out.clear();
  c.lost("fe2", t0 + ms(5), out);  // not a replica
  c.lost("db3", t0 + ms(5), out);  // nothing waits on it
  EXPECT_TRUE(out.items().empty());
  EXPECT_EQ(c.leader(), "db1");
  c.lost("db1", t0 + ms(10), out);
  ASSERT_EQ(out.items().size(), 2u) << "both requests, long before their share (300 ms) ran out";
  for (const auto& item : out.items()) EXPECT_EQ(item.to, "db2");
  EXPECT_EQ(c.leader(), "db2");
  EXPECT_EQ(c.next_deadline(), t0 + ms(310)) << "a new share from the resend";
}

TEST(DatabaseClient, WithOneReplicaNothingIsRetried) {
  DatabaseClient c({"db"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  out.clear();
  EXPECT_EQ(c.next_deadline(), TimePoint::max());
  c.tick(t0 + ms(5000), out);
  EXPECT_TRUE(out.items().empty());
}

TEST(DatabaseClient, NotLeaderSendsTheRequestToTheNamedLeader) {
  DatabaseClient c({"db1", "db2", "db3"});
  Effects out;
  c.send(7, ClaimMaster{"fe1", 2}, ms(900), t0, out);
  out.clear();
  EXPECT_FALSE(c.on_reply("db1", answer(7, not_leader("db3")), t0 + ms(1), out));
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db3");
  EXPECT_TRUE(out.items()[0].msg.is<ClaimMaster>());
  EXPECT_EQ(c.leader(), "db3");
  out.clear();
  EXPECT_TRUE(c.on_reply("db3", answer(7, MasterInfo{"fe1", 2, {}}), t0 + ms(2), out));
  EXPECT_FALSE(c.owns(7));
}

TEST(DatabaseClient, NotLeaderWithoutAHintAsksTheNextReplicaAfterABackoffUntilTheCallerGivesUp) {
  DatabaseClient c({"db1", "db2", "db3"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  std::vector<std::string> tried;
  TimePoint now = t0;
  std::string from = "db1";
  for (int i = 0; i < 8; ++i) {
    out.clear();
    ASSERT_FALSE(c.on_reply(from, answer(7, not_leader(std::nullopt)), now, out)) << "consumed, never final";
    EXPECT_TRUE(out.items().empty()) << "not at once: an election is under way";
    EXPECT_EQ(c.next_deadline(), now + DatabaseClient::kElectionBackoff);
    now = c.next_deadline();
    c.tick(now, out);
    ASSERT_EQ(out.items().size(), 1u);
    from = out.items()[0].to;
    tried.push_back(from);
  }
  EXPECT_EQ(tried, (std::vector<std::string>{"db2", "db3", "db1", "db2", "db3", "db1", "db2", "db3"}));
  EXPECT_TRUE(c.owns(7));
  c.timed_out(7);
  EXPECT_FALSE(c.owns(7));
}

TEST(DatabaseClient, NotLeaderNamingTheLeaderGoesThereAtOnce) {
  DatabaseClient c({"db1", "db2", "db3"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  out.clear();
  EXPECT_FALSE(c.on_reply("db1", answer(7, not_leader("db3")), t0, out));
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0].to, "db3");
  EXPECT_EQ(c.leader(), "db3");
  out.clear();
  EXPECT_TRUE(c.on_reply("db3", answer(7, MasterInfo{"fe1", 1, {}}), t0 + ms(1), out));
}

TEST(DatabaseClient, FailingWhenARequestTimedOutAndNothingWasHeardSinceItWasSent) {
  DatabaseClient c({"db"});
  Effects out;
  c.send(7, GetMaster{}, ms(900), t0, out);
  c.send(8, GetMaster{}, ms(900), t0 + ms(500), out);
  c.heard("db", t0 + ms(200));
  c.timed_out(7);
  EXPECT_FALSE(c.failing()) << "the database was heard after request 7 was sent";
  c.timed_out(8);
  EXPECT_TRUE(c.failing());
  c.heard("fe2", t0 + ms(2000));
  EXPECT_TRUE(c.failing()) << "a front end is not a replica";
  c.heard("db", t0 + ms(2000));
  EXPECT_FALSE(c.failing());
}

}  // namespace
}  // namespace oly
