#!/usr/bin/env bash
# Gossip replication (replication: gossip; docs/gossip.md): a partition between the replicas under
# load, then the heal.
#
# The cluster runs config/gossip.yaml. From a third to two thirds of the run, the first replica
# (the one the front ends send updates and mastership to while it lives) exchanges no gossip with
# the two others, while the front ends still reach all three (OLY_DEBUG_GOSSIP_CUT, read by each
# replica at its start). Halfway through the cut the master front end is killed: the other takes
# over with a cold cache and reads the database, spreading its reads over the replicas. Those
# reads carry the newest clock the front end saw: the two replicas cut off wait, or say `partial`
# once the first one is silent, and the front end asks the first one. The old master comes back,
# the cut heals and the replicas converge. At the end the replicas' clocks, the front ends'
# partial answers, and the checker's verdict.
TABLETS=${TABLETS:-50} RATE=${RATE:-50} DURATION=${DURATION:-30}
source "$(dirname "$0")/lib.sh"
BASE_CONFIG="$SCENARIO_ROOT/config/gossip.yaml"
args=("$@")
# The cut's window, in ms after each replica starts (about when `up` begins).
DURATION_FOR_CUT="$DURATION"
for ((i = 0; i < ${#args[@]}; ++i)); do [[ "${args[i]}" == --duration ]] && DURATION_FOR_CUT="${args[i + 1]:-$DURATION}"; done
cut_from=$(awk -v d="$DURATION_FOR_CUT" 'BEGIN { printf "%d", d * 1000 / 3 }')
cut_for=$(awk -v d="$DURATION_FOR_CUT" 'BEGIN { printf "%d", d * 1000 / 3 }')
export OLY_DEBUG_GOSSIP_CUT="db1@${cut_from}+${cut_for}"
scenario_start "${SCENARIO:-gossip-partition}" "${args[@]}"
say "db1 will be cut off from the other replicas' gossip from $(frac 1/3) s to $(frac 2/3) s"

wait_steady
master="$(ol frontends --master)"
at "$(frac 5/12)"
say "kill -9 the master, $master, while db1 is cut off"
ol kill "$master" | sed 's/^/    /'
at "$(frac 7/12)"
for r in $(ol databases); do
  say "cut: $r $(ol stats "$r" | awk '/ applied_clock / { printf "%s %s %s  ", $1, $2, $3 } /^ *reads |^ *reads_partial |^ *reads_waited / { printf "%s %s  ", $1, $2 }')"
done
say "restart $master"
ol restart "$master" | sed 's/^/    /'
at "$(frac 2/3)"
say "healed"
wait_steady
at "$DURATION"
for r in $(ol databases); do
  say "$r: $(ol stats "$r" | awk '/ (clock|applied_clock) / { printf "%s %s %s  ", $1, $2, $3 }')"
done
for fe in $(ol frontends); do
  say "$fe: $(ol stats "$fe" | awk '/database_partial_reads / { printf "%s %s  ", $1, $2 }')"
done
scenario_finish
