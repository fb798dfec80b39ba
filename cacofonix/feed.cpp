#include "cacofonix/feed.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/config.h"
#include "common/utf8.h"

namespace oly {

RandomFeed::RandomFeed(std::vector<std::string> events, uint64_t seed) : events_(std::move(events)), rng_(seed) {}

std::optional<Body> RandomFeed::next() {
  if (!queued_.empty()) {
    Body b = std::move(queued_.front());
    queued_.pop_front();
    return b;
  }
  const auto& event = events_[std::uniform_int_distribution<size_t>(0, events_.size() - 1)(rng_)];
  Game& g = games_[event];
  std::uniform_real_distribution<double> u(0, 1);
  const bool can_end = g.gauls + g.romans >= 3;
  if (can_end && u(rng_) < 0.08) {
    // The event ends: medals, then a fresh 0-0 for its next round.
    if (g.gauls == g.romans) {
      queued_.push_back(IncrementMedalTally{"Gauls", "bronze", "", 0, {}, {}, {}});
      queued_.push_back(IncrementMedalTally{"Romans", "bronze", "", 0, {}, {}, {}});
    } else {
      const bool gauls_win = g.gauls > g.romans;
      queued_.push_back(IncrementMedalTally{gauls_win ? "Gauls" : "Romans", "gold", "", 0, {}, {}, {}});
      queued_.push_back(IncrementMedalTally{gauls_win ? "Romans" : "Gauls", "silver", "", 0, {}, {}, {}});
    }
    g = Game{};
    queued_.push_back(SetScore{event, 0, 0, "", 0, {}, {}, {}});
    return next();
  }
  const double r = u(rng_);
  if (r < 0.03 && g.gauls + g.romans > 0) {
    // A correction by the judges: a point taken back.
    (g.gauls > 0 ? g.gauls : g.romans) -= 1;
  } else if (r < 0.5) {
    g.gauls += 1;
  } else {
    g.romans += 1;
  }
  return SetScore{event, g.gauls, g.romans, "", 0, {}, {}, {}};
}

namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool parse_count(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
  out = std::stoll(s);
  return true;
}
}  // namespace

ScriptFeed::ScriptFeed(const std::string& text, const std::string& source, const std::vector<std::string>& events) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    auto fail = [&](const std::string& what) { throw FeedError(source + ":" + std::to_string(n) + ": " + what); };
    // Nothing below quotes a line that is not text.
    if (!valid_utf8(line)) fail("not valid UTF-8 (the line is not shown)");
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w[0] == "set_score") {
      if (w.size() < 4) fail("expected: set_score <event> <gauls> <romans>");
      int64_t gauls = 0, romans = 0;
      if (!parse_count(w[w.size() - 2], gauls) || !parse_count(w[w.size() - 1], romans)) {
        fail("scores must be whole numbers of 0 or more, got '" + w[w.size() - 2] + "' and '" + w.back() + "'");
      }
      std::string event = w[1];
      for (size_t i = 2; i + 2 < w.size(); ++i) event += " " + w[i];
      if (std::find(events.begin(), events.end(), event) == events.end()) fail("unknown event '" + event + "'");
      updates_.push_back(SetScore{event, gauls, romans, "", 0, {}, {}, {}});
    } else if (w[0] == "increment_medal_tally") {
      if (w.size() != 3) fail("expected: increment_medal_tally <team> <medal>");
      if (std::find(teams().begin(), teams().end(), w[1]) == teams().end()) fail("unknown team '" + w[1] + "'");
      if (std::find(medals().begin(), medals().end(), w[2]) == medals().end()) {
        fail("unknown medal '" + w[2] + "' (expected gold, silver or bronze)");
      }
      updates_.push_back(IncrementMedalTally{w[1], w[2], "", 0, {}, {}, {}});
    } else {
      fail("unknown op '" + w[0] + "' (expected set_score or increment_medal_tally)");
    }
  }
}

std::optional<Body> ScriptFeed::next() {
  if (next_ >= updates_.size()) return std::nullopt;
  return updates_[next_++];
}

std::unique_ptr<Feed> load_script_feed(const std::string& path, const std::vector<std::string>& events) {
  std::ifstream in(path);
  if (!in) throw FeedError(path + ": cannot read the feed file");
  std::stringstream ss;
  ss << in.rdbuf();
  return std::make_unique<ScriptFeed>(ss.str(), path, events);
}

}  // namespace oly
