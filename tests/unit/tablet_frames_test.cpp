// Framing of the tablets' native TCP protocol (tabletnet/frames.h): the exact bytes, frames
// split at every byte and packed together, the limits (an empty frame, one byte over the limit, a
// huge prefix refused before any payload is kept), the bound on what a connection holds, and
// random bytes that must never crash the reader nor make it hand out a frame over the limit.
#include "tabletnet/frames.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/codec.h"

namespace oly::tabletnet {
namespace {

using Status = FrameReader::Status;

// Every frame the reader gives after `bytes` were fed in pieces of `piece` bytes, and its last
// status.
std::pair<std::vector<std::string>, Status> read_all(FrameReader& r, const std::string& bytes, size_t piece) {
  std::vector<std::string> frames;
  Status last = Status::kNeedMore;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    r.feed(std::string_view(bytes).substr(at, piece));
    std::string_view p;
    while ((last = r.next(p)) == Status::kFrame) frames.emplace_back(p);
  }
  return {frames, last};
}

TEST(TabletFrames, APrefixIsTheBigEndianLengthOfThePayload) {
  EXPECT_EQ(frame("abc"), std::string("\x00\x00\x00\x03" "abc", 7));
  std::string payload(0x010203, 'x');
  const std::string f = frame(payload);
  ASSERT_EQ(f.size(), 4 + payload.size());
  EXPECT_EQ(f.substr(0, 4), std::string("\x00\x01\x02\x03", 4));
  std::string two;
  append_frame(two, "a");
  append_frame(two, "bc");
  EXPECT_EQ(two, std::string("\x00\x00\x00\x01" "a" "\x00\x00\x00\x02" "bc", 11));
}

TEST(TabletFrames, AnEncodedRequestComesBackWholeWhateverThePieces) {
  GetScore q;
  q.event = "Curling";
  const std::string payload = encode(Message{7, q});
  std::string stream;
  for (int i = 0; i < 3; ++i) append_frame(stream, payload);
  for (size_t piece = 1; piece <= stream.size(); ++piece) {
    FrameReader r;
    auto [frames, last] = read_all(r, stream, piece);
    ASSERT_EQ(frames.size(), 3u) << "pieces of " << piece;
    for (const auto& f : frames) EXPECT_EQ(f, payload);
    EXPECT_EQ(last, Status::kNeedMore);
    EXPECT_EQ(r.buffered(), 0u);
    const Decoded d = decode(frames[2]);
    ASSERT_TRUE(d.ok) << d.error.text;
    EXPECT_EQ(d.message.req, 7u);
    EXPECT_EQ(d.message.as<GetScore>().event, "Curling");
  }
}

TEST(TabletFrames, APartialFrameWaitsForTheRest) {
  FrameReader r;
  std::string_view p;
  r.feed(std::string("\x00\x00", 2));
  EXPECT_EQ(r.next(p), Status::kNeedMore);
  r.feed(std::string("\x00\x05" "hel", 5));
  EXPECT_EQ(r.next(p), Status::kNeedMore);
  EXPECT_EQ(r.buffered(), 7u);
  r.feed("lo");
  ASSERT_EQ(r.next(p), Status::kFrame);
  EXPECT_EQ(p, "hello");
  EXPECT_EQ(r.next(p), Status::kNeedMore);
}

TEST(TabletFrames, TheLimitIsInclusiveAndOneByteMoreBreaksTheStream) {
  FrameReader r(100);
  auto [ok, last] = read_all(r, frame(std::string(100, 'a')), 7);
  EXPECT_EQ(ok.size(), 1u);
  EXPECT_EQ(last, Status::kNeedMore);

  FrameReader over(100);
  std::string stream = frame(std::string(101, 'a')) + frame("after");
  auto [none, broken] = read_all(over, stream, 3);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(broken, Status::kTooLarge);
  EXPECT_EQ(over.refused_length(), 101u);
  // Nothing more is taken: the frame after it is never seen.
  over.feed(frame("later"));
  std::string_view p;
  EXPECT_EQ(over.next(p), Status::kTooLarge);
  EXPECT_EQ(over.buffered(), 0u);
  EXPECT_EQ(over.room(), 0u);
}

TEST(TabletFrames, AHugePrefixIsRefusedBeforeAnyPayloadIsKept) {
  FrameReader r;
  r.feed(std::string("\xff\xff\xff\xff", 4));
  std::string_view p;
  EXPECT_EQ(r.next(p), Status::kTooLarge);
  EXPECT_EQ(r.refused_length(), 0xffffffffu);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(TabletFrames, AnEmptyFrameBreaksTheStream) {
  FrameReader r;
  r.feed(frame("ok") + std::string(4, '\0') + frame("never"));
  std::string_view p;
  ASSERT_EQ(r.next(p), Status::kFrame);
  EXPECT_EQ(p, "ok");
  EXPECT_EQ(r.next(p), Status::kEmpty);
  EXPECT_EQ(r.next(p), Status::kEmpty);
}

// A reader fed at most room() bytes at a time, its frames taken after each read, holds at most a
// prefix and the largest payload, however the peer's bytes are cut.
TEST(TabletFrames, ReadingAtMostRoomBoundsWhatAConnectionHolds) {
  constexpr size_t kMax = 1000;
  std::mt19937_64 rng(5);
  std::string stream;
  size_t frames_sent = 0;
  while (stream.size() < 200'000) {
    append_frame(stream, std::string(1 + rng() % kMax, static_cast<char>('a' + frames_sent % 26)));
    ++frames_sent;
  }
  FrameReader r(kMax);
  size_t at = 0, got = 0, most = 0;
  std::string_view p;
  while (at < stream.size()) {
    const size_t want = 1 + rng() % 4000;
    const size_t n = std::min({want, r.room(), stream.size() - at});
    ASSERT_GT(n, 0u) << "room() is 0 with no whole frame waiting";
    r.feed(std::string_view(stream).substr(at, n));
    at += n;
    most = std::max(most, r.buffered());
    while (r.next(p) == Status::kFrame) ++got;
  }
  EXPECT_EQ(got, frames_sent);
  EXPECT_LE(most, kFramePrefix + kMax);
}

// Random bytes, random piece sizes: no crash, every frame handed out within the limit, and once
// the stream breaks it stays broken and holds nothing.
TEST(TabletFrames, RandomBytesNeverCrashTheReaderNorPassTheLimit) {
  std::mt19937_64 rng(11);
  for (int run = 0; run < 2000; ++run) {
    const size_t max = 1 + rng() % 300;
    FrameReader r(max);
    std::string bytes(rng() % 2000, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng() % 4 == 0 ? rng() % 3 : rng());
    size_t at = 0;
    Status last = Status::kNeedMore;
    std::string_view p;
    while (at < bytes.size()) {
      const size_t n = std::min<size_t>(1 + rng() % 64, bytes.size() - at);
      r.feed(std::string_view(bytes).substr(at, n));
      at += n;
      while ((last = r.next(p)) == Status::kFrame) {
        ASSERT_GE(p.size(), 1u);
        ASSERT_LE(p.size(), max);
        // A payload is handed to the codec, which must refuse garbage without crashing.
        (void)decode(p);
      }
      if (last != Status::kNeedMore) {
        ASSERT_EQ(r.buffered(), 0u);
        break;
      }
    }
  }
}

// `bytes` as docs/protocol.md shows them: two hex digits a byte, 16 a line, separated by spaces.
std::string hex_dump(const std::string& bytes) {
  std::string out;
  char cell[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(cell, sizeof cell, "%02x", static_cast<unsigned char>(bytes[i]));
    out += cell;
    out += (i % 16 == 15 || i + 1 == bytes.size()) ? "\n" : " ";
  }
  return out;
}

// Section 8 of docs/protocol.md shows a request and its answer byte by byte, for third-party
// clients: they must be what the code sends.
TEST(TabletFrames, TheProtocolDocsByteDumpsAreWhatTheCodeSends) {
  std::ifstream in(std::filesystem::path(OLY_SOURCE_DIR) / "docs" / "protocol.md");
  ASSERT_TRUE(in) << "docs/protocol.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const auto section = doc.find("## 8. The native TCP protocol for tablets");
  ASSERT_NE(section, std::string::npos);
  ScoreReply r;
  r.score.event = "Curling";
  r.score.gauls = 3;
  r.score.romans = 2;
  r.score.version = 5;
  r.score.updated_at = 1718000000123;
  for (const std::string& bytes : {frame(encode(Message{12, GetScore{"Curling", 4, "t7", std::nullopt}})), frame(encode(Message{12, r}))}) {
    EXPECT_NE(doc.find("```\n" + hex_dump(bytes) + "```", section), std::string::npos)
        << "docs/protocol.md section 8 lacks this dump:\n" << hex_dump(bytes);
  }
}

}  // namespace
}  // namespace oly::tabletnet
