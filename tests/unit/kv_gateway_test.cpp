// The key-value store's HTTP mapping (database/kv_gateway.h): which request becomes which
// message, which is refused and how, and how the core's answers become responses.
#include "database/kv_gateway.h"

#include <gtest/gtest.h>

#include "common/kv_rules.h"

namespace oly::database {
namespace {

http::Request get(std::string target, std::string method = "GET") {
  http::Request r;
  r.id = 1;
  r.method = std::move(method);
  r.target = std::move(target);
  r.version = "HTTP/1.0";
  return r;
}

// The message `target` asks for (fails the test when it was refused).
Body asked(const std::string& target) {
  auto out = kv_request(get(target));
  if (auto* refused = std::get_if<http::Response>(&out)) {
    ADD_FAILURE() << target << " was refused: " << refused->status << " " << refused->body;
    return Body{};
  }
  return std::get<Body>(out);
}

// The response refusing `request` (fails the test when it was not refused).
http::Response refused(const http::Request& request) {
  auto out = kv_request(request);
  if (auto* r = std::get_if<http::Response>(&out)) return *r;
  ADD_FAILURE() << request.target << " was not refused";
  return {};
}

std::string header(const http::Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<none>";
}

TEST(KvRequest, AGetWithOrWithoutALeadingSlashIsAKvGet) {
  for (const char* target : {"/medal", "medal"}) {
    const Body b = asked(target);
    ASSERT_TRUE(std::holds_alternative<KvGet>(b)) << target;
    EXPECT_EQ(std::get<KvGet>(b).key, "medal");
    EXPECT_FALSE(std::get<KvGet>(b).local);
  }
}

TEST(KvRequest, ASetSplitsTheDecodedTargetAtItsFirstEqualsSign) {
  Body b = asked("/a=b=c");
  ASSERT_TRUE(std::holds_alternative<KvSet>(b));
  EXPECT_EQ(std::get<KvSet>(b).key, "a");
  EXPECT_EQ(std::get<KvSet>(b).value, "b=c");
  b = asked("/a%3Db");  // an encoded '=' splits too: a key never holds one
  ASSERT_TRUE(std::holds_alternative<KvSet>(b));
  EXPECT_EQ(std::get<KvSet>(b).key, "a");
  EXPECT_EQ(std::get<KvSet>(b).value, "b");
  b = asked("/empty=");
  ASSERT_TRUE(std::holds_alternative<KvSet>(b));
  EXPECT_EQ(std::get<KvSet>(b).value, "") << "the empty string is a value";
}

TEST(KvRequest, TheTargetIsPercentDecodedAndNonAsciiArrivesAsUtf8) {
  const Body b = asked("/ville=Li%C3%A8ge%20%3F%23%25+");
  ASSERT_TRUE(std::holds_alternative<KvSet>(b));
  EXPECT_EQ(std::get<KvSet>(b).key, "ville");
  EXPECT_EQ(std::get<KvSet>(b).value, "Li\xc3\xa8ge ?#%+") << "'+' stays a '+'";
}

TEST(KvRequest, QueryLocalAsksForALocalRead) {
  const Body b = asked("/medal?local");
  ASSERT_TRUE(std::holds_alternative<KvGet>(b));
  EXPECT_TRUE(std::get<KvGet>(b).local);
  EXPECT_EQ(refused(get("/medal?fresh")).status, 400);
  EXPECT_EQ(refused(get("/medal=gold?local")).status, 400) << "a set always goes through the leader";
  const Body q = asked("/what%3F");
  ASSERT_TRUE(std::holds_alternative<KvGet>(q));
  EXPECT_EQ(std::get<KvGet>(q).key, "what?");
}

TEST(KvRequest, BadRequestsAreRefusedWithAStatusAndALineThatEchoesNoBytesOfTheKeyOrValue) {
  const http::Response post = refused(get("/k", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "Allow"), "GET");
  EXPECT_EQ(refused(get("/")).status, 404);
  EXPECT_EQ(refused(get("")).status, 404);
  EXPECT_EQ(refused(get("/a%2")).status, 400);
  EXPECT_EQ(refused(get("/a%zz")).status, 400);
  const http::Response bad_utf8 = refused(get("/k%FF%FE=1"));
  EXPECT_EQ(bad_utf8.status, 400);
  EXPECT_EQ(bad_utf8.body, "the key is not valid UTF-8\n");
  EXPECT_EQ(refused(get("/k=%C0%80")).body, "the value is not valid UTF-8\n") << "an overlong NUL";
  EXPECT_EQ(refused(get("/k=a%00b")).status, 400);
  EXPECT_EQ(refused(get("/a%0Ab")).status, 400) << "a control character in a key";
  EXPECT_EQ(refused(get("/" + std::string(kKvMaxKeyBytes + 1, 'k'))).status, 400);
  EXPECT_EQ(refused(get("/k=" + std::string(kKvMaxValueBytes + 1, 'v'))).status, 400);
  const Body longest = asked("/" + std::string(kKvMaxKeyBytes, 'k') + "=" + std::string(kKvMaxValueBytes, 'v'));
  EXPECT_TRUE(std::holds_alternative<KvSet>(longest)) << "the limits themselves are allowed";
  for (const auto& r : {bad_utf8, refused(get("/k=a%00b"))}) {
    EXPECT_EQ(r.body.find('\xff'), std::string::npos);
    EXPECT_EQ(r.body.back(), '\n');
    EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 1) << "one line";
  }
}

TEST(KvResponse, AValueIsKeyEqualsValueAndNoValueIsNilWithAHeaderThatTellsThemApart) {
  KvValue v;
  v.key = "medal";
  v.value = "gold";
  v.leader = "127.0.0.1:8101";
  http::Response r = kv_response(v);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "medal=gold");
  EXPECT_EQ(header(r, "Content-Type"), "text/plain");
  EXPECT_EQ(header(r, "X-Kv-Found"), "yes");
  EXPECT_EQ(header(r, "X-Leader"), "127.0.0.1:8101");
  EXPECT_EQ(header(r, "X-Applied-Index"), "<none>") << "only local reads say how far behind they may be";
  v.value = std::nullopt;
  v.leader = std::nullopt;
  r = kv_response(v);
  EXPECT_EQ(r.body, "medal=NIL");
  EXPECT_EQ(header(r, "X-Kv-Found"), "no");
  EXPECT_EQ(header(r, "X-Leader"), "<none>");
  v.value = "NIL";
  EXPECT_EQ(header(kv_response(v), "X-Kv-Found"), "yes") << "a stored NIL is a value";
}

