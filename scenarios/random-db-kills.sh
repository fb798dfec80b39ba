#!/usr/bin/env bash
# Random kill -9 and SIGSTOP of database replicas, with front-end kills, for --duration (--seed).
#
# Every 2 to 4 s (random) one of these happens, chosen at random: a replica is killed with
# SIGKILL or paused with SIGSTOP (only when none is down or paused: never more than a minority of
# the three replicas at once), the impaired replica is restarted or continued, or a front end is
# killed (never the last one up) or restarted. The seed makes the sequence of choices repeatable.
# For the last fifth of the run everything is up again, so that the checker can judge recovery.
TABLETS=50 RATE=50 DURATION=60
source "$(dirname "$0")/lib.sh"
scenario_start random-db-kills "$@"

mapfile -t dbs < <(ol databases)
mapfile -t fes < <(ol frontends)
((${#dbs[@]} >= 3)) || die "random-db-kills needs a replicated tier of at least three replicas"
impaired=""  # the replica down or paused, if any
how=""       # kill or stop
fe_down=""
heal_db() {
  [[ -n "$impaired" ]] || return 0
  if [[ "$how" == stop ]]; then
    say "SIGCONT $impaired"
    ol kill "$impaired" --signal CONT | sed 's/^/    /'
  else
    say "restart $impaired"
    ol restart "$impaired" | sed 's/^/    /'
  fi
  impaired=""
}
wait_steady
stop_at="$(frac 4/5)"
while awk -v e="$(elapsed)" -v s="$stop_at" 'BEGIN { exit !(e + 4 < s) }'; do
  sleep "$((2 + (RANDOM >> 4) % 3))"
  case $(((RANDOM >> 4) % 4)) in
    0 | 1)
      if [[ -n "$impaired" ]]; then
        heal_db
      else
        impaired="${dbs[(RANDOM >> 4) % ${#dbs[@]}]}"
        role=""
        if [[ "$(ol databases --leader 2>/dev/null || true)" == "$impaired" ]]; then role=" (the leader)"; fi
        if (((RANDOM >> 4) % 2)); then
          how=kill
          say "kill -9 replica $impaired$role"
          ol kill "$impaired" | sed 's/^/    /'
        else
          how=stop
          say "SIGSTOP replica $impaired$role"
          ol kill "$impaired" --signal STOP | sed 's/^/    /'
        fi
      fi
      ;;
    2)
      heal_db
      ;;
    3)
      if [[ -n "$fe_down" ]]; then
        say "restart $fe_down"
        ol restart "$fe_down" | sed 's/^/    /'
        fe_down=""
      else
        fe_down="${fes[(RANDOM >> 4) % ${#fes[@]}]}"
        say "kill -9 $fe_down$([[ "$(ol frontends --master 2>/dev/null)" == "$fe_down" ]] && echo ' (the master)')"
        ol kill "$fe_down" | sed 's/^/    /'
      fi
      ;;
  esac
done
heal_db
if [[ -n "$fe_down" ]]; then
  say "restart $fe_down"
  ol restart "$fe_down" | sed 's/^/    /'
fi
wait_steady
at "$DURATION"
scenario_finish
