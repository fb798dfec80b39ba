// ErrorCode: the stable reason of a failed request, and the one table of its names.
//
// An Error travels with `code` as the snake_case name from kErrorCodes (e.g. "not_master"); the
// codec encodes and decodes through error_code_name() and parse_error_code(), a frame naming a code
// not in the table is malformed, and docs/protocol.md section 4 lists every name (a unit test
// holds the docs to this table). Adding a code means: add the enumerator and its row here, and its
// row in the docs.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

namespace oly {

enum class ErrorCode : uint8_t {
  kMalformed,      // not a valid message
  kUnknownOp,      // op not known to the receiver
  kTooLarge,       // frame over the size limit
  kUnexpectedOp,   // valid op, wrong receiver
  kUnknownEvent,
  kUnknownTeam,
  kUnknownMedal,
  kBadValue,       // e.g. a negative score
  kNotMaster,
  kFenced,         // stale epoch
  kUnauthorised,   // wrong publisher token
  kSeqGap,         // seq > last + 1
  kStaleSeq,       // seq long past, result gone
  kUnavailable,    // a dependency did not answer
  kStorage,        // the database failed to commit
  kUnknownTablet,
  kLeaseHeld,      // another master's lease is live
  kNotLeader,      // a database replica that does not lead
  kStoreFull,      // the key-value store is at its size limit
};

struct ErrorCodeName {
  ErrorCode code;
  std::string_view name;
};

// Every code with its wire name, in enumerator order.
inline constexpr std::array kErrorCodes{
    ErrorCodeName{ErrorCode::kMalformed, "malformed"},
    ErrorCodeName{ErrorCode::kUnknownOp, "unknown_op"},
    ErrorCodeName{ErrorCode::kTooLarge, "too_large"},
    ErrorCodeName{ErrorCode::kUnexpectedOp, "unexpected_op"},
    ErrorCodeName{ErrorCode::kUnknownEvent, "unknown_event"},
    ErrorCodeName{ErrorCode::kUnknownTeam, "unknown_team"},
    ErrorCodeName{ErrorCode::kUnknownMedal, "unknown_medal"},
    ErrorCodeName{ErrorCode::kBadValue, "bad_value"},
    ErrorCodeName{ErrorCode::kNotMaster, "not_master"},
    ErrorCodeName{ErrorCode::kFenced, "fenced"},
    ErrorCodeName{ErrorCode::kUnauthorised, "unauthorised"},
    ErrorCodeName{ErrorCode::kSeqGap, "seq_gap"},
    ErrorCodeName{ErrorCode::kStaleSeq, "stale_seq"},
    ErrorCodeName{ErrorCode::kUnavailable, "unavailable"},
    ErrorCodeName{ErrorCode::kStorage, "storage_error"},
    ErrorCodeName{ErrorCode::kUnknownTablet, "unknown_tablet"},
    ErrorCodeName{ErrorCode::kLeaseHeld, "lease_held"},
    ErrorCodeName{ErrorCode::kNotLeader, "not_leader"},
    ErrorCodeName{ErrorCode::kStoreFull, "store_full"},
};

// The wire name of `c`, e.g. "not_master".
constexpr std::string_view error_code_name(ErrorCode c) { return kErrorCodes[static_cast<std::size_t>(c)].name; }

// The code named `name`, or nullopt when no code has that name.
constexpr std::optional<ErrorCode> parse_error_code(std::string_view name) {
  for (const auto& e : kErrorCodes) {
    if (e.name == name) return e.code;
  }
  return std::nullopt;
}

// Writes the wire name (for test output and logs).
inline std::ostream& operator<<(std::ostream& os, ErrorCode c) { return os << error_code_name(c); }

// The table lists the enumerators in order, so that error_code_name can index it.
static_assert([] {
  for (std::size_t i = 0; i < kErrorCodes.size(); ++i) {
    if (static_cast<std::size_t>(kErrorCodes[i].code) != i) return false;
  }
  return kErrorCodes.back().code == ErrorCode::kStoreFull;
}());

}  // namespace oly
