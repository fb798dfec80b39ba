// The front end's membership logic: takeover on suspicion, the database's lease refusals, the
// master lease on the read path, the serving set, the ordered handoff, and held acknowledgements
// of a new push master. Virtual time only.
#include <gtest/gtest.h>

#include "frontend_harness.h"

namespace oly {
namespace {

Config three_frontends() {
  Config c;
  c.frontends.push_back({"fe3", "tcp://127.0.0.1:7103", "tcp://127.0.0.1:7113", "", "127.0.0.1:7203"});
  return c;
}

std::vector<std::string> serving_in(const Harness& h, const std::vector<Effects::Out>& sent) {
  for (const auto& s : sent) {
    if (s.notice && s.to == "serving") return s.msg.as<Serving>().frontends;
  }
  (void)h;
  return {};
}

// fe2 follows fe1 (epoch 1), which heartbeats once at the harness's start time.
void follow_fe1(Harness& h) {
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"fe1", 1, {}});
  h.heartbeat("fe1", "fe1", 1);
}

TEST(FrontendMembership, PeerTakesOverExactlyWhenTheMasterIsSuspected) {
  Harness h("fe2");
  follow_fe1(h);
  auto sent = h.advance(ms(499));
  EXPECT_EQ(h.find(sent, "claim_master"), nullptr);
  sent = h.advance(ms(1));
  const auto* claim = h.find(sent, "claim_master");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->msg.as<ClaimMaster>().epoch, 2u);
  EXPECT_EQ(h.core.detector().suspects(), std::vector<std::string>{"fe1"});

  sent = h.answer_db(sent, "claim_master", MasterInfo{"fe2", 2, {}});
  EXPECT_TRUE(h.core.is_master());
  const auto* changed = h.find(sent, "master_changed");
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->to, "publisher");
  EXPECT_EQ(changed->msg.as<MasterChanged>().frontend, "fe2");
  EXPECT_EQ(serving_in(h, sent), std::vector<std::string>{"fe2"});  // fe1's tablets move here
  EXPECT_EQ(h.core.stats(h.now).counters.at("takeovers"), 1);
}

TEST(FrontendMembership, ClaimRefusedForALiveLeaseIsRetriedWhenTheLeaseEnds) {
  Harness h("fe2");
  follow_fe1(h);
  auto sent = h.advance(ms(500));
  Error held = make_error(ErrorCode::kLeaseHeld, "fe1 holds the master lease for 40 ms");
  held.master = "fe1";
  held.epoch = 1;
  held.retry_after_ms = 40;
  sent = h.answer_db(sent, "claim_master", held);
  EXPECT_FALSE(h.core.is_master());
  sent = h.advance(ms(39));
  EXPECT_EQ(h.find(sent, "claim_master"), nullptr);
  sent = h.advance(ms(1));
  ASSERT_NE(h.find(sent, "claim_master"), nullptr);
}

TEST(FrontendMembership, OnlyTheFirstLivingFrontEndInConfigOrderClaims) {
  Harness h("fe3", three_frontends());
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"fe1", 1, {}});
  h.heartbeat("fe1", "fe1", 1);
  h.heartbeat("fe2", "fe1", 1);
  h.advance(ms(300));
  h.heartbeat("fe2", "fe1", 1);
  sent = h.advance(ms(200));  // fe1 suspected; fe2 alive and ahead of fe3
  EXPECT_EQ(h.core.detector().suspects(), std::vector<std::string>{"fe1"});
  EXPECT_EQ(h.find(sent, "claim_master"), nullptr);
  sent = h.advance(ms(300));  // fe2 silent for 500 ms too
  ASSERT_NE(h.find(sent, "claim_master"), nullptr);
}

