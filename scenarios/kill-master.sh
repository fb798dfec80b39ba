#!/usr/bin/env bash
# Kill -9 the master under load, then restart it.
#
# At a third of the run the master is killed with SIGKILL. The next front end must take over:
# acknowledge Cacofonix's updates (none lost, none applied twice) and serve the dead front end's
# tablets. At two thirds it is restarted, and must take back its tablets and the update stream.
# The checker then judges the whole run.
# (scale.sh runs this same story with other defaults, through the variables below.)
TABLETS=${TABLETS:-50} RATE=${RATE:-50} DURATION=${DURATION:-30}
source "$(dirname "$0")/lib.sh"
scenario_start "${SCENARIO:-kill-master}" "$@"

wait_steady "${STEADY_TIMEOUT_S:-20}"
master="$(ol frontends --master)"
at "$(frac 1/3)"
say "kill -9 the master, $master"
ol kill "$master" | sed 's/^/    /'
at "$(frac 2/3)"
say "restart $master"
ol restart "$master" | sed 's/^/    /'
wait_steady "${STEADY_TIMEOUT_S:-20}"
at "$DURATION"
scenario_finish
