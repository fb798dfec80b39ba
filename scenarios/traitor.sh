#!/usr/bin/env bash
# Byzantine mode: one front end of four is a traitor (issue 19; docs/byzantine.md).
#
# The cluster runs config/byzantine.yaml (byzantine: true, four front ends, CurveZMQ) with the
# front end TRAITOR (default fe3) lying in everything it sends, by STRATEGY: flip (scores swapped,
# medals given to the other team, versions bumped), random, silent (nothing with a value, while
# it still heartbeats) or equivocate (each destination its own story). Cacofonix signs its
# updates and takes an ack only when two front ends vouch for it; the front ends agree on each
# update by OM(1); the database applies one only when two front ends submit it; tablets take a
# value only when two front ends vouch for it. Halfway, the master is killed and restarted, so
# that mastership moves while the traitor lies. At the end, what the loyal front ends saw of the
# lies, and the checker's verdict: nothing lost, nothing applied twice, every value applied the
# one Cacofonix sent, reads never older than an acknowledged update nor going backwards.
#
# Flags of this scenario (before the common ones): --traitor FE, --strategy S.
TABLETS=${TABLETS:-20} RATE=${RATE:-20} DURATION=${DURATION:-30}
TRAITOR=${TRAITOR:-fe3} STRATEGY=${STRATEGY:-flip}
args=()
while (($# > 0)); do
  case "$1" in
    --traitor) TRAITOR="${2:?--traitor needs a front end id}"; shift 2 ;;
    --strategy) STRATEGY="${2:?--strategy needs flip, random, silent or equivocate}"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
source "$(dirname "$0")/lib.sh"
BASE_CONFIG="$SCENARIO_ROOT/config/byzantine.yaml"
[[ "$STRATEGY" =~ ^(flip|random|silent|equivocate)$ ]] || die "--strategy must be flip, random, silent or equivocate, not '$STRATEGY'"
UP_FLAGS=(--traitor "$TRAITOR" --strategy "$STRATEGY")
scenario_start "${SCENARIO:-traitor}" "${args[@]}"
say "$TRAITOR lies by '$STRATEGY' in everything it sends"

wait_steady "${STEADY_TIMEOUT_S:-20}"
master="$(ol frontends --master)"
at "$(frac 1/3)"
say "kill -9 the master, $master"
ol kill "$master" | sed 's/^/    /'
at "$(frac 1/2)"
say "restart $master"
ol restart "$master" | sed 's/^/    /'
at "$DURATION"
# What the loyal front ends made of the traitor's words, and the tablets of their answers.
for fe in $(ol frontends); do
  [[ "$fe" == "$TRAITOR" ]] && continue
  say "$fe: $(ol stats "$fe" | awk '/agreement_(decided|decided_none|invalid_values) / { printf "%s %s  ", $1, $2 }')"
done
say "tablets: $(ol stats tablets | awk '/reads_(ok|failed|unvouched|vouched_after_disagreement) |vouch_asked_another / { printf "%s %s  ", $1, $2 }')"
scenario_finish
