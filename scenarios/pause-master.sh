#!/usr/bin/env bash
# SIGSTOP the master for longer than the heartbeat timeout, then SIGCONT it.
#
# A paused master is not dead: when it wakes it still believes it is master. It must have been
# fenced: the other front end takes over once the paused master's lease has run out, and after
# SIGCONT the old master must not serve stale reads or acknowledge writes. It rejoins and, being
# the home master, gets its duties back by the ordered handoff.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start pause-master "$@"

wait_steady
master="$(ol frontends --master)"
at "$(frac 1/3)"
say "SIGSTOP the master, $master"
ol kill "$master" --signal STOP | sed 's/^/    /'
at "$(frac 1/2)"
say "SIGCONT $master"
ol kill "$master" --signal CONT | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
