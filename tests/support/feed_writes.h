// The play-by-play a gossip replica keeps in its file (gossip_feed: its last 1,000 updates), read
// back for the tests of gossip's concurrent writers (docs/gossip.md, "Concurrent writers"): each
// event's greatest set_score by (written_at_us, publisher, seq), the write every replica's score
// must end with. Header-only: the simulation and the process tests both use it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "common/codec.h"
#include "common/message.h"
#include "database/sqlite_store.h"

namespace oly::testing {

struct FeedWrites {
  std::map<std::string, FeedItem> last;  // event -> its greatest set_score
  std::set<std::string> publishers;      // the publishers (incarnations) of the set_scores
  size_t items = 0;                      // every item, set_score or not
  size_t undecodable = 0;                // stored items that did not decode
};

inline FeedWrites feed_writes(database::SqliteStore& store) {
  const auto rank = [](const FeedItem& i) { return std::tuple(i.written_at_us.value_or(0), i.publisher, i.seq); };
  FeedWrites w;
  for (const auto& blob : store.feed_items()) {
    const Decoded d = decode(blob);
    if (!d.ok || !d.message.is<FeedReply>()) {
      ++w.undecodable;
      continue;
    }
    for (const auto& i : d.message.as<FeedReply>().items) {
      ++w.items;
      if (i.op != SetScore::kOp) continue;
      w.publishers.insert(i.publisher);
      auto [it, fresh] = w.last.emplace(i.key.substr(std::string("score/").size()), i);
      if (!fresh && rank(it->second) < rank(i)) it->second = i;
    }
  }
  return w;
}

}  // namespace oly::testing