// The database names fe2 (its claim's answer was lost, or an earlier incarnation claimed) while
// fe1, ahead of it in priority, is alive and follows fe2: fe2 must claim, or nobody ever would.
TEST(FrontendMembership, FrontEndTheDatabaseNamesClaimsWhateverItsPriority) {
  Harness h("fe2");
  h.heartbeat("fe1", "fe2", 2);
  auto sent = h.tick();
  sent = h.answer_db(sent, "get_master", MasterInfo{"fe2", 2, {}});
  const auto* claim = h.find(sent, "claim_master");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->msg.as<ClaimMaster>().epoch, 3u);
}

TEST(FrontendMembership, MasterWhoseRenewalsGoUnansweredStepsDownAndSaysSo) {
  Harness h("fe1");
  auto sent = h.tick();
  sent = h.answer_db(sent, "get_master", MasterInfo{"", 0, {}});
  h.answer_db(sent, "claim_master", MasterInfo{"fe1", 1, {}});  // lease until +500 ms
  h.heartbeat("fe2", "fe1", 1);
  for (int i = 0; i < 15; ++i) {  // up to 1499 ms: the lease (500) plus a database timeout (1000)
    h.heartbeat("fe2", "fe1", 1);
    sent = h.advance(ms(i == 14 ? 99 : 100));
  }
  EXPECT_TRUE(h.core.is_master());
  sent = h.advance(ms(1));
  EXPECT_FALSE(h.core.is_master());
  const Effects::Out* hb = nullptr;  // the last one: sent after stepping down
  for (const auto& o : sent) {
    if (o.msg.is<Heartbeat>()) hb = &o;
  }
  ASSERT_NE(hb, nullptr);
  EXPECT_EQ(hb->msg.as<Heartbeat>().master, "");  // fe2 learns that it must take over
  EXPECT_FALSE(hb->msg.as<Heartbeat>().database_ok);
}

TEST(FrontendMembership, PeerTakesOverFromAMasterThatSaysItIsMasterNoMore) {
  Harness h("fe2");
  follow_fe1(h);
  auto sent = h.advance(ms(100));
  EXPECT_EQ(h.find(sent, "claim_master"), nullptr);
  sent = h.heartbeat("fe1", "", 1);  // fe1 stepped down: cut off from the database
  sent = h.advance(ms(1));
  ASSERT_NE(h.find(sent, "claim_master"), nullptr);
}

TEST(FrontendMembership, MasterServesItsCacheOnlyWhileItsMasterLeaseRuns) {
  Harness h("fe1");
  auto sent = h.tick();
  sent = h.answer_db(sent, "get_master", MasterInfo{"", 0, {}});
  h.answer_db(sent, "claim_master", MasterInfo{"fe1", 1, {}});  // lease: claim time + 500 ms
  ASSERT_TRUE(h.core.is_master());
  auto read = [&] { return h.deliver("tab", Message{1, GetScore{"Curling", {}, {}, std::nullopt}}); };
  sent = read();
  h.answer_db(sent, "get_score", ScoreReply{Score{"Curling", 2, 1, 3, 0}, {}});
  sent = read();
  ASSERT_EQ(sent.size(), 1u);  // answered from the cache
  EXPECT_EQ(sent[0].to, "tab");

  sent = h.advance(ms(600));  // no renewal answered: the lease ran out
  sent = read();
  ASSERT_NE(h.find(sent, "get_score"), nullptr);  // the database is asked instead
  h.answer_db(sent, "get_score", ScoreReply{Score{"Curling", 2, 1, 3, 0}, {}});
  sent = h.advance(ms(100));
  h.answer_all(sent, "renew_master", MasterInfo{"fe1", 1, 500});
  sent = read();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "tab");
}