TEST(KvResponse, ALocalReadSaysItsIndexAndHowFarBehindItMayBe) {
  KvValue v;
  v.key = "k";
  v.applied_index = 42;
  v.behind_ms = 17;
  http::Response r = kv_response(v);
  EXPECT_EQ(header(r, "X-Applied-Index"), "42");
  EXPECT_EQ(header(r, "X-Behind-Ms"), "17");
  v.behind_ms = std::nullopt;
  EXPECT_EQ(header(kv_response(v), "X-Behind-Ms"), "unknown");
}

TEST(KvResponse, ErrorsMapToTheirStatusAndNotLeaderNamesTheLeadersHttpAddress) {
  Error e = make_error(ErrorCode::kNotLeader, "no leader");
  http::Response r = kv_response(e);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "no leader\n");
  EXPECT_EQ(header(r, "X-Leader"), "<none>");
  e.leader_http = "127.0.0.1:8102";
  EXPECT_EQ(header(kv_response(e), "X-Leader"), "127.0.0.1:8102");
  EXPECT_EQ(kv_response(make_error(ErrorCode::kStoreFull, "full")).status, 507);
  EXPECT_EQ(kv_response(make_error(ErrorCode::kBadValue, "bad")).status, 400);
  EXPECT_EQ(kv_response(make_error(ErrorCode::kUnavailable, "later")).status, 503);
  EXPECT_EQ(kv_response(make_error(ErrorCode::kStorage, "disk")).status, 500);
  EXPECT_EQ(kv_response(Body{GetMaster{}}).status, 500);
}

}  // namespace
}  // namespace oly::database
