#!/usr/bin/env bash
# Gossip replication (replication: gossip; docs/gossip.md): two replicas of three are killed under
# load, and the service goes on with the one left.
#
# The cluster runs config/gossip.yaml. At a quarter of the run kill -9 one replica, a little later
# another: the one left takes every update and every read (front ends skip the dead ones). At two
# thirds both come back, catch up by gossip and agree with the one that stayed. At the end the
# replicas' clocks, and the checker's verdict: nothing acknowledged lost, nothing applied twice,
# each publisher's updates in order, reads never older than an acknowledged update nor going
# backwards.
TABLETS=${TABLETS:-50} RATE=${RATE:-50} DURATION=${DURATION:-30}
source "$(dirname "$0")/lib.sh"
BASE_CONFIG="$SCENARIO_ROOT/config/gossip.yaml"
scenario_start "${SCENARIO:-one-replica-left}" "$@"

wait_steady
replicas=($(ol databases))
((${#replicas[@]} >= 3)) || die "expected three replicas, got: ${replicas[*]}"
left="${replicas[2]}"
at "$(frac 1/4)"
say "kill -9 ${replicas[0]}"
ol kill "${replicas[0]}" | sed 's/^/    /'
at "$(frac 1/3)"
say "kill -9 ${replicas[1]}: $left is the one left"
ol kill "${replicas[1]}" | sed 's/^/    /'
at "$(frac 1/2)"
say "$left alone: $(ol stats "$left" | awk '/^ *updates_applied |^ *reads / { printf "%s %s  ", $1, $2 }')"
at "$(frac 2/3)"
say "restart ${replicas[0]} and ${replicas[1]}"
ol restart "${replicas[0]}" | sed 's/^/    /'
ol restart "${replicas[1]}" | sed 's/^/    /'
wait_steady
at "$DURATION"
for r in "${replicas[@]}"; do
  say "$r: $(ol stats "$r" | awk '/ (clock|applied_clock) / { printf "%s %s %s  ", $1, $2, $3 }')"
done
scenario_finish
