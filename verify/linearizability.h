// Linearizability of a read/write register, one key at a time: the judge of the key-value store's
// consistency (docs/kvstore.md, "Consistency"). A process test records, per key, the gets and sets
// its clients issued and what they answered, including the requests that got no answer (a
// timeout, a lost connection, a 503: they may or may not have taken effect), and asks whether
// some total order of the operations explains every answer and respects real time.
//
// The register: a set of v that returned old o is a read-modify-write (at its linearization
// point the value must be o, and becomes v); a get that returned r needs the value r. NIL (no
// value) is nullopt; a set always writes a value. A completed operation takes effect at one
// instant between its invocation and its completion. An operation that got no answer: a set may
// take effect at any instant after its invocation, or never, and its old value is unknown; a get
// constrains nothing (it is dropped). Two operations whose times are equal (one's completion, the
// other's invocation) count as concurrent: the checker never fails a history because of a tie.
//
// Algorithm: Wing & Gong's depth-first search with Lowe's memoization (the "WGL" algorithm of
// Knossos and Porcupine), over the operations' invocation and completion events in time order.
// See linearizability.cpp for the prunings and the cost. `budget` bounds the search's steps
// (operations tried plus backtracks); past it the result says `gave_up` and gives no verdict.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "verify/verdict.h"

namespace oly::verify {

// One operation of a history on one key, as a client saw it.
struct RegisterOp {
  int client = 0;            // who issued it (ops of one client do not overlap)
  int64_t invoked_us = 0;    // when the request was sent
  int64_t completed_us = 0;  // when the answer came; ignored when !completed
  bool completed = true;     // false: no answer (timeout, connection lost, 503 after
                             // sending): it may have taken effect at any time after
                             // invoked_us, or never
  bool is_set = false;
  std::optional<std::string> value;  // a set: the value written (always set). A get: the value
                                     // read, nullopt = no value (NIL)
  std::optional<std::string> old;    // a set that completed: the old value it returned
                                     // (nullopt = NIL)
};

// The verdict on one key's history.
struct LinearizabilityResult {
  bool linearizable = true;  // true only when a linearization was found (false when gave_up)
  bool gave_up = false;      // the search exceeded its budget: no verdict (report it, do not
                             // pass silently)
  std::string explanation;   // when not linearizable: a short account naming ops by client and
                             // times; when gave_up: how far the search got
  size_t ops = 0;            // ops in the history (all of them, answered or not)
  size_t steps = 0;          // search steps spent on the verdict (not on the explanation)
};

// Checks one key's history against a register whose initial value is `initial` (nullopt = no
// value). `ops` may come in any order. When the history is not linearizable, the explanation
// names the operation whose completion first makes it impossible (the shortest prefix of the
// history, in time order, that cannot be linearized) and the operations around it; finding it
// costs at most `budget` more steps.
// REQUIRES (else std::invalid_argument): a completed op does not complete before it is invoked;
// a set has a value.
LinearizabilityResult check_register(std::vector<RegisterOp> ops,
                                     std::optional<std::string> initial = std::nullopt,
                                     size_t budget = 10'000'000);

// check_register for each key, every key starting with no value.
std::map<std::string, LinearizabilityResult> check_registers(
    const std::map<std::string, std::vector<RegisterOp>>& histories, size_t budget = 10'000'000);

// "gets and sets linearizable": PASS when every key's history is linearizable, FAIL when one is
// not or its search gave up (no verdict is not a pass), n/a without any op. Examples name the key.
Verdict registers_linearizable(const std::map<std::string, LinearizabilityResult>& results);

// An op for people: `client 2 get -> "b" [1200us, 1300us]`, `client 1 set "c" (old "b") [...]`,
// `client 3 set "d", no answer [1000us, -]`. Long values are cut.
std::string describe_register_op(const RegisterOp& op);

}  // namespace oly::verify
