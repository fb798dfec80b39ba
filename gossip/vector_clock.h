// A vector timestamp of the lazy (gossip) replication mode (issue 18; docs/gossip.md): for each
// replica, how many of the updates it accepted from front ends are covered. Replica r's k-th
// accepted update carries the timestamp r had once it accepted it (ts[r] == k), so "clock c
// covers update u of origin r" is c[r] >= u's number, and one clock covering another means every
// update the second has seen, the first has too (the Ladin-Liskov-Shrira-Ghemawat rule, as in the
// data-store specification).
//
// Entries at 0 are not kept, so two clocks that cover the same updates are equal.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace oly::gossip {

class VectorClock {
 public:
  VectorClock() = default;
  explicit VectorClock(std::map<std::string, uint64_t> entries);

  uint64_t at(const std::string& replica) const;
  void set(const std::string& replica, uint64_t n);
  // One more update accepted by `replica`: its new count.
  uint64_t tick(const std::string& replica);
  // Pointwise maximum.
  void merge(const VectorClock& other);
  // Whether this clock has seen everything `other` has (pointwise >=).
  bool covers(const VectorClock& other) const;

  enum class Order { kEqual, kBefore, kAfter, kConcurrent };
  // kBefore: a has seen less than b, and nothing b has not; kConcurrent: each has seen something
  // the other has not.
  static Order compare(const VectorClock& a, const VectorClock& b);

  const std::map<std::string, uint64_t>& entries() const { return v_; }
  // "db1:3 db2:5" ("" for the zero clock).
  std::string text() const;
  bool operator==(const VectorClock&) const = default;

 private:
  std::map<std::string, uint64_t> v_;
};

}  // namespace oly::gossip
