// The real `database` binary on loopback: updates over ZeroMQ survive kill -9, malformed frames
// are answered, and a second database on a bound address fails clearly.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <zmq.hpp>

#include "common/codec.h"
#include "tests/support/process.h"

namespace oly::testing {
namespace {

// A database process over a config on free ports, its files in a temporary directory.
class DatabaseProcess {
 public:
  DatabaseProcess() { write_config(config_, config_path()); }

  // Starts the binary; true once it answers get_master.
  bool start() {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{bin("database"), "--config", config_path()}, log_path());
    return eventually([&] { return ask(GetMaster{}, ms(200)).has_value(); }, ms(10000));
  }
  void kill() { child_.reset(); }  // SIGKILL, no clean shutdown

  std::optional<Message> ask(Body body, Duration timeout = ms(2000)) {
    return request(address(), Message{++req_, std::move(body)}, timeout);
  }
  const std::string& address() const { return config_.database.address; }
  std::string config_path() const { return dir_.file("cluster.yaml"); }
  std::string log_path() const { return dir_.file("database.log"); }
  std::string log() const {
    std::ifstream in(log_path());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  TempDir dir_;
  Config config_ = cluster_config(dir_.path() + "/run");
  std::unique_ptr<Child> child_;
  uint64_t req_ = 0;
};

constexpr const char* kPublisher = "caco-process-test";

// `update` from kPublisher with `seq`, at epoch 1.
template <class Update>
Body stamped(Update update, uint64_t seq) {
  update.publisher = kPublisher;
  update.seq = seq;
  update.epoch = 1;
  return update;
}

// Update `seq` of a fixed mix: every third sets a score, the others add a medal.
Body update(uint64_t seq, const std::vector<std::string>& events) {
  if (seq % 3 == 0) {
    SetScore m;
    m.event = events[seq % events.size()];
    m.gauls = static_cast<int64_t>(seq);
    m.romans = static_cast<int64_t>(seq / 2);
    return stamped(m, seq);
  }
  IncrementMedalTally m;
  m.team = teams()[seq % 2];
  m.medal = medals()[(seq / 2) % 3];
  return stamped(m, seq);
}

// Sends every request at once on one DEALER and collects the replies, by req, until all came
// or `timeout` passed.
std::map<uint64_t, Message> pipeline(const std::string& address,
                                     const std::vector<Message>& requests, Duration timeout) {
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.connect(address);
  for (const auto& m : requests) s.send(zmq::buffer(encode(m)), zmq::send_flags::none);
  std::map<uint64_t, Message> replies;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (replies.size() < requests.size() && std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    zmq::message_t frame;
    while (s.recv(frame, zmq::recv_flags::dontwait)) {
      Decoded d = decode(frame.to_string_view());
      if (d.ok) replies[d.message.req] = d.message;
    }
  }
  return replies;
}

TEST(DatabaseProcess, EveryAcknowledgedUpdateSurvivesKillNine) {
  DatabaseProcess db;
  ASSERT_TRUE(db.start()) << db.log();
  ClaimMaster claim;
  claim.frontend = "fe1";
  claim.epoch = 1;
  auto claimed = db.ask(claim);
  ASSERT_TRUE(claimed && claimed->is<MasterInfo>()) << db.log();

  const std::vector<std::string> events = Config{}.events;
  std::vector<Message> requests;
  for (uint64_t seq = 1; seq <= 200; ++seq) requests.push_back({seq, update(seq, events)});
  const auto replies = pipeline(db.address(), requests, ms(20000));
  ASSERT_EQ(replies.size(), requests.size()) << db.log();

  // What the acknowledgements promise: per key its version, per team its medals, per event its
  // last score. Updates of one publisher are applied in seq order, so the n-th update of a key
  // has version n.
  std::map<std::string, uint64_t> versions;
  std::map<std::string, std::array<int64_t, 3>> medals_of;
  std::map<std::string, std::pair<int64_t, int64_t>> score_of;
  for (const auto& m : requests) {
    const Message& reply = replies.at(m.req);
    ASSERT_TRUE(reply.is<Ack>()) << "seq " << m.req << ": " << op_name(reply.body);
    const Ack& ack = reply.as<Ack>();
    EXPECT_EQ(ack.version, ++versions[ack.key]) << ack.key;
    if (m.is<SetScore>()) {
      score_of[m.as<SetScore>().event] = {m.as<SetScore>().gauls, m.as<SetScore>().romans};
    } else {
      const auto& inc = m.as<IncrementMedalTally>();
      ++medals_of[inc.team][inc.medal == "gold" ? 0 : inc.medal == "silver" ? 1 : 2];
    }
  }

  db.kill();
  ASSERT_TRUE(db.start()) << db.log();

  auto board = db.ask(GetScoreboard{});
  ASSERT_TRUE(board && board->is<Scoreboard>());
  for (const auto& s : board->as<Scoreboard>().scores) {
    EXPECT_EQ(s.version, versions["score/" + s.event]) << s.event;
    EXPECT_EQ(std::make_pair(s.gauls, s.romans), score_of[s.event]) << s.event;
  }
  for (const auto& t : board->as<Scoreboard>().tallies) {
    EXPECT_EQ(t.version, versions["tally/" + t.team]) << t.team;
    EXPECT_EQ((std::array<int64_t, 3>{t.gold, t.silver, t.bronze}), medals_of[t.team]) << t.team;
  }
  auto master = db.ask(GetMaster{});
  ASSERT_TRUE(master && master->is<MasterInfo>());
  EXPECT_EQ(master->as<MasterInfo>().epoch, 1u);

  auto resent = db.ask(requests.back().body);
  ASSERT_TRUE(resent && resent->is<Ack>());
  EXPECT_TRUE(resent->as<Ack>().duplicate);
  EXPECT_EQ(resent->as<Ack>().version, replies.at(200).as<Ack>().version);
}

TEST(DatabaseProcess, MalformedFrameGetsAnErrorAndTheDatabaseKeepsServing) {
  DatabaseProcess db;
  ASSERT_TRUE(db.start()) << db.log();
  auto raw = request_raw(db.address(), std::string("\xc1\xff garbage \x00\x01", 14));
  ASSERT_TRUE(raw.has_value());
  Decoded reply = decode(*raw);
  ASSERT_TRUE(reply.ok) << reply.error.text;
  ASSERT_TRUE(reply.message.is<Error>());
  EXPECT_EQ(reply.message.as<Error>().code, ErrorCode::kMalformed);
  auto master = db.ask(GetMaster{});
  EXPECT_TRUE(master && master->is<MasterInfo>());
}

TEST(DatabaseProcess, SecondDatabaseOnABoundAddressExitsWithAClearError) {
  DatabaseProcess db;
  ASSERT_TRUE(db.start()) << db.log();
  TempDir other;
  Child second({bin("database"), "--config", db.config_path()}, other.file("second.log"));
  EXPECT_EQ(second.wait(ms(10000)), 1);
  std::ifstream in(other.file("second.log"));
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("error:"), std::string::npos) << line;
  EXPECT_NE(line.find(db.address()), std::string::npos) << line;
}

}  // namespace
}  // namespace oly::testing
