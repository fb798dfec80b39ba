#!/usr/bin/env bash
# Add a fourth replica under load, then kill -9 the old leader (a replicated tier: database.replicas).
#
# At a fifth of the run `olympics db add db4` starts a new replica on a free port that knows only
# the address of one running replica: it is sent to the leader, added as a non-voter, catches up
# (installing a snapshot when the log it needs was compacted) and is promoted to voter. At two
# fifths the leader is killed: with four voters a majority is three, so the two old followers
# cannot commit anything without the newcomer, and every update acknowledged from then on is on
# its disk. At three fifths the old leader comes back as a follower, leaving the last two fifths
# for the checker to judge the recovery (its period begins a settle and a detection after).
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start add-replica "$@"

wait_steady
at "$(frac 1/5)"
say "add replica db4, joining through a running replica"
ol db add db4 | sed 's/^/    /'
at "$(frac 2/5)"
leader="$(ol databases --leader)" || die "no database leader"
say "kill -9 the database leader, $leader (four voters: no majority without db4)"
ol kill "$leader" | sed 's/^/    /'
at "$(frac 3/5)"
say "restart $leader (now: leader $(ol db members 2>/dev/null | awk '$4 == "leader" { print $1 }'))"
ol restart "$leader" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
