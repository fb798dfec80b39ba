#include "byzantine/traitor.h"

#include <functional>
#include <utility>

#include "common/codec.h"
#include "common/config.h"

namespace oly::byzantine {

std::string_view strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kFlip: return "flip";
    case Strategy::kRandom: return "random";
    case Strategy::kSilent: return "silent";
    case Strategy::kEquivocate: return "equivocate";
  }
  return "?";
}

std::optional<Strategy> parse_strategy(std::string_view name) {
  for (const Strategy s : {Strategy::kFlip, Strategy::kRandom, Strategy::kSilent, Strategy::kEquivocate}) {
    if (strategy_name(s) == name) return s;
  }
  return std::nullopt;
}

namespace {

int64_t small(std::mt19937_64& rng) { return static_cast<int64_t>(rng() % 21); }

std::string other_team(const std::string& team) {
  const auto& t = teams();
  return team == t[0] ? t[1] : t[0];
}

void lie_about(Score& s, Strategy how, std::mt19937_64& rng) {
  if (how == Strategy::kRandom) {
    s.gauls = small(rng);
    s.romans = small(rng);
    s.version = rng() % 1000;
  } else {
    std::swap(s.gauls, s.romans);
    if (s.gauls == s.romans) ++s.gauls;  // a draw flipped is the same draw: still lie
    ++s.version;
  }
}

void lie_about(Tally& t, Strategy how, std::mt19937_64& rng) {
  if (how == Strategy::kRandom) {
    t.gold = small(rng);
    t.silver = small(rng);
    t.bronze = small(rng);
    t.version = rng() % 1000;
  } else {
    std::swap(t.gold, t.bronze);
    ++t.gold;
    ++t.version;
  }
}

void lie_about(KeyValue& kv, Strategy how, std::mt19937_64& rng) {
  if (kv.score) lie_about(*kv.score, how, rng);
  if (kv.tally) lie_about(*kv.tally, how, rng);
  kv.version = kv.score ? kv.score->version : kv.tally ? kv.tally->version : kv.version + 1;
}

}  // namespace

bool carries_value(const Body& body) {
  return std::holds_alternative<SetScore>(body) || std::holds_alternative<IncrementMedalTally>(body) ||
         std::holds_alternative<Ack>(body) || std::holds_alternative<ScoreReply>(body) ||
         std::holds_alternative<TallyReply>(body) || std::holds_alternative<Scoreboard>(body) ||
         std::holds_alternative<Value>(body) || std::holds_alternative<Propose>(body) ||
         (std::holds_alternative<Relay>(body) && std::get<Relay>(body).update.has_value());
}

void corrupt(Body& body, Strategy how, std::mt19937_64& rng) {
  if (auto* s = std::get_if<SetScore>(&body)) {
    if (how == Strategy::kRandom) {
      s->gauls = small(rng);
      s->romans = small(rng);
    } else {
      std::swap(s->gauls, s->romans);
      if (s->gauls == s->romans) ++s->gauls;
    }
  } else if (auto* m = std::get_if<IncrementMedalTally>(&body)) {
    m->team = how == Strategy::kRandom ? teams()[rng() % teams().size()] : other_team(m->team);
    if (how == Strategy::kRandom) m->medal = medals()[rng() % medals().size()];
  } else if (auto* a = std::get_if<Ack>(&body)) {
    if (a->score) lie_about(*a->score, how, rng);
    if (a->tally) lie_about(*a->tally, how, rng);
    a->version = a->score ? a->score->version : a->tally ? a->tally->version : a->version + 1;
  } else if (auto* r = std::get_if<ScoreReply>(&body)) {
    lie_about(r->score, how, rng);
  } else if (auto* t = std::get_if<TallyReply>(&body)) {
    lie_about(t->tally, how, rng);
  } else if (auto* b = std::get_if<Scoreboard>(&body)) {
    for (auto& s : b->scores) lie_about(s, how, rng);
    for (auto& t : b->tallies) lie_about(t, how, rng);
  } else if (auto* v = std::get_if<Value>(&body)) {
    lie_about(v->value, how, rng);
  } else if (auto* p = std::get_if<Propose>(&body)) {
    corrupt_frame(p->update, how, rng);
  } else if (auto* r = std::get_if<Relay>(&body); r && r->update) {
    corrupt_frame(*r->update, how, rng);
  }
}

void corrupt_frame(Bytes& frame, Strategy how, std::mt19937_64& rng) {
  Decoded d = decode(frame.data);
  if (!d.ok) return;
  corrupt(d.message.body, how, rng);
  frame.data = encode(d.message);
}

TraitorTransport::TraitorTransport(Transport& inner, Strategy strategy, uint64_t seed)
    : inner_(inner), strategy_(strategy), rng_(seed) {}

std::optional<std::string> TraitorTransport::lie(const std::string& to, std::string frame) {
  Decoded d = decode(frame);
  if (!d.ok || !carries_value(d.message.body)) return frame;
  Strategy how = strategy_;
  if (how == Strategy::kEquivocate) {
    // One story per destination and frame: the truth, a flipped frame, or nothing.
    const size_t story = std::hash<std::string>{}(to + '\0' + frame) % 3;
    if (story == 0) return frame;
    if (story == 2) how = Strategy::kSilent;
    else how = Strategy::kFlip;
  }
  if (how == Strategy::kSilent) return std::nullopt;
  corrupt(d.message.body, how, rng_);
  return encode(d.message);
}

void TraitorTransport::send(const std::string& to, std::string frame) {
  auto told = lie(to, frame);
  if (!told) {
    ++dropped_;
    return;
  }
  if (*told != frame) ++corrupted_;
  inner_.send(to, std::move(*told));
}

void TraitorTransport::publish(const std::string& topic, std::string frame) {
  auto told = lie("topic:" + topic, frame);
  if (!told) {
    ++dropped_;
    return;
  }
  if (*told != frame) ++corrupted_;
  inner_.publish(topic, std::move(*told));
}

}  // namespace oly::byzantine
