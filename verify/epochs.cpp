#include "verify/epochs.h"

#include <map>
#include <set>

#include "verify/wording.h"

namespace oly::verify {

namespace {

std::string at_us(TimePoint t) { return "t=" + std::to_string(to_us(t)) + "us"; }

}  // namespace

Verdict one_writer_per_epoch(const std::vector<EpochClaim>& claims,
                             const std::vector<EpochWrite>& writes) {
  Verdict v = verdict("one writer per epoch");
  size_t bad = 0;
  auto fail = [&](std::string what) {
    ++bad;
    example(v, std::move(what));
  };
  std::map<uint64_t, EpochClaim> by_epoch;
  uint64_t expected = 1;
  for (const auto& cl : claims) {
    if (cl.epoch != expected) {
      fail("epoch " + std::to_string(cl.epoch) + " granted to " + cl.frontend + " at " + at_us(cl.at) +
           "; expected epoch " + std::to_string(expected));
    }
    if (cl.from != cl.frontend) {
      fail("epoch " + std::to_string(cl.epoch) + " claimed for " + cl.frontend + " by " + cl.from);
    }
    expected = cl.epoch + 1;
    by_epoch[cl.epoch] = cl;
  }
  std::map<uint64_t, std::set<std::string>> writers;
  for (const auto& w : writes) {
    writers[w.epoch].insert(w.from);
    const auto it = by_epoch.find(w.epoch);
    const std::string what = "update " + w.publisher + "#" + std::to_string(w.seq) + " applied at epoch " +
                             std::to_string(w.epoch) + " from " + w.from + " at " + at_us(w.at);
    if (it == by_epoch.end()) {
      fail(what + ", an epoch nobody claimed");
      continue;
    }
    if (it->second.frontend != w.from) fail(what + ", but epoch " + std::to_string(w.epoch) + " is " + it->second.frontend + "'s");
    if (w.at < it->second.at) fail(what + ", before that epoch was granted");
    if (auto next = by_epoch.find(w.epoch + 1); next != by_epoch.end() && w.at > next->second.at) {
      fail(what + ", after epoch " + std::to_string(w.epoch + 1) + " was granted (fencing failed)");
    }
  }
  for (const auto& [epoch, who] : writers) {
    if (who.size() < 2) continue;
    std::string names;
    for (const auto& n : who) names += " " + n;
    fail("epoch " + std::to_string(epoch) + " was written by more than one front end:" + names);
  }
  if (claims.empty() && writes.empty()) {
    v.figures = "no epoch granted, nothing written";
    return v;
  }
  v.status = bad == 0 ? Status::kPass : Status::kFail;
  v.figures = plural(claims.size(), "epoch granted", "epochs granted") + ", " +
              plural(writes.size(), "update written", "updates written") + "; " +
              (bad == 0 ? std::string("one writer each, fenced in turn") : plural(bad, "violation", "violations"));
  return v;
}

}  // namespace oly::verify
