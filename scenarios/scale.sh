#!/usr/bin/env bash
# A scale run: 2,000 tablets and Cacofonix at 200 updates/s through a kill -9 of the master and
# its restart.
#
# The same story as kill-master.sh, ten times the load of the default cluster's clients.
TABLETS=2000 RATE=200 DURATION=45
source "$(dirname "$0")/lib.sh"
scenario_start scale "$@"

wait_steady 30
master="$(ol frontends --master)"
at "$(frac 1/3)"
say "kill -9 the master, $master"
ol kill "$master" | sed 's/^/    /'
at "$(frac 2/3)"
say "restart $master"
ol restart "$master" | sed 's/^/    /'
wait_steady 30
at "$DURATION"
scenario_finish
