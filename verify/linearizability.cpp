#include "verify/linearizability.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "verify/wording.h"

// How the search goes (Wing & Gong, with Lowe's memoization; as in Knossos and Porcupine):
// the ops' events sit in a list in time order; from a configuration (the ops linearized so far,
// the register's value), any op invoked before the earliest completion still in the list may go
// next if the register allows it; depth first, undoing on backtrack. A configuration reached
// before is not explored again (the memo). On top of that, none of which changes a verdict (the
// unit test checks every verdict against the definition, by brute force, on small histories):
//  - a get that can go next goes next, without trying the alternatives (it changes nothing);
//  - unanswered gets are dropped, and so are unanswered sets that no answered op could have
//    seen, or that no op left to linearize could still see;
//  - unanswered sets of one value are interchangeable once invoked: tried in invocation order;
//  - a history with an answer no set ever wrote fails without a search.
//
// Cost: each step (an op tried, or a backtrack) costs the few ops that may go next plus a memo
// key of a few words (the linearized ops' bits are kept as "all below word lo" + the words up to
// the last one set), so a history that is linearizable with a handful of concurrent clients takes
// a few steps per op: about 1.5 for 4 clients (3,000 ops: a few milliseconds). What can
// blow up is a history that is not linearizable, where every configuration before the failure is
// explored, and many unanswered sets, each of which may take effect at any later point: then the
// budget stops it. The memo takes about 20 bytes a step (~200 MB at the default budget).
namespace oly::verify {

// Named, not anonymous at the top: verify is a unity build, and its other files have their own
// helpers in anonymous namespaces.
namespace wgl {
namespace {

constexpr int32_t kNil = 0;   // no value; values written get 1, 2, 3, ...
constexpr int32_t kAny = -1;  // the old value of a set that got no answer: unknown
constexpr size_t kNone = std::numeric_limits<size_t>::max();

// The caller's history with its values interned, and its events in time order: invocations
// before completions at equal times, so that a tie counts as concurrent.
struct History {
  std::vector<RegisterOp> ops;
  std::vector<int32_t> value;  // per op: what a set wrote or a get read
  std::vector<int32_t> old;    // per op: what a completed set returned
  int32_t initial = kNil;
  int32_t values = 0;  // the largest id given
  struct Event {
    size_t op;
    bool call;
  };
  std::vector<Event> events;
  std::vector<size_t> call_at;    // per op: its invocation's index in `events`
  std::vector<size_t> return_at;  // per op: its completion's index, kNone without an answer
};

History make_history(std::vector<RegisterOp> ops, const std::optional<std::string>& initial) {
  History h;
  h.ops = std::move(ops);
  std::map<std::string, int32_t> ids;
  auto id = [&](const std::optional<std::string>& v) -> int32_t {
    if (!v) return kNil;
    auto [it, added] = ids.emplace(*v, h.values + 1);
    if (added) ++h.values;
    return it->second;
  };
  h.initial = id(initial);
  struct Stamp {
    int64_t t;
    int kind;  // 0 invocation, 1 completion
    size_t op;
  };
  std::vector<Stamp> stamps;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    const RegisterOp& op = h.ops[i];
    h.value.push_back(id(op.value));
    h.old.push_back(op.is_set && op.completed ? id(op.old) : kAny);
    stamps.push_back({op.invoked_us, 0, i});
    if (op.completed) stamps.push_back({op.completed_us, 1, i});
  }
  std::sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
    return std::tie(a.t, a.kind, a.op) < std::tie(b.t, b.kind, b.op);
  });
  h.call_at.assign(h.ops.size(), kNone);
  h.return_at.assign(h.ops.size(), kNone);
  for (const Stamp& s : stamps) {
    (s.kind == 0 ? h.call_at : h.return_at)[s.op] = h.events.size();
    h.events.push_back({s.op, s.kind == 0});
  }
  return h;
}

