#include "api/stream_hub.h"

#include <algorithm>

#include "api/json.h"
#include "common/key.h"

namespace oly::api {

StreamHub::StreamHub(const Board& board, StreamSink& sink, std::string frontend)
    : board_(board), sink_(sink), frontend_(std::move(frontend)) {}

std::string StreamHub::event_text(std::string_view event, const std::string& id, const std::string& data) {
  std::string out;
  out.reserve(event.size() + id.size() + data.size() + 24);
  out.append("id: ").append(id).append("\nevent: ").append(event).append("\ndata: ").append(data).append("\n\n");
  return out;
}

void StreamHub::open(uint64_t id, const std::optional<std::string>& last_event_id, uint64_t mark, TimePoint now) {
  const size_t n = board_.keys().size();
  Stream s;
  s.mark = mark;
  s.opened = now;
  s.last_write = now;
  if (auto v = last_event_id ? board_.parse_vector(*last_event_id) : std::nullopt) {
    s.sent = std::move(*v);
    s.has.assign(n, true);  // the client has every key, at these versions
  } else {
    s.sent.assign(n, 0);
    s.has.assign(n, false);
    s.fresh = true;
  }
  streams_[id] = std::move(s);
}

void StreamHub::flush(TimePoint now) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (flush_one(it->first, it->second, now)) {
      ++it;
    } else {
      it = streams_.erase(it);
    }
  }
}

bool StreamHub::usable(size_t i, const Stream& s) const {
  return !board_.value(i).is_null() && board_.confirmed(i) >= s.mark;
}

bool StreamHub::due(size_t i, const Stream& s) const {
  return usable(i, s) && (!s.has[i] || board_.version(i) > s.sent[i]);
}

bool StreamHub::flush_one(uint64_t id, Stream& s, TimePoint now) {
  const size_t unsent = sink_.unsent(id);
  if (unsent > kMaxUnsent) s.behind = true;
  if (s.behind && unsent > 0) return true;  // nothing more until it has taken what it has
  const size_t n = board_.keys().size();
  if (s.fresh) {
    size_t ready = 0;
    for (size_t i = 0; i < n; ++i) ready += usable(i, s) ? 1 : 0;
    const bool go = ready == n || (ready > 0 && now - s.opened >= kFirstWait);
    return go ? send_snapshot(id, s, now) : keep_alive(id, s, now);
  }
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += due(i, s) ? 1 : 0;
  if (s.behind || count > kSnapshotOver) return send_snapshot(id, s, now);
  if (count == 0) return keep_alive(id, s, now);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (!due(i, s)) continue;
    s.sent[i] = board_.version(i);
    s.has[i] = true;
    nlohmann::json data = board_.value(i);
    data["frontend"] = frontend_;
    const bool score = Key::parse(board_.keys()[i])->is_score();
    out += event_text(score ? "score" : "medals", Board::vector_text(s.sent), dump(data));
    ++events_;
  }
  s.last_write = now;
  return sink_.write(id, out);
}

bool StreamHub::keep_alive(uint64_t id, Stream& s, TimePoint now) {
  if (now - s.last_write < kKeepAlive) return true;
  s.last_write = now;
  return sink_.write(id, "event: ping\ndata: {\"frontend\":" + nlohmann::json(frontend_).dump() + "}\n\n");
}

bool StreamHub::send_snapshot(uint64_t id, Stream& s, TimePoint now) {
  const size_t n = board_.keys().size();
  nlohmann::json scores = nlohmann::json::array();
  nlohmann::json medals = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    // Only values current since the stream opened, and never back.
    if (!usable(i, s) || (s.has[i] && board_.version(i) < s.sent[i])) continue;
    s.sent[i] = board_.version(i);
    s.has[i] = true;
    (Key::parse(board_.keys()[i])->is_score() ? scores : medals).push_back(board_.value(i));
  }
  s.fresh = false;
  s.behind = false;
  s.last_write = now;
  ++snapshots_;
  const nlohmann::json data = {{"frontend", frontend_}, {"scores", std::move(scores)}, {"medals", std::move(medals)}};
  return sink_.write(id, event_text("snapshot", Board::vector_text(s.sent), dump(data)));
}

}  // namespace oly::api
