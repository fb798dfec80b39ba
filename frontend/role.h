// The role a front end plays, one at a time (FrontendCore's `role_`).
//
//   starting     until the database has told it who is master (it answers reads, forwards
//                nothing and claims nothing).
//   peer         it follows a master (or knows none): reads go through its cache under the
//                consistency protocol's rules; it claims mastership when the master is suspected,
//                silent about itself or unknown and it is the first living front end in config
//                order, or when the database names it master (an earlier incarnation).
//   claiming     a claim_master for epoch + 1 is in flight at the database.
//   master       it forwards updates to the database, answers peers' fetches and polls, grants
//                read leases, publishes the serving set, and serves its write-through cache under
//                its master lease.
//   handing_over the home master is back: it holds new updates, drains the ones in flight,
//                releases its lease and sends hand_over; it returns to master if that fails.
//
// Each role has its own step function in FrontendCore (the ops only some roles serve) and owns
// the state it resets on entry (become_peer, become_claiming, become_master,
// become_handing_over).
#pragma once

#include <string_view>

namespace oly {

enum class Role { kStarting, kPeer, kClaiming, kMaster, kHandingOver };

constexpr std::string_view to_string(Role r) {
  switch (r) {
    case Role::kStarting: return "starting";
    case Role::kPeer: return "peer";
    case Role::kClaiming: return "claiming";
    case Role::kMaster: return "master";
    case Role::kHandingOver: return "handing_over";
  }
  return "?";
}

}  // namespace oly
