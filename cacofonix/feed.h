// Where Cacofonix's updates come from: a seeded random generator or a scripted file.
//
// A feed yields bodies (SetScore or IncrementMedalTally) without publisher, seq or token; the
// publisher stamps those. Every update a feed yields names a configured event and a known team
// and medal, so the cluster never rejects one for its content.
//
// Scripted feed format, one update per line ('#' starts a comment, blank lines are skipped):
//   set_score <event> <gauls> <romans>       e.g.  set_score Ice Hockey 3 2
//   increment_medal_tally <team> <medal>     e.g.  increment_medal_tally Gauls gold
// The event is everything between the op and the two scores, so names may contain spaces.
//
// Thread-safety: none.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/message.h"

namespace oly {

class FeedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Feed {
 public:
  virtual ~Feed() = default;
  // The next update, or nullopt when the feed is exhausted.
  virtual std::optional<Body> next() = 0;
};

// A live-looking feed: scores mostly rise one point at a time; now and then an event ends, the
// leader gets gold and the other team silver (a tie: both bronze), and the event starts again.
class RandomFeed final : public Feed {
 public:
  RandomFeed(std::vector<std::string> events, uint64_t seed);
  std::optional<Body> next() override;

 private:
  struct Game {
    int64_t gauls = 0;
    int64_t romans = 0;
  };
  std::vector<std::string> events_;
  std::map<std::string, Game> games_;
  std::mt19937_64 rng_;
  std::deque<Body> queued_;
};

// Replays updates parsed from a file's text.
class ScriptFeed final : public Feed {
 public:
  // Throws FeedError "<source>:<line>: <what>" for a malformed line, an unknown event, team or
  // medal, or a negative score.
  ScriptFeed(const std::string& text, const std::string& source, const std::vector<std::string>& events);
  std::optional<Body> next() override;
  size_t size() const { return updates_.size(); }

 private:
  std::vector<Body> updates_;
  size_t next_ = 0;
};

// Reads `path` and builds a ScriptFeed; throws FeedError when the file cannot be read.
std::unique_ptr<Feed> load_script_feed(const std::string& path, const std::vector<std::string>& events);

}  // namespace oly