// What the search works on: the history cut after its first `cut` events (ops whose answer
// comes later are unanswered), without what cannot matter: unanswered gets, and unanswered sets
// of a value that no answered op observed (taking effect or not changes no answer: only
// unanswered sets could see the value before the next set replaces it).
struct Problem {
  struct Op {
    size_t source;  // index in History::ops
    bool is_set;
    int32_t value;
    int32_t old;  // kAny: unconstrained
    bool completed;
    size_t bit;   // completed: index among completed ops (in invocation order); else among
                  // unanswered ones
    size_t twin;  // unanswered: the last unanswered set of the same value invoked before it
  };
  std::vector<Op> ops;
  std::vector<std::pair<size_t, bool>> events;  // (index in ops, is an invocation)
  int32_t initial = kNil;
  int32_t values = 0;
  size_t completed = 0;
  size_t pending = 0;
};

Problem make_problem(const History& h, size_t cut) {
  Problem p;
  p.initial = h.initial;
  p.values = h.values;
  auto answered = [&](size_t i) { return h.return_at[i] != kNone && h.return_at[i] < cut; };
  std::vector<char> observed(static_cast<size_t>(h.values) + 1, 0);
  for (size_t e = 0; e < cut; ++e) {
    const size_t i = h.events[e].op;
    if (h.events[e].call || !answered(i)) continue;
    observed[static_cast<size_t>(h.ops[i].is_set ? h.old[i] : h.value[i])] = 1;
  }
  std::vector<size_t> index(h.ops.size(), kNone);
  std::vector<size_t> last_lost(static_cast<size_t>(h.values) + 1, kNone);
  for (size_t e = 0; e < cut; ++e) {
    const size_t i = h.events[e].op;
    if (!h.events[e].call) {
      if (index[i] != kNone) p.events.emplace_back(index[i], false);
      continue;
    }
    const bool done = answered(i);
    const bool is_set = h.ops[i].is_set;
    if (!done && (!is_set || !observed[static_cast<size_t>(h.value[i])])) continue;
    index[i] = p.ops.size();
    size_t twin = kNone;
    if (!done) {
      size_t& last = last_lost[static_cast<size_t>(h.value[i])];
      twin = last;
      last = p.ops.size();
    }
    p.ops.push_back({i, is_set, h.value[i], done ? h.old[i] : kAny, done,
                     done ? p.completed++ : p.pending++, twin});
    p.events.emplace_back(index[i], true);
  }
  return p;
}

// Configurations already explored (which ops are linearized, and the register's value), each a
// short run of words: kept in one arena, found through an open-addressing table of hashes.
class Memo {
 public:
  // Adds `key`; false when it was there already.
  bool insert(const std::vector<uint64_t>& key) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash(key);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.at == 0) {
        s.hash = h;
        s.at = arena_.size() + 1;
        arena_.push_back(key.size());
        arena_.insert(arena_.end(), key.begin(), key.end());
        ++count_;
        return true;
      }
      if (s.hash == h && arena_[s.at - 1] == key.size() &&
          std::equal(key.begin(), key.end(), arena_.begin() + static_cast<ptrdiff_t>(s.at))) {
        return false;
      }
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    size_t at = 0;  // 1 + the offset of the key's length in arena_; 0: empty
  };

  static uint64_t mix(uint64_t x) {  // splitmix64's finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  static uint64_t hash(const std::vector<uint64_t>& key) {
    uint64_t h = key.size();
    for (uint64_t w : key) h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    return h;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.at == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].at != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_ = std::vector<Slot>(1024);
  std::vector<uint64_t> arena_;
  size_t count_ = 0;
};

enum class Outcome { kLinearizable, kNotLinearizable, kGaveUp };

