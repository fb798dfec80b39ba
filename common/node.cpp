#include "common/node.h"


#include "common/codec.h"
#include "common/log.h"

namespace oly {

TimePoint Node::step(size_t max_frames) {
  const TimePoint began = clock_.now();
  size_t handled = 0;
  while (handled < max_frames) {
    auto in = transport_.receive();
    if (!in) break;
    ++handled;
    if (in->lost) {
      core_.on_peer_lost(in->from, clock_.now(), effects_);
      continue;
    }
    Decoded d = decode(in->frame);
    if (!d.ok) {
      handle_bad_frame(*in, d.error);
      continue;
    }
    core_.on_message(in->from, std::move(d.message), in->notice, clock_.now(), effects_);
  }
  const TimePoint now = clock_.now();
  if (handled > 0) core_.on_batch_end(now, effects_);
  // What the frames produced goes out before the tick, which may wait on the disk: a database
  // leader's new entries reach its followers while its own write is being made durable.
  flush(effects_);
  if (now >= core_.next_wake()) core_.on_tick(now, effects_);
  flush(effects_);
  note_if_slow(began, handled);
  return core_.next_wake();
}

void Node::note_if_slow(TimePoint began, size_t handled) {
  const Duration took = clock_.now() - began;
  if (took < kSlowStep) return;
  ++core_.counters()["slow_steps"];
  spdlog::warn("slow step: {:.0f} ms for {} messages and the tick; every reply behind it waited (a slow disk or a "
               "busy machine)",
               to_ms(took), handled);
}

void Node::flush(Effects& effects) {
  for (const auto& [name, address] : effects.connects()) transport_.connect(name, address);
  for (auto& o : effects.items()) {
    if (!o.frame.empty()) {
      transport_.send(o.to, std::move(o.frame));
    } else if (o.notice) {
      transport_.publish(o.to, encode(o.msg));
    } else {
      transport_.send(o.to, encode(o.msg));
    }
  }
  effects.clear();
}

std::vector<Effects::Out> Effects::decoded_items() const {
  std::vector<Out> items = out_;
  for (auto& o : items) {
    if (o.frame.empty()) continue;
    Decoded d = decode(o.frame);
    o.msg = d.ok ? std::move(d.message) : Message{d.error.req, make_error(d.error.code, d.error.text)};
    o.frame.clear();
  }
  return items;
}

void Node::handle_bad_frame(const Incoming& in, const DecodeError& err) {
  ++core_.counters()["malformed_frames"];
  if (warned_peers_.insert(in.from).second) {
    spdlog::warn("malformed frame from '{}' ({} bytes): {} (further ones from this peer are only counted)",
                 in.from, in.frame.size(), err.text);
  }
  if (!in.notice) effects_.send(in.from, err.req, make_error(err.code, err.text));
}


}  // namespace oly
