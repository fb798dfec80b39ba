// The ZeroMQ transport with CurveZMQ (common/curve.h, issue 19): servers that know each other's
// keys talk by name; a client whose key is not the cluster's, or that speaks no CURVE, gets
// nothing through; and a client with a key of its own cannot pass itself off as a peer by
// choosing the peer's routing id.
#include "common/curve.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "common/zmq_transport.h"
#include "tests/support/process.h"

namespace oly {
namespace {

using testing::eventually;

std::string tcp(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

struct Keys {
  CurveKeys fe1 = curve_keypair();
  CurveKeys fe2 = curve_keypair();
  CurveKeys bard = curve_keypair();
  // Who may connect: the two front ends and the publisher.
  std::shared_ptr<const KeyRing> ring() const {
    return std::make_shared<KeyRing>(std::vector<KeyEntry>{{"fe1", KeyRole::kFrontend, fe1.public_key},
                                                           {"fe2", KeyRole::kFrontend, fe2.public_key},
                                                           {"cacofonix", KeyRole::kPublisher, bard.public_key}});
  }
  ZmqOptions options(const CurveKeys& own, const std::string& bind = "") const {
    ZmqOptions o;
    o.bind = bind;
    o.curve = CurveOptions{own, ring()};
    return o;
  }
};

// Sends with `send` and polls `t` until a frame arrives (ZeroMQ connects in the background, and a
// frame to a peer not yet connected is dropped), or 3 s pass.
std::optional<Incoming> until_one(ZmqTransport& t, const std::function<void()>& send) {
  std::optional<Incoming> got;
  eventually(
      [&] {
        send();
        t.wait(ms(20));
        got = t.receive();
        return got.has_value();
      },
      ms(3000));
  return got;
}

TEST(ZmqCurve, KeysAreFortyCharactersOfZ85AndNeverTheSame) {
  const CurveKeys a = curve_keypair();
  const CurveKeys b = curve_keypair();
  EXPECT_TRUE(z85_key(a.public_key));
  EXPECT_TRUE(z85_key(a.secret_key));
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_FALSE(z85_key("too short"));
  EXPECT_FALSE(z85_key(std::string(40, '~')));
}

TEST(ZmqCurve, PeersWithTheClustersKeysTalkByName) {
  const Keys k;
  const auto ports = testing::free_ports(2);
  ZmqTransport fe1("fe1", k.options(k.fe1, tcp(ports[0])));
  ZmqTransport fe2("fe2", k.options(k.fe2, tcp(ports[1])));
  fe1.add_peer("fe2", tcp(ports[1]));
  fe2.add_peer("fe1", tcp(ports[0]));
  const auto at_fe2 = until_one(fe2, [&] { fe1.send("fe2", "hello"); });
  ASSERT_TRUE(at_fe2);
  EXPECT_EQ(at_fe2->from, "fe1");
  EXPECT_EQ(at_fe2->frame, "hello");
  // A client (no bind) with the publisher's key: its frames arrive, and the answer goes back.
  ZmqTransport bard("cacofonix-1", k.options(k.bard));
  bard.add_peer("fe1", tcp(ports[0]));
  const auto at_fe1 = until_one(fe1, [&] { bard.send("fe1", "set_score"); });
  ASSERT_TRUE(at_fe1);
  EXPECT_EQ(at_fe1->from, "cacofonix-1");
  const auto back = until_one(bard, [&] { fe1.send("cacofonix-1", "ack"); });
  ASSERT_TRUE(back);
  EXPECT_EQ(back->frame, "ack");
  EXPECT_EQ(fe1.connections_refused(), 0u);
}

TEST(ZmqCurve, AnUnknownKeyAndAPlainClientGetNothingThrough) {
  const Keys k;
  const auto port = testing::free_ports(1).at(0);
  ZmqTransport fe1("fe1", k.options(k.fe1, tcp(port)));
  // A key the cluster does not know, though it knows fe1's public key.
  ZmqTransport stranger("mallory", k.options(curve_keypair()));
  stranger.add_peer("fe1", tcp(port));
  // No CURVE at all.
  ZmqTransport plain("plain", ZmqOptions{});
  plain.add_peer("fe1", tcp(port));
  const auto got = until_one(fe1, [&] {
    stranger.send("fe1", "let me in");
    plain.send("fe1", "let me in");
  });
  EXPECT_FALSE(got) << got->from << ": " << got->frame;
  EXPECT_GT(fe1.connections_refused(), 0u);
}

TEST(ZmqCurve, AClientCannotClaimAPeersName) {
  const Keys k;
  const auto port = testing::free_ports(1).at(0);
  ZmqTransport fe1("fe1", k.options(k.fe1, tcp(port)));
  // The publisher's key, and fe2's routing id: as if the publisher sent fe2's heartbeats.
  ZmqTransport forger("fe2", k.options(k.bard));
  forger.add_peer("fe1", tcp(port));
  const auto got = until_one(fe1, [&] { forger.send("fe1", "heartbeat"); });
  EXPECT_FALSE(got) << got->from << ": " << got->frame;
  EXPECT_GT(fe1.frames_spoofed(), 0u);
  // fe2's own key under fe2's name is taken.
  ZmqTransport fe2("fe2", k.options(k.fe2));
  fe2.add_peer("fe1", tcp(port));
  const auto real = until_one(fe1, [&] { fe2.send("fe1", "heartbeat"); });
  ASSERT_TRUE(real);
  EXPECT_EQ(real->from, "fe2");
}

TEST(ZmqCurve, AKeyCannotTakeOverAnotherKeysRoutingId) {
  const Keys k;
  const auto port = testing::free_ports(1).at(0);
  ZmqTransport fe1("fe1", k.options(k.fe1, tcp(port)));
  // fe2's key under the publisher's routing id: with ROUTER_HANDOVER it would get the publisher's
  // acks from now on.
  ZmqTransport thief("cacofonix-4242-1a2b", k.options(k.fe2));
  thief.add_peer("fe1", tcp(port));
  const auto got = until_one(fe1, [&] { thief.send("fe1", "set_score"); });
  EXPECT_FALSE(got) << got->from << ": " << got->frame;
  EXPECT_GT(fe1.frames_spoofed(), 0u);
  // A name that only starts like the key's is not the key's either.
  ZmqTransport near("cacofonixx-1", k.options(k.bard));
  near.add_peer("fe1", tcp(port));
  EXPECT_FALSE(until_one(fe1, [&] { near.send("fe1", "set_score"); }));
  EXPECT_TRUE(owns_routing_id("cacofonix", "cacofonix-4242-1a2b"));
  EXPECT_TRUE(owns_routing_id("fe2", "fe2"));
  EXPECT_FALSE(owns_routing_id("cacofonix", "cacofonix-"));
  EXPECT_FALSE(owns_routing_id("fe2", "fe22"));
}

TEST(ZmqCurve, APeerWithoutAKnownPublicKeyIsAnError) {
  const Keys k;
  ZmqTransport fe1("fe1", k.options(k.fe1));
  try {
    fe1.add_peer("db1", "tcp://127.0.0.1:1");
    FAIL() << "added a peer without its key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("db1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace oly
