#!/usr/bin/env bash
# Kill -9 a front end that is not the master, under load, then restart it.
#
# At a third of the run a non-master front end is killed with SIGKILL. The master must stop
# waiting for it (push: once its read lease ends) and its tablets must move to the survivors. At
# two thirds it is restarted and must take back about its share of the tablets.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start kill-nonmaster "$@"

wait_steady
peer="$(ol frontends --peers | head -n 1)"
at "$(frac 1/3)"
say "kill -9 $peer (not the master)"
ol kill "$peer" | sed 's/^/    /'
at "$(frac 2/3)"
say "restart $peer"
ol restart "$peer" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
