#include "database/byzantine_gate.h"

#include "byzantine/signed_update.h"
#include "common/node_name.h"

namespace oly::database {

namespace {

byzantine::Update as_update(const Body& b) {
  if (const auto* s = std::get_if<SetScore>(&b)) return *s;
  return std::get<IncrementMedalTally>(b);
}

}  // namespace

ByzantineGate::ByzantineGate(const Config& config, std::string publisher_key, Duration park_for)
    : publisher_key_(std::move(publisher_key)), park_for_(park_for) {
  for (const auto& f : config.frontends) frontends_.push_back(f.id);
}

std::string ByzantineGate::frontend_of(const std::string& from) const {
  for (const auto& f : frontends_) {
    if (owns_routing_id(f, from)) return f;
  }
  return "";
}

ByzantineGate::Outcome ByzantineGate::admit(const std::string& from, uint64_t req, Body& update, uint64_t last_seq,
                                            uint64_t epoch, TimePoint now) {
  const byzantine::Update u = as_update(update);
  const std::string op(op_name(update));
  const std::string frontend = frontend_of(from);
  if (frontend.empty()) {
    return {Verdict::kRefuse, make_error(ErrorCode::kUnauthorised, op + ": in Byzantine mode only a front end submits updates"), {}};
  }
  const auto& signature = std::visit([](const auto& m) -> const std::optional<Bytes>& { return m.signature; }, u);
  const byzantine::UpdateId id = std::visit([](const auto& m) { return byzantine::UpdateId{m.publisher, m.seq}; }, u);
  const std::string value = byzantine::canonical_bytes(u);
  if (!signature) {
    return {Verdict::kRefuse, make_error(ErrorCode::kUnauthorised, op + ": the publisher's signature is missing or wrong"), {}};
  }
  const std::string signed_value = value + signature->data;
  const auto seen = verified_.find(id);
  if (seen == verified_.end() || seen->second.first != signed_value) {
    if (!byzantine::verify(u, signature->data, publisher_key_)) {
      return {Verdict::kRefuse, make_error(ErrorCode::kUnauthorised, op + ": the publisher's signature is missing or wrong"), {}};
    }
    verified_[id] = {signed_value, now};
  }
  if (auto* s = std::get_if<SetScore>(&update)) s->epoch = epoch;
  if (auto* m = std::get_if<IncrementMedalTally>(&update)) m->epoch = epoch;
  if (id.seq <= last_seq || let_through_.count(id)) return {};
  auto result = quorum_.submit(id, frontend, value);
  if (!result.apply) {
    auto [it, fresh] = parked_.try_emplace(id, Parked{now, {}});
    it->second.requests.emplace_back(from, req);
    return {Verdict::kPark, {}, {}};
  }
  Outcome out{Verdict::kApply, {}, {}};
  if (auto it = parked_.find(id); it != parked_.end()) {
    out.parked = std::move(it->second.requests);
    parked_.erase(it);
  }
  let_through_[id] = now;
  return out;
}

void ByzantineGate::expire(TimePoint now) {
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (now - it->second.since < park_for_) {
      ++it;
      continue;
    }
    quorum_.forget(it->first);
    it = parked_.erase(it);
  }
  std::erase_if(let_through_, [&](const auto& entry) { return now - entry.second >= park_for_; });
  std::erase_if(verified_, [&](const auto& entry) { return now - entry.second.second >= park_for_; });
}

}  // namespace oly::database
