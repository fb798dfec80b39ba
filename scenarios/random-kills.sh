#!/usr/bin/env bash
# Repeated random kills and restarts of front ends for the given duration (--duration, --seed).
#
# Every 2 to 5 s (random) a front end is picked at random: if it is down it is restarted, else it
# is killed with SIGKILL, unless it is the last one up, in which case a down one is restarted
# instead. The seed makes the sequence of choices repeatable.
# For the last fifth of the run every front end is up again, so that the checker can judge the
# recovery.
TABLETS=50 RATE=50 DURATION=60
source "$(dirname "$0")/lib.sh"
scenario_start random-kills "$@"

mapfile -t fes < <(ol frontends)
declare -A down=()
wait_steady
stop_at="$(frac 4/5)"
while awk -v e="$(elapsed)" -v s="$stop_at" 'BEGIN { exit !(e + 5 < s) }'; do
  # (bash's RANDOM has weak low bits: use the higher ones)
  sleep "$((2 + (RANDOM >> 4) % 4))"
  fe="${fes[(RANDOM >> 4) % ${#fes[@]}]}"
  if [[ -z "${down[$fe]:-}" ]] && ((${#down[@]} + 1 >= ${#fes[@]})); then
    for fe in "${!down[@]}"; do break; done  # the last one up stays: restart a down one
  fi
  if [[ -n "${down[$fe]:-}" ]]; then
    say "restart $fe"
    ol restart "$fe" | sed 's/^/    /'
    unset "down[$fe]"
  else
    say "kill -9 $fe$([[ "$(ol frontends --master 2>/dev/null)" == "$fe" ]] && echo ' (the master)')"
    ol kill "$fe" | sed 's/^/    /'
    down[$fe]=1
  fi
done
for fe in "${!down[@]}"; do
  say "restart $fe"
  ol restart "$fe" | sed 's/^/    /'
done
wait_steady
at "$DURATION"
scenario_finish