// The search. The events left form a circular doubly linked list with a sentinel (head_);
// linearizing an op lifts its events out of the list, backtracking puts them back in the reverse
// order, so the links come back exactly. The ops that may be linearized next are the
// invocations before the first completion left.
class Search {
 public:
  explicit Search(const Problem& p) : p_(p) {
    const size_t n = p.events.size();
    head_ = n;
    next_.resize(n + 1);
    prev_.resize(n + 1);
    for (size_t e = 0; e <= n; ++e) {
      next_[e] = (e + 1) % (n + 1);
      prev_[e] = (e + n) % (n + 1);
    }
    call_.assign(p.ops.size(), kNone);
    return_.assign(p.ops.size(), kNone);
    for (size_t e = 0; e < n; ++e) (p.events[e].second ? call_ : return_)[p.events[e].first] = e;
    done_.assign((p.completed + 63) / 64, 0);
    pending_.assign((p.pending + 63) / 64, 0);
    watchers_.assign(static_cast<size_t>(p.values) + 1, 0);
    for (const Problem::Op& op : p.ops) {
      if (op.completed) ++watchers_[watched(op)];
    }
  }

  Outcome run(size_t budget) {
    struct Frame {
      size_t op;
      int32_t state;  // the register's value before the op
      bool forced;    // a get taken without trying the alternatives
    };
    std::vector<Frame> stack;
    int32_t state = p_.initial;
    size_t cur = kNone;  // where the sets' pass resumes; kNone: a fresh configuration
    while (true) {
      if (ordered_ == p_.completed) return Outcome::kLinearizable;
      bool moved = false;
      bool dead = false;
      if (cur == kNone) {
        // A get that can take effect now may as well: it changes nothing, and any order of the
        // rest that works after it later works after it here (every op left completes after
        // the get's invocation). So take it, and let its failure be this configuration's.
        for (size_t e = next_[head_]; e != head_ && is_call(e); e = next_[e]) {
          const Problem::Op& op = op_at(e);
          if (op.is_set) continue;
          if (++steps_ > budget) return Outcome::kGaveUp;
          if (op.value != state) continue;
          if (!enter(op, state)) {
            dead = true;
            break;
          }
          stack.push_back({p_.events[e].first, state, true});
          lift(p_.events[e].first);
          moved = true;
          break;
        }
        cur = next_[head_];
      }
      if (!moved && !dead) {
        for (size_t e = cur; e != head_ && is_call(e); e = next_[e]) {
          const Problem::Op& op = op_at(e);
          if (!op.is_set) continue;
          // An unanswered set of a value that no op left will see can only be in the way.
          if (!op.completed && watchers_[static_cast<size_t>(op.value)] == 0) continue;
          // Unanswered sets of one value invoked by now are interchangeable: take them in
          // invocation order only.
          if (!op.completed && op.twin != kNone && !linearized(p_.ops[op.twin])) continue;
          if (++steps_ > budget) return Outcome::kGaveUp;
          if (op.old != kAny && op.old != state) continue;
          if (!enter(op, op.value)) continue;
          stack.push_back({p_.events[e].first, state, false});
          lift(p_.events[e].first);
          state = op.value;
          moved = true;
          break;
        }
      }
      if (moved) {
        best_ = std::max(best_, ordered_);
        cur = kNone;
        continue;
      }
      while (true) {  // backtrack to the last choice left open
        if (stack.empty()) return Outcome::kNotLinearizable;
        if (++steps_ > budget) return Outcome::kGaveUp;
        const Frame f = stack.back();
        stack.pop_back();
        unlift(f.op);
        leave(p_.ops[f.op]);
        state = f.state;
        if (!f.forced) {
          cur = next_[call_[f.op]];
          break;
        }
      }
    }
  }

  size_t steps() const { return steps_; }
  size_t best() const { return best_; }  // the most completed ops ever ordered at once

 private:
  bool is_call(size_t e) const { return p_.events[e].second; }
  bool linearized(const Problem::Op& op) const {
    const auto& bits = op.completed ? done_ : pending_;
    return (bits[op.bit / 64] >> (op.bit % 64)) & 1;
  }
  // The value an answered op saw: the one its get read, or its set replaced.
  static size_t watched(const Problem::Op& op) {
    return static_cast<size_t>(op.is_set ? op.old : op.value);
  }
  const Problem::Op& op_at(size_t e) const { return p_.ops[p_.events[e].first]; }

