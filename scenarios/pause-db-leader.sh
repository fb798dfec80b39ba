#!/usr/bin/env bash
# SIGSTOP the database leader past the election timeout, then SIGCONT it (database.replicas).
#
# A paused leader is not dead: when it wakes it still believes it leads. The others elect a new
# leader meanwhile; once continued, the old one learns of the newer term from the first message it
# handles and steps down. It must acknowledge nothing it had not committed before it was paused,
# and serve no read as leader: its rounds cannot commit without a majority.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start pause-db-leader "$@"

wait_steady
leader="$(ol databases --leader)" || die "no database leader (is database.replicas in the config?)"
at "$(frac 1/3)"
say "SIGSTOP the database leader, $leader"
ol kill "$leader" --signal STOP | sed 's/^/    /'
at "$(frac 1/2)"
say "SIGCONT $leader (now: leader $(ol databases --leader 2>/dev/null || echo '?'))"
ol kill "$leader" --signal CONT | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
