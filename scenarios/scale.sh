#!/usr/bin/env bash
# A scale run: 2,000 tablets and Cacofonix at 200 updates/s through a kill -9 of the master and
# its restart.
#
# The same story as kill-master.sh, ten times the load of the default cluster's clients.
SCENARIO=scale TABLETS=2000 RATE=200 DURATION=45 STEADY_TIMEOUT_S=30 \
  exec bash "$(dirname "$0")/kill-master.sh" "$@"
