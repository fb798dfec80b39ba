// The traitor injector (docs/byzantine.md, "The traitor injector"): a Transport around a front
// end's own that corrupts what that front end sends, so that the simulator, the process tests and
// `scenarios/traitor.sh` can make any front end the traitor with any strategy.
//
// Only what the traitor sends is touched (what it receives is as sent), and only frames that carry
// a value: updates (set_score, increment_medal_tally), their acks, reads' answers (score,
// medal_tally, scoreboard) and values between front ends (value, and the agreement's propose and
// relay, whose update is corrupted inside them). Heartbeats, requests without a value and notices pass as they are, so the
// traitor keeps looking alive: a traitor that stops heartbeating is only a crashed front end.
//
//   flip        scores swapped (gauls <-> romans), a medal given to the other team, versions +1
//   random      every number replaced by a random one, every team by a random one
//   silent      every frame with a value dropped (heartbeats still go out)
//   equivocate  each destination gets its own story: the truth, a flipped frame, or nothing,
//               chosen by the destination's name and the frame (the same destination is told
//               the same lie about the same frame)
//
// Not yet covered: what a front end sends outside its transport (the tablets' TCP port answers
// cache hits on the spot, tabletnet/server.h).
//
// Corruptions keep frames well formed (they decode), since a malformed frame is easy to refuse:
// the point is a lie that looks like the truth. Counted in corrupted() and dropped().
//
// Thread-safety: as the inner transport (one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "common/message.h"
#include "common/transport.h"

namespace oly::byzantine {

enum class Strategy { kFlip, kRandom, kSilent, kEquivocate };
std::string_view strategy_name(Strategy s);
// "flip", "random", "silent" or "equivocate"; nullopt for anything else.
std::optional<Strategy> parse_strategy(std::string_view name);

// Whether `body` carries a value a traitor would lie about.
bool carries_value(const Body& body);
// `body` with the lie `s` tells (flip or random; the others are decided per frame by the caller).
void corrupt(Body& body, Strategy s, std::mt19937_64& rng);
// The same for a message carried as a frame inside another (an agreement's update).
void corrupt_frame(Bytes& frame, Strategy s, std::mt19937_64& rng);

class TraitorTransport final : public Transport {
 public:
  TraitorTransport(Transport& inner, Strategy strategy, uint64_t seed);

  const std::string& name() const override { return inner_.name(); }
  void send(const std::string& to, std::string frame) override;
  void connect(const std::string& n, const std::string& address) override { inner_.connect(n, address); }
  void publish(const std::string& topic, std::string frame) override;
  void subscribe(const std::string& publisher, const std::string& prefix) override { inner_.subscribe(publisher, prefix); }
  std::optional<Incoming> receive() override { return inner_.receive(); }

  uint64_t corrupted() const { return corrupted_; }
  uint64_t dropped() const { return dropped_; }

 private:
  // The frame the traitor sends to `to` instead of `frame`; nullopt to send nothing.
  std::optional<std::string> lie(const std::string& to, std::string frame);

  Transport& inner_;
  Strategy strategy_;
  std::mt19937_64 rng_;
  uint64_t corrupted_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace oly::byzantine
