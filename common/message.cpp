#include "common/message.h"

#include <algorithm>

namespace oly {

std::string_view op_name(const Body& body) {
  return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::kOp; }, body);
}

bool is_reply(const Body& body) {
  return std::holds_alternative<Registered>(body) || std::holds_alternative<ScoreReply>(body) ||
         std::holds_alternative<TallyReply>(body) || std::holds_alternative<Scoreboard>(body) ||
         std::holds_alternative<Ack>(body) || std::holds_alternative<MasterInfo>(body) ||
         std::holds_alternative<TabletHome>(body) || std::holds_alternative<Registry>(body) ||
         std::holds_alternative<Stats>(body) || std::holds_alternative<Error>(body) ||
         std::holds_alternative<Value>(body) || std::holds_alternative<NotModified>(body) ||
         std::holds_alternative<InvalidateAck>(body) || std::holds_alternative<LeaseGrant>(body) ||
         std::holds_alternative<Members>(body) || std::holds_alternative<KvValue>(body) ||
         std::holds_alternative<FeedReply>(body) || std::holds_alternative<StatePart>(body);
}

const std::string& serving_frontend(const std::string& tablet, const std::string& home,
                                    const std::vector<std::string>& serving) {
  if (serving.empty() || std::find(serving.begin(), serving.end(), home) != serving.end()) return home;
  // FNV-1a: stable across processes and runs (std::hash is not guaranteed to be).
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : tablet) h = (h ^ c) * 1099511628211ull;
  return serving[h % serving.size()];
}

std::string comma_joined(const std::vector<std::string>& ids) {
  std::string r;
  for (const auto& id : ids) r += (r.empty() ? "" : ",") + id;
  return r;
}

std::vector<std::string> comma_split(const std::string& list) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= list.size()) {
    const size_t comma = std::min(list.find(',', from), list.size());
    if (comma > from) out.push_back(list.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

Error make_error(ErrorCode c, std::string text) {
  Error e;
  e.code = c;
  e.error = std::move(text);
  return e;
}

}  // namespace oly
