#!/usr/bin/env bash
# Kill -9 the database leader under load, then restart it (a replicated tier: database.replicas).
#
# At a third of the run the replica that leads is killed with SIGKILL. The others elect a new
# leader (within the election timeout, 0.2-0.4 s, plus a round trip); front ends follow it
# (not_leader names it) and Cacofonix's resends are deduplicated. Nothing acknowledged may be lost:
# an update is acknowledged only once a majority has it on disk. At two thirds the old leader
# comes back, rebuilds its state from its log and catches up as a follower.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start kill-db-leader "$@"

wait_steady
leader="$(ol databases --leader)" || die "no database leader (is database.replicas in the config?)"
at "$(frac 1/3)"
say "kill -9 the database leader, $leader"
ol kill "$leader" | sed 's/^/    /'
at "$(frac 2/3)"
say "restart $leader (now: leader $(ol databases --leader 2>/dev/null || echo '?'))"
ol restart "$leader" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
