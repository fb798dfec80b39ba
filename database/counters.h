// The counters the database cores report in stats: one table for both kinds of core, so that
// the single database and a replica name the same thing alike.
//
// Thread-safety: constants and a pure function.
#pragma once

#include "database/state_machine.h"

namespace oly::database {

// The counter each outcome of apply adds to (home_kept and invalid add to none; store_full counts
// as an error).
inline const char* counter_of(Outcome outcome) {
  switch (outcome) {
    case Outcome::applied: return "updates_applied";
    case Outcome::duplicate: return "duplicates";
    case Outcome::fenced: return "fenced";
    case Outcome::stale_seq: return "stale_seqs";
    case Outcome::seq_gap: return "seq_gaps";
    case Outcome::claimed: return "claims";
    case Outcome::claim_fenced: return "claims_rejected";
    case Outcome::lease_held: return "claims_lease_held";
    case Outcome::home_assigned: return "homes_assigned";
    case Outcome::kv_set: return "kv_sets";
    default: return nullptr;
  }
}

// Every counter both cores report, present from the start so that stats always lists them.
inline constexpr const char* kCoreCounters[] = {
    "reads",         "updates_applied", "duplicates", "fenced",         "seq_gaps",         "stale_seqs",
    "claims",        "claims_rejected", "claims_lease_held", "renewals", "releases",        "renewals_fenced",
    "registrations", "homes_assigned",  "batches",    "stats",          "errors",           "unexpected_ops",
    "ignored"};

// The single database's own.
inline constexpr const char* kSingleCounters[] = {"storage_errors"};

// A replica's own: Raft, membership and the key-value store.
inline constexpr const char* kReplicaCounters[] = {
    "barriers",       "rounds_failed", "not_leader",      "local_reads",            "raft_rpcs",
    "raft_rpcs_refused", "snapshots",  "joins_asked",     "raft_parts_sent",        "leader_connection_lost",
    "kv_sets",        "kv_gets",       "kv_forwarded",    "kv_forward_timeouts"};

}  // namespace oly::database