  void remove(size_t e) {
    next_[prev_[e]] = next_[e];
    prev_[next_[e]] = prev_[e];
  }
  void restore(size_t e) {
    next_[prev_[e]] = e;
    prev_[next_[e]] = e;
  }
  void lift(size_t op) {
    remove(call_[op]);
    if (return_[op] != kNone) remove(return_[op]);
  }
  void unlift(size_t op) {
    if (return_[op] != kNone) restore(return_[op]);
    restore(call_[op]);
  }

  // Marks `op` linearized with the register then holding `state`; false (and unmarked) when
  // that configuration was explored already.
  bool enter(const Problem::Op& op, int32_t state) {
    mark(op);
    key_.clear();
    key_.push_back(static_cast<uint64_t>(static_cast<uint32_t>(state)));
    key_.push_back(lo_);
    for (size_t w = lo_; w < hi_; ++w) key_.push_back(done_[w]);
    key_.insert(key_.end(), pending_.begin(), pending_.end());
    if (memo_.insert(key_)) return true;
    leave(op);
    return false;
  }

  // The completed ops' bits are kept short in the key: words below lo_ are all ones (every op
  // of theirs linearized), words from hi_ on are zero; ops are linearized about in invocation
  // order, so the key is a few words whatever the history's length.
  void mark(const Problem::Op& op) {
    if (!op.completed) {
      pending_[op.bit / 64] |= uint64_t{1} << (op.bit % 64);
      return;
    }
    ++ordered_;
    --watchers_[watched(op)];
    const size_t w = op.bit / 64;
    done_[w] |= uint64_t{1} << (op.bit % 64);
    hi_ = std::max(hi_, w + 1);
    while (lo_ < done_.size() && done_[lo_] == ~uint64_t{0}) ++lo_;
  }
  void leave(const Problem::Op& op) {
    if (!op.completed) {
      pending_[op.bit / 64] &= ~(uint64_t{1} << (op.bit % 64));
      return;
    }
    --ordered_;
    ++watchers_[watched(op)];
    const size_t w = op.bit / 64;
    done_[w] &= ~(uint64_t{1} << (op.bit % 64));
    lo_ = std::min(lo_, w);
    while (hi_ > 0 && done_[hi_ - 1] == 0) --hi_;
  }

  const Problem& p_;
  size_t head_ = 0;
  std::vector<size_t> next_, prev_;
  std::vector<size_t> call_, return_;  // per op: its events
  std::vector<uint64_t> done_;         // completed ops linearized, by Problem::Op::bit
  std::vector<uint64_t> pending_;      // unanswered sets linearized
  std::vector<size_t> watchers_;       // per value: answered ops left that saw it
  size_t lo_ = 0, hi_ = 0;
  size_t ordered_ = 0;  // completed ops linearized
  size_t best_ = 0;
  size_t steps_ = 0;
  std::vector<uint64_t> key_;
  Memo memo_;
};

std::string text(const std::optional<std::string>& v) {
  if (!v) return "NIL";
  constexpr size_t kCut = 32;
  if (v->size() <= kCut) return "\"" + *v + "\"";
  size_t n = kCut;
  while (n > 0 && (static_cast<unsigned char>((*v)[n]) & 0xC0) == 0x80) --n;  // whole UTF-8
  return "\"" + v->substr(0, n) + "...\"";
}

// An answer that no order could give: a value (or NIL) that no set wrote and the register did
// not start with. "" when there is none.
std::string never_written(const History& h) {
  std::vector<char> written(static_cast<size_t>(h.values) + 1, 0);
  written[static_cast<size_t>(h.initial)] = 1;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    if (h.ops[i].is_set) written[static_cast<size_t>(h.value[i])] = 1;
  }
  for (size_t e = 0; e < h.events.size(); ++e) {  // in time order: the first such answer
    const size_t i = h.events[e].op;
    if (h.events[e].call) continue;
    const RegisterOp& op = h.ops[i];
    const int32_t seen = op.is_set ? h.old[i] : h.value[i];
    if (written[static_cast<size_t>(seen)]) continue;
    const std::string what = op.is_set ? "returned the old value " : "read ";
    if (seen == kNil) {
      return describe_register_op(op) + " " + what +
             "NIL, but the register starts with a value and a set never removes one";
    }
    return describe_register_op(op) + " " + what + text(op.is_set ? op.old : op.value) +
           ", which no set wrote and the register did not start with";
  }
  return "";
}

