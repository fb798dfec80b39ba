#!/usr/bin/env bash
# Kill -9 the whole database tier under load, then restart it.
#
# At a third of the run every database node (the single database, or every replica) is killed
# with SIGKILL and stays down for a sixth of the run (at most 5 s). Front ends and Cacofonix must
# retry; nothing acknowledged may be lost (an update is acknowledged only once it is on disk: on
# the single database's, or on a majority of the replicas'), nothing applied twice. Cached reads
# go on only while the master's lease lasts (it cannot renew it without the database, and then no
# front end can prove its cache current); then reads fail until the tier is back.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start db-restart "$@"

mapfile -t dbs < <(ol databases)
wait_steady
at "$(frac 1/3)"
for db in "${dbs[@]}"; do
  say "kill -9 the database node $db"
  ol kill "$db" | sed 's/^/    /'
done
at "$(awk -v a="$(frac 1/3)" -v b="$(frac 1/6)" 'BEGIN { print a + (b < 5 ? b : 5) }')"
for db in "${dbs[@]}"; do
  say "restart $db"
  ol restart "$db" | sed 's/^/    /'
done
wait_steady
at "$DURATION"
scenario_finish
