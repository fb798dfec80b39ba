#include "common/reads.h"

#include "common/key.h"

namespace oly {

Body read_of_key(const std::string& key, std::optional<uint64_t> min_version, bool committed) {
  const auto k = Key::parse(key);
  const std::optional<bool> flag = committed ? std::optional<bool>(true) : std::nullopt;
  if (k && k->is_tally()) return GetMedalTally{std::string(k->name()), min_version, std::nullopt, flag};
  return GetScore{k ? std::string(k->name()) : key, min_version, std::nullopt, flag};
}

std::optional<KeyValue> value_in(const Body& answer) {
  if (const auto* s = std::get_if<ScoreReply>(&answer)) {
    return KeyValue{Key::score(s->score.event).str(), s->score.version, s->score, std::nullopt, s->partial};
  }
  if (const auto* t = std::get_if<TallyReply>(&answer)) {
    return KeyValue{Key::tally(t->tally.team).str(), t->tally.version, std::nullopt, t->tally, t->partial};
  }
  return std::nullopt;
}

}  // namespace oly
