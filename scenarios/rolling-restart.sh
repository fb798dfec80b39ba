#!/usr/bin/env bash
# Restart every replica in turn under load (a replicated tier: database.replicas).
#
# One replica at a time is stopped with SIGTERM and started again, the leader last, as an operator
# upgrading the tier would. A follower's restart changes nothing. The leader, on SIGTERM, hands
# leadership to the most up-to-date follower before it exits, so its restart costs a hand-over
# (tens of milliseconds), not a failover; its log must say so. Before the next one, the restarted
# replica must be back in the tier and caught up. Nothing acknowledged may be lost.
TABLETS=50 RATE=50 DURATION=40
source "$(dirname "$0")/lib.sh"
scenario_start rolling-restart "$@"

wait_steady
leader="$(ol databases --leader)" || die "no database leader (is database.replicas in the config?)"
mapfile -t order < <(ol databases --followers)
order+=("$leader")
step=$(awk -v d="$DURATION" -v n="${#order[@]}" 'BEGIN { printf "%.2f", d * 0.7 / n }')
i=0
for r in "${order[@]}"; do
  at "$(awk -v s="$step" -v i="$i" -v d="$DURATION" 'BEGIN { printf "%.2f", d * 0.1 + s * i }')"
  say "restart $r$([[ "$r" == "$leader" ]] && echo ' (the leader)')"
  ol kill "$r" --signal TERM | sed 's/^/    /'
  if [[ "$r" == "$leader" ]]; then
    handed="$(grep -h "stopping after .* leads now" "$RUN_DIR/$r.log" | tail -1)" ||
      die "$r was leading but its log shows no hand-over before it stopped"
    say "  $r: ${handed#*] }"
  fi
  ol restart "$r" | sed 's/^/    /'
  # Back in the tier: a leader is ready again (after the leader's own restart, a new one), and
  # a second for the restarted replica to catch up.
  for _ in $(seq 100); do
    ol databases --leader >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep 1
  i=$((i + 1))
done
wait_steady
at "$DURATION"
scenario_finish
