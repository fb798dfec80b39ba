#include "frontend/agreement.h"

#include <algorithm>

#include "common/codec.h"

namespace oly {

namespace {

std::optional<byzantine::Update> update_of(Message& m) {
  if (auto* s = std::get_if<SetScore>(&m.body)) return std::move(*s);
  if (auto* i = std::get_if<IncrementMedalTally>(&m.body)) return std::move(*i);
  return std::nullopt;
}

const std::optional<Bytes>& signature_of(const byzantine::Update& u) {
  return std::visit([](const auto& m) -> const std::optional<Bytes>& { return m.signature; }, u);
}

}  // namespace

std::string proposal_frame(byzantine::Update u) {
  std::visit([](auto& m) {
    m.token.reset();
    m.epoch.reset();
  }, u);
  return encode(Message{0, std::visit([](auto& m) { return Body(std::move(m)); }, u)});
}

Agreement::Agreement(std::string self, std::vector<std::string> frontends, Duration round, Counters& counters)
    : self_(std::move(self)), frontends_(std::move(frontends)), round_(round), counters_(counters) {}

bool Agreement::signed_ok(const byzantine::Update& u) const {
  const auto& sig = signature_of(u);
  return sig && byzantine::verify(u, sig->data, publisher_key_);
}

void Agreement::command(byzantine::Update u, Effects& out) {
  const auto [publisher, seq] = std::visit([](const auto& m) { return std::pair{m.publisher, m.seq}; }, u);
  const std::string frame = proposal_frame(u);
  for (const auto& fe : frontends_) {
    if (fe == self_) continue;
    out.send(fe, 0, Propose{publisher, seq, Bytes{frame}});
    ++counters_["agreement_proposes_sent"];
  }
  ++counters_["agreement_commanded"];
  if (observer_) observer_(self_, publisher, seq, frame);
  Message m = decode(frame).message;
  decisions_.push_back({self_, *update_of(m)});
}

byzantine::Value Agreement::check(const InstanceId& id, Instance& in, const Bytes& update) const {
  if (!in.verified.empty() && update.data == in.verified) return update.data;
  Decoded d = decode(update.data);
  if (!d.ok) return std::nullopt;
  auto u = update_of(d.message);
  if (!u) return std::nullopt;
  const auto [publisher, seq] = std::visit([](const auto& m) { return std::pair{m.publisher, m.seq}; }, *u);
  if (publisher != std::get<1>(id) || seq != std::get<2>(id) || !signed_ok(*u)) return std::nullopt;
  in.verified = update.data;
  return update.data;
}

Agreement::Instance* Agreement::instance(const InstanceId& id, TimePoint now) {
  const std::string& commander = std::get<0>(id);
  if (commander == self_ || std::find(frontends_.begin(), frontends_.end(), commander) == frontends_.end()) {
    ++counters_["agreement_ignored"];
    return nullptr;
  }
  auto it = instances_.find(id);
  if (it == instances_.end()) {
    std::vector<std::string> others;
    for (const auto& fe : frontends_) {
      if (fe != self_ && fe != commander) others.push_back(fe);
    }
    it = instances_.emplace(id, Instance{byzantine::Om1Lieutenant(commander, std::move(others)), now}).first;
    next_deadline_ = std::min(next_deadline_, now + round_);
  }
  return it->second.decided ? nullptr : &it->second;
}

void Agreement::on_propose(const std::string& from, const Propose& p, TimePoint now, Effects& out) {
  const InstanceId id{from, p.publisher, p.seq};
  Instance* in = instance(id, now);
  if (in == nullptr) return;
  if (!in->om.on_propose(from, check(id, *in, p.update))) return;
  if (!in->om.received()->has_value()) ++counters_["agreement_invalid_values"];
  relay(id, *in, out);
  if (in->om.heard_all()) decide(id, *in);
}

void Agreement::on_relay(const std::string& from, const Relay& r, TimePoint now, Effects& out) {
  const InstanceId id{r.commander, r.publisher, r.seq};
  Instance* in = instance(id, now);
  if (in == nullptr) return;
  byzantine::Value v = r.update ? check(id, *in, *r.update) : std::nullopt;
  if (r.update && !v) ++counters_["agreement_invalid_values"];
  if (!in->om.on_relay(from, std::move(v))) return;
  if (in->om.heard_all()) decide(id, *in);
  (void)out;
}

void Agreement::relay(const InstanceId& id, Instance& in, Effects& out) {
  if (in.relayed) return;
  in.relayed = true;
  const byzantine::Value v = *in.om.received();
  for (const auto& fe : frontends_) {
    if (fe == self_ || fe == std::get<0>(id)) continue;
    out.send(fe, 0, Relay{std::get<0>(id), std::get<1>(id), std::get<2>(id), v ? std::optional<Bytes>(Bytes{*v}) : std::nullopt});
    ++counters_["agreement_relays_sent"];
  }
}

void Agreement::decide(const InstanceId& id, Instance& in) {
  in.decided = true;
  const byzantine::Value v = in.om.decide();
  if (observer_) observer_(std::get<0>(id), std::get<1>(id), std::get<2>(id), v);
  if (!v) {
    ++counters_["agreement_decided_none"];
    return;
  }
  ++counters_["agreement_decided"];
  Message m = decode(*v).message;
  decisions_.push_back({std::get<0>(id), *update_of(m)});
}

void Agreement::tick(TimePoint now, Effects& out) {
  if (now < next_deadline_) return;
  next_deadline_ = TimePoint::max();
  for (auto it = instances_.begin(); it != instances_.end();) {
    Instance& in = it->second;
    if (!in.decided && now >= in.started + round_ && in.om.commander_silent()) relay(it->first, in, out);
    if (!in.decided && now >= in.started + 2 * round_) {
      relay(it->first, in, out);
      decide(it->first, in);
    }
    if (now >= in.started + kForgetRounds * round_) {
      it = instances_.erase(it);
      continue;
    }
    if (!in.decided) next_deadline_ = std::min(next_deadline_, in.started + (in.relayed ? 2 : 1) * round_);
    next_deadline_ = std::min(next_deadline_, in.started + kForgetRounds * round_);
    ++it;
  }
}

}  // namespace oly
