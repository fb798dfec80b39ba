#include "byzantine/quorum.h"

namespace oly::byzantine {

SubmissionQuorum::Outcome SubmissionQuorum::submit(const UpdateId& id, const std::string& frontend,
                                                   const std::string& value) {
  Tally& t = pending_[id];
  if (t.equivocators.count(frontend)) return {};
  const auto [it, fresh] = t.by_frontend.emplace(frontend, value);
  if (!fresh && it->second != value) {
    t.by_frontend.erase(it);
    t.equivocators.insert(frontend);
    return {};
  }
  Outcome out;
  for (const auto& [fe, v] : t.by_frontend) {
    if (v == value) out.voters.push_back(fe);
  }
  if (out.voters.size() < needed_) return {};
  out.apply = true;
  pending_.erase(id);
  return out;
}

}  // namespace oly::byzantine