TEST(FrontendMembership, FalseSuspicionIsCountedAndThePeerServesAgainAfterSettling) {
  Harness h("fe1");
  auto sent = h.tick();
  sent = h.answer_db(sent, "get_master", MasterInfo{"", 0, {}});
  h.answer_db(sent, "claim_master", MasterInfo{"fe1", 1, {}});
  h.heartbeat("fe2", "fe1", 1);
  sent = h.advance(ms(100));
  EXPECT_EQ(serving_in(h, sent), (std::vector<std::string>{"fe1", "fe2"}));
  h.answer_all(sent, "renew_master", MasterInfo{"fe1", 1, 500});
  sent = h.advance(ms(400));
  h.answer_all(sent, "renew_master", MasterInfo{"fe1", 1, 500});
  EXPECT_EQ(serving_in(h, sent), std::vector<std::string>{"fe1"});
  h.heartbeat("fe2", "fe1", 1);  // same incarnation: it never crashed
  EXPECT_EQ(h.core.stats(h.now).counters.at("false_suspicions"), 1);
  EXPECT_EQ(h.core.serving(), std::vector<std::string>{"fe1"});
  for (int i = 0; i < 9; ++i) {
    h.answer_all(h.advance(ms(100)), "renew_master", MasterInfo{"fe1", 1, 500});
    h.heartbeat("fe2", "fe1", 1);
  }
  EXPECT_EQ(h.core.serving(), std::vector<std::string>{"fe1"});  // 900 ms: still settling
  h.answer_all(h.advance(ms(100)), "renew_master", MasterInfo{"fe1", 1, 500});
  EXPECT_EQ(h.core.serving(), (std::vector<std::string>{"fe1", "fe2"}));
  EXPECT_TRUE(h.core.is_master());  // the suspicion changed nothing else
}

TEST(FrontendMembership, ActingMasterHandsOverToTheSettledHomeMasterAndHoldsUpdatesMeanwhile) {
  Harness h("fe2");
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"", 0, {}});
  sent = h.advance(ms(500));  // fe1 never heard: suspected, so fe2 claims
  h.answer_db(sent, "claim_master", MasterInfo{"fe2", 1, {}});
  ASSERT_TRUE(h.core.is_master());

  const Effects::Out* release = nullptr;
  for (int i = 0; i < 12 && release == nullptr; ++i) {
    h.heartbeat("fe1", "fe2", 1, 9);
    sent = h.advance(ms(100));
    for (const auto& s : sent) {
      if (s.msg.is<RenewMaster>() && s.msg.as<RenewMaster>().release) release = &s;
    }
    if (release == nullptr) h.answer_all(sent, "renew_master", MasterInfo{"fe2", 1, 500});
  }
  ASSERT_NE(release, nullptr) << "no handoff after fe1 heartbeated for 1.2 s";
  // From now on updates are held, not forwarded.
  auto held = h.deliver("bard", Message{5, SetScore{"Curling", 1, 0, "bard", 1, h.cfg.cacofonix.token, {}, {}}});
  EXPECT_TRUE(held.empty());
  auto after = h.deliver("db", Message{release->msg.req, MasterInfo{"fe2", 1, 0}});
  const auto* hand = h.find(after, "hand_over");
  ASSERT_NE(hand, nullptr);
  EXPECT_EQ(hand->to, "fe1");
  EXPECT_EQ(hand->msg.as<HandOver>().epoch, 1u);
  // fe1 claimed epoch 2: the held update is answered with fe1's address.
  auto moved = h.heartbeat("fe1", "fe1", 2, 9);
  EXPECT_FALSE(h.core.is_master());
  bool answered = false;
  for (const auto& s : moved) {
    if (s.to == "bard" && s.msg.req == 5) {
      answered = true;
      EXPECT_EQ(s.msg.as<Error>().code, ErrorCode::kNotMaster);
      EXPECT_EQ(s.msg.as<Error>().master, "fe1");
    }
  }
  EXPECT_TRUE(answered);
}

