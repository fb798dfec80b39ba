#!/usr/bin/env bash
# Kill -9 the database under load, then restart it.
#
# At a third of the run the database is killed with SIGKILL and stays down for a sixth of the run
# (at most 5 s). Front ends and Cacofonix must retry; nothing acknowledged may be lost (the
# database acknowledges only what it committed with synchronous=FULL), nothing applied twice.
# Cached reads go on only while the master's lease lasts (it cannot renew it without the
# database, and then no front end can prove its cache current); then reads fail until it is back.
TABLETS=50 RATE=50 DURATION=30
source "$(dirname "$0")/lib.sh"
scenario_start db-restart "$@"

db="$(awk '/^database:/ { f = 1 } f && /id:/ { gsub(/[",{}]/, ""); for (i = 1; i <= NF; i++) if ($i == "id:") { print $(i + 1); exit } }' "$CFG")"
wait_steady
at "$(frac 1/3)"
say "kill -9 the database ($db)"
ol kill "$db" | sed 's/^/    /'
at "$(awk -v a="$(frac 1/3)" -v b="$(frac 1/6)" 'BEGIN { print a + (b < 5 ? b : 5) }')"
say "restart the database"
ol restart "$db" | sed 's/^/    /'
wait_steady
at "$DURATION"
scenario_finish
