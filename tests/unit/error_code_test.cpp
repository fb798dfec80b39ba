// The error codes: one table of names, used by the codec and held to by docs/protocol.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "common/codec.h"
#include "common/error_code.h"

namespace oly {
namespace {

TEST(ErrorCode, EveryNameParsesBackToItsCode) {
  std::set<std::string_view> names;
  for (const auto& e : kErrorCodes) {
    EXPECT_EQ(error_code_name(e.code), e.name);
    EXPECT_EQ(parse_error_code(e.name), e.code) << e.name;
    EXPECT_TRUE(names.insert(e.name).second) << "two codes are named " << e.name;
  }
  EXPECT_EQ(parse_error_code("not_a_code"), std::nullopt);
  EXPECT_EQ(parse_error_code(""), std::nullopt);
}

TEST(ErrorCode, TravelsAsItsName) {
  for (const auto& e : kErrorCodes) {
    const std::string frame = encode(Message{7, make_error(e.code, "why")});
    EXPECT_NE(frame.find(std::string(e.name)), std::string::npos) << e.name;
    Decoded d = decode(frame);
    ASSERT_TRUE(d.ok) << d.error.text;
    EXPECT_EQ(d.message.as<Error>().code, e.code);
  }
}

TEST(ErrorCode, AnUnknownNameIsMalformedAndNamesTheField) {
  std::string frame = encode(Message{9, make_error(ErrorCode::kFenced, "why")});
  const auto at = frame.find("fenced");
  ASSERT_NE(at, std::string::npos);
  frame.replace(at, 6, "fended");  // same length, so the MessagePack string header still fits
  Decoded d = decode(frame);
  ASSERT_FALSE(d.ok);
  EXPECT_EQ(d.error.code, ErrorCode::kMalformed);
  EXPECT_NE(d.error.text.find("code"), std::string::npos) << d.error.text;
  EXPECT_NE(d.error.text.find("fended"), std::string::npos) << d.error.text;
  EXPECT_EQ(d.error.req, 9u);
}

// Section 4 of docs/protocol.md has one row per code, and no row for a code that does not exist.
TEST(ErrorCode, TheProtocolDocsListEveryCodeAndNoOther) {
  std::ifstream in(std::filesystem::path(OLY_SOURCE_DIR) / "docs" / "protocol.md");
  ASSERT_TRUE(in) << "docs/protocol.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const auto from = doc.find("## 4. Error codes");
  ASSERT_NE(from, std::string::npos);
  const auto to = doc.find("\n## ", from + 1);
  const std::string section = doc.substr(from, to - from);
  // The first cell of each row: "\n| `name` |". (No std::regex: GCC 12 under ASan warns inside it.)
  std::set<std::string> rows;
  const std::string start = "\n| `";
  for (auto at = section.find(start); at != std::string::npos; at = section.find(start, at + 1)) {
    const auto from = at + start.size();
    const auto to = section.find("` |", from);
    if (to != std::string::npos) rows.insert(section.substr(from, to - from));
  }
  for (const auto& e : kErrorCodes) EXPECT_TRUE(rows.count(std::string(e.name))) << "no row for " << e.name;
  for (const auto& r : rows) EXPECT_TRUE(parse_error_code(r).has_value()) << "row for unknown code " << r;
}

}  // namespace
}  // namespace oly
