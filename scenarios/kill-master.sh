#!/usr/bin/env bash
# Kill -9 the master under load, then restart it.
#
# At a third of the run the master is killed with SIGKILL. The next front end must take over:
# acknowledge Cacofonix's updates (none lost, none applied twice) and serve the dead front end's
# tablets. At two thirds it is restarted, and must take back its tablets and the update stream.
# The checker then judges the whole run.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start kill-master "$@"

wait_steady
master="$(ol frontends --master)"
at "$(frac 1/3)"
say "kill -9 the master, $master"
ol kill "$master" | sed 's/^/    /'
at "$(frac 2/3)"
say "restart $master"
ol restart "$master" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