TEST(FrontendMembership, RestartedHomeMasterFollowsALiveActingMasterUntilHandedOver) {
  Harness h("fe1");
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"fe2", 3, {}});
  for (int i = 0; i < 10; ++i) {
    h.heartbeat("fe2", "fe2", 3);
    sent = h.advance(ms(100));
    EXPECT_EQ(h.find(sent, "claim_master"), nullptr);
  }
  sent = h.deliver("fe2", Message{0, HandOver{"fe2", 3}});
  const auto* claim = h.find(sent, "claim_master");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->msg.as<ClaimMaster>().epoch, 4u);
}

// fe1 restarted and reclaims its own mastership (the database allows that at once): a peer may
// still serve under a lease granted by the dead incarnation, so acks wait for fe2's confirmation.
TEST(FrontendMembership, ReclaimingMasterAcknowledgesOnlyAfterThePeersConfirmedItsEpoch) {
  Harness h("fe1");
  h.start_and_claim(MasterInfo{"fe1", 1, {}}, MasterInfo{"fe1", 2, {}});
  ASSERT_TRUE(h.core.is_master());
  auto fwd = h.deliver("bard", Message{5, SetScore{"Curling", 1, 0, "bard", 1, h.cfg.cacofonix.token, {}, {}}});
  Ack ack{"bard", 1, "score/Curling", 1, false, Score{"Curling", 1, 0, 1, 0}, std::nullopt};
  auto acked = h.answer_db(fwd, "set_score", ack);
  for (const auto& s : acked) EXPECT_NE(s.to, "bard") << "acknowledged before fe2 dropped its old copies";
  auto confirmed = h.heartbeat("fe2", "fe1", 2);
  ASSERT_NE(h.find(confirmed, "ack"), nullptr);
  EXPECT_EQ(h.find(confirmed, "ack")->to, "bard");
}

// After a takeover from another front end no wait is needed: the old master's grants were
// bounded by its master lease, which had ended before the database accepted the claim.
TEST(FrontendMembership, MasterAfterATakeoverAcknowledgesAtOnce) {
  Harness h("fe2", three_frontends());
  auto sent = h.tick();
  h.answer_db(sent, "get_master", MasterInfo{"fe1", 1, {}});
  h.heartbeat("fe1", "fe1", 1);
  h.heartbeat("fe3", "fe1", 1);
  h.advance(ms(300));
  h.heartbeat("fe3", "fe1", 1);
  sent = h.advance(ms(200));
  h.answer_db(sent, "claim_master", MasterInfo{"fe2", 2, {}});
  ASSERT_TRUE(h.core.is_master());
  auto fwd = h.deliver("bard", Message{5, SetScore{"Curling", 1, 0, "bard", 1, h.cfg.cacofonix.token, {}, {}}});
  Ack ack{"bard", 1, "score/Curling", 1, false, Score{"Curling", 1, 0, 1, 0}, std::nullopt};
  auto acked = h.answer_db(fwd, "set_score", ack);
  ASSERT_NE(h.find(acked, "ack"), nullptr);
  EXPECT_EQ(h.find(acked, "ack")->to, "bard");
}

TEST(FrontendMembership, ReadLeasesNeverOutliveTheMastersOwnLease) {
  Harness h("fe1");
  auto sent = h.tick();
  sent = h.answer_db(sent, "get_master", MasterInfo{"", 0, {}});
  h.answer_db(sent, "claim_master", MasterInfo{"fe1", 1, {}});  // master lease: until +500 ms
  h.now += ms(200);
  auto grant = h.deliver("fe2", Message{77, LeaseRequest{"fe2", 1}});
  ASSERT_NE(h.find(grant, "lease_grant"), nullptr);
  EXPECT_EQ(h.find(grant, "lease_grant")->msg.as<LeaseGrant>().duration_ms, 300);  // not lease.duration_ms
  h.now += ms(400);  // the master lease ran out unrenewed
  grant = h.deliver("fe2", Message{78, LeaseRequest{"fe2", 1}});
  EXPECT_EQ(h.find(grant, "lease_grant"), nullptr);
}

}  // namespace
}  // namespace oly