// The ops around `x`, whose answer no order of the ops invoked by then (the first `cut` events)
// explains: the sets of the value it saw, the last ops answered before it was sent, the ops
// overlapping it (the nearest), and the latest unanswered sets sent before its answer.
std::string around(const History& h, size_t x, size_t cut) {
  constexpr size_t kWriters = 2, kBefore = 2, kOverlap = 6, kLost = 2;
  const RegisterOp& op = h.ops[x];
  const int32_t seen = op.is_set ? h.old[x] : h.value[x];
  std::vector<size_t> writers, before, overlap, lost;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    if (i == x || h.call_at[i] >= cut) continue;
    const RegisterOp& o = h.ops[i];
    if (o.is_set && h.value[i] == seen) {
      writers.push_back(i);
    } else if (!o.completed) {
      if (o.is_set) lost.push_back(i);  // an unanswered get constrains nothing
    } else if (o.completed_us < op.invoked_us) {
      before.push_back(i);
    } else {
      overlap.push_back(i);
    }
  }
  auto by_call = [&](size_t a, size_t b) { return h.call_at[a] < h.call_at[b]; };
  enum class Pick { kLastInvoked, kLastAnswered, kNearest };
  // Keeps `n` of `v`, shown in invocation order, with how many more there were.
  auto list = [&](std::vector<size_t> v, size_t n, Pick pick, bool count_more) {
    auto distance = [&](size_t i) {  // from x's invocation
      const int64_t d = h.ops[i].invoked_us - op.invoked_us;
      return d < 0 ? -d : d;
    };
    std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) {
      switch (pick) {
        case Pick::kLastInvoked:
          return h.call_at[a] > h.call_at[b];
        case Pick::kLastAnswered:
          return h.return_at[a] > h.return_at[b];
        case Pick::kNearest:
          return distance(a) < distance(b);
      }
      return false;
    });
    const size_t more = v.size() > n ? v.size() - n : 0;
    v.resize(std::min(v.size(), n));
    std::sort(v.begin(), v.end(), by_call);
    std::string s;
    for (size_t i : v) s += (s.empty() ? "" : "; ") + describe_register_op(h.ops[i]);
    if (count_more && more > 0) s += "; and " + std::to_string(more) + " more";
    return s;
  };
  std::string s;
  auto section = [&](const std::string& title, const std::string& ops) {
    if (!ops.empty()) s += (s.empty() ? "" : ". ") + title + ": " + ops;
  };
  const std::string value = seen == kNil ? "NIL" : "its value";
  if (writers.empty()) {
    s = seen == h.initial ? "It saw the initial value" : "No set of " + value + " was sent by then";
  } else {
    section("Sets of " + value, list(writers, kWriters, Pick::kLastInvoked, true));
  }
  section("Last answered before it was sent", list(before, kBefore, Pick::kLastAnswered, false));
  section("Overlapping it", list(overlap, kOverlap, Pick::kNearest, true));
  section("Unanswered sets sent before its answer", list(lost, kLost, Pick::kLastInvoked, true));
  return s;
}

// The shortest prefix of `h` (in events) that cannot be linearized, found by bisection
// (linearizable prefixes are closed under shortening), spending at most `budget` steps.
std::string explain(const History& h, const std::optional<std::string>& initial, size_t budget) {
  size_t good = 0, bad = h.events.size();
  size_t left = budget;
  while (bad - good > 1) {
    const size_t mid = good + (bad - good) / 2;
    const Problem p = make_problem(h, mid);
    Search s(p);
    const Outcome o = s.run(left);
    left -= std::min(left, s.steps());
    if (o == Outcome::kGaveUp) return "";
    (o == Outcome::kLinearizable ? good : bad) = mid;
  }
  const size_t x = h.events[bad - 1].op;  // a completion: an invocation never breaks an order
  size_t ops = 0;
  for (size_t i = 0; i < h.ops.size(); ++i) ops += h.call_at[i] < bad ? 1 : 0;
  return "no order of the " + plural(ops, "op", "ops") +
         " invoked by then explains the answer to " + describe_register_op(h.ops[x]) +
         " (the register starting at " + text(initial) +
         "; before that answer the history can be ordered). " + around(h, x, bad);
}

}  // namespace
}  // namespace wgl

