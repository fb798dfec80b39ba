// StreamHub: the server-sent event streams of /api/stream (docs/api.md, "Events").
//
// Each stream remembers the version vector it has sent (board.h) and the board's mark when it
// opened. flush() sends every stream what the board has that it has not: one event per key
// ("score" or "medals", the key's value as in /api/scores and /api/medals, with "frontend"), each
// event's id the stream's vector after it. Two rules make a stream as safe as a tablet's reads:
//   - it is sent a key only once the board has confirmed that key's value at or after the
//     stream's mark (Board::confirmed: a read started after the stream opened, or a value the
//     cache took since): never a value older than an update acknowledged before it opened;
//   - it never goes back: a key is sent only at a version above what the stream has (so a client
//     that resumes on a front end that is behind waits for it to catch up).
// One snapshot event (every key confirmed for the stream and at least as new as what it has, as
// /api/scoreboard's "scores" and "medals") is sent instead:
//   - to a new stream (no or an unknown Last-Event-ID), once every key is confirmed for it or
//     kFirstWait has passed with at least one;
//   - when more than kSnapshotOver keys are due at once (a client resuming from long ago);
//   - to a client that fell behind: one with more than kMaxUnsent bytes not yet taken by its
//     socket gets nothing more until it has taken them all, and then one snapshot. So a slow
//     client costs at most kMaxUnsent plus one snapshot, never an ever-growing buffer.
// A stream that has been sent nothing for kKeepAlive gets a "ping" event (a client that hears
// nothing for much longer knows its connection is dead), which also finds clients that went away
// (the sink then says so, and the stream is dropped).
//
// Thread-safety: none (the front end's loop).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/board.h"
#include "common/clock.h"

namespace oly::api {

// Where a stream's bytes go: the HTTP server in a front end, a recorder in tests.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Appends to stream `id`; false when it is gone.
  virtual bool write(uint64_t id, std::string_view bytes) = 0;
  // Bytes of stream `id` not yet taken by its socket.
  virtual size_t unsent(uint64_t id) const = 0;
};

class StreamHub {
 public:
  static constexpr size_t kMaxUnsent = 64 * 1024;
  static constexpr size_t kSnapshotOver = 8;
  static constexpr Duration kFirstWait = ms(1000);
  static constexpr Duration kKeepAlive = ms(15000);

  // `frontend`: this front end's id, named in every event.
  StreamHub(const Board& board, StreamSink& sink, std::string frontend);

  // Stream `id` starts (its HTTP head is sent already) at the board's mark `mark` (a new one:
  // Board::new_mark). `last_event_id`: the client's, if any; a vector the board cannot parse
  // counts as none.
  void open(uint64_t id, const std::optional<std::string>& last_event_id, uint64_t mark, TimePoint now);
  // Sends every stream what it lacks (see above); drops the streams that are gone.
  void flush(TimePoint now);
  size_t size() const { return streams_.size(); }
  uint64_t events_sent() const { return events_; }
  uint64_t snapshots_sent() const { return snapshots_; }

  // One event in the text/event-stream format: "id: ...\nevent: ...\ndata: ...\n\n".
  static std::string event_text(std::string_view event, const std::string& id, const std::string& data);

 private:
  struct Stream {
    Versions sent;          // per key, the version the client has ...
    std::vector<bool> has;  // ... if it has one
    uint64_t mark = 0;      // the board's mark when it opened
    TimePoint opened;
    TimePoint last_write;
    bool fresh = false;     // no snapshot sent yet to a client that came without a usable id
    bool behind = false;
  };
  // Key i may go to stream s (confirmed since it opened), and should (newer than what it has).
  bool usable(size_t i, const Stream& s) const;
  bool due(size_t i, const Stream& s) const;
  // false when the stream is gone.
  bool flush_one(uint64_t id, Stream& s, TimePoint now);
  bool send_snapshot(uint64_t id, Stream& s, TimePoint now);
  // A comment line if the stream has been sent nothing for kKeepAlive.
  bool keep_alive(uint64_t id, Stream& s, TimePoint now);

  const Board& board_;
  StreamSink& sink_;
  std::string frontend_;
  std::map<uint64_t, Stream> streams_;
  uint64_t events_ = 0, snapshots_ = 0;
};

}  // namespace oly::api
