#!/usr/bin/env bash
# Kill -9 a database follower under load, then restart it (a replicated tier: database.replicas).
#
# The leader keeps a majority (itself and the other follower): updates go on being acknowledged
# with no pause, and reads are not disturbed. The follower comes back at two thirds, rebuilds its
# state from its log and catches up.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start kill-db-follower "$@"

wait_steady
follower="$(ol databases --followers | head -n 1)"
[[ -n "$follower" ]] || die "no database follower (is database.replicas in the config?)"
at "$(frac 1/3)"
say "kill -9 a database follower, $follower (leader $(ol databases --leader 2>/dev/null || echo '?'))"
ol kill "$follower" | sed 's/^/    /'
at "$(frac 2/3)"
say "restart $follower"
ol restart "$follower" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