std::string describe_register_op(const RegisterOp& op) {
  std::string s = "client " + std::to_string(op.client);
  if (op.is_set) {
    s += " set " + wgl::text(op.value);
    if (op.completed) s += " (old " + wgl::text(op.old) + ")";
  } else {
    s += " get";
    if (op.completed) s += " -> " + wgl::text(op.value);
  }
  if (!op.completed) s += ", no answer";
  s += " [" + std::to_string(op.invoked_us) + "us, " +
       (op.completed ? std::to_string(op.completed_us) + "us" : std::string("-")) + "]";
  return s;
}

LinearizabilityResult check_register(std::vector<RegisterOp> ops,
                                     std::optional<std::string> initial, size_t budget) {
  for (size_t i = 0; i < ops.size(); ++i) {
    const RegisterOp& op = ops[i];
    if (op.completed && op.completed_us < op.invoked_us) {
      throw std::invalid_argument("op " + std::to_string(i) + " (" + describe_register_op(op) +
                                  ") completed before it was invoked");
    }
    if (op.is_set && !op.value) {
      throw std::invalid_argument("op " + std::to_string(i) + " (" + describe_register_op(op) +
                                  ") is a set without a value");
    }
  }
  LinearizabilityResult r;
  r.ops = ops.size();
  const wgl::History h = wgl::make_history(std::move(ops), initial);
  if (std::string bad = wgl::never_written(h); !bad.empty()) {
    r.linearizable = false;
    r.explanation = std::move(bad);
    return r;
  }
  const wgl::Problem whole = wgl::make_problem(h, h.events.size());
  wgl::Search search(whole);
  const wgl::Outcome o = search.run(budget);
  r.steps = search.steps();
  if (o == wgl::Outcome::kLinearizable) return r;
  r.linearizable = false;
  if (o == wgl::Outcome::kGaveUp) {
    r.gave_up = true;
    r.explanation = "gave up after " + plural(budget, "step", "steps") +
                    " without a verdict; the longest order found covers " +
                    std::to_string(search.best()) + " of " +
                    plural(whole.completed, "answered op", "answered ops");
    return r;
  }
  r.explanation = wgl::explain(h, initial, budget);
  if (r.explanation.empty()) {
    r.explanation = "no order of the " + plural(whole.completed, "answered op", "answered ops") +
                    " exists (the longest covers " + std::to_string(search.best()) +
                    "; the shortest failing prefix was not found within the budget)";
  }
  return r;
}

std::map<std::string, LinearizabilityResult> check_registers(
    const std::map<std::string, std::vector<RegisterOp>>& histories, size_t budget) {
  std::map<std::string, LinearizabilityResult> out;
  for (const auto& [key, ops] : histories) out[key] = check_register(ops, std::nullopt, budget);
  return out;
}

Verdict registers_linearizable(const std::map<std::string, LinearizabilityResult>& results) {
  Verdict v = verdict("gets and sets linearizable");
  size_t ops = 0, bad = 0, gave_up = 0;
  for (const auto& [key, r] : results) {
    ops += r.ops;
    if (r.gave_up) {
      ++gave_up;
      example(v, "key " + key + ": no verdict: " + r.explanation);
    } else if (!r.linearizable) {
      ++bad;
      example(v, "key " + key + ": " + r.explanation);
    }
  }
  v.figures = plural(results.size(), "key", "keys") + ", " + plural(ops, "op", "ops") + "; " +
              std::to_string(bad) + " not linearizable, " + std::to_string(gave_up) +
              " without a verdict (search budget exceeded)";
  v.status = ops == 0 ? Status::kNotJudged : bad + gave_up > 0 ? Status::kFail : Status::kPass;
  return v;
}

}  // namespace oly::verify
