#!/usr/bin/env bash
# Both takeovers in one run: kill the master, restart it, then kill the other front end.
#
# At a fifth of the run the master (the first front end) is killed: the second takes over its
# duties. At two fifths it is restarted and takes them back (the handoff). At three fifths the
# other front end is killed: the first takes over its tablets. At four fifths that one is
# restarted and takes its tablets back.
TABLETS=50 RATE=50 DURATION=40
source "$(dirname "$0")/lib.sh"
scenario_start both-takeovers "$@"

wait_steady
first="$(ol frontends --master)"
second="$(ol frontends --peers | head -n 1)"
at "$(frac 1/5)"
say "kill -9 the master, $first: $second must take over"
ol kill "$first" | sed 's/^/    /'
at "$(frac 2/5)"
say "restart $first: it must take its duties back"
ol restart "$first" | sed 's/^/    /'
wait_steady
at "$(frac 3/5)"
say "kill -9 $second: $first must take over its tablets"
ol kill "$second" | sed 's/^/    /'
at "$(frac 4/5)"
say "restart $second"
ol restart "$second" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
