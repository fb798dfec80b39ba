# Shared by the scenario scripts: flags, a cluster of its own on free ports, cleanup, the checker.
#
# A scenario script sources this file, calls `scenario_start NAME "$@"`, then breaks and mends the
# cluster with `ol kill fe1`, `ol restart fe1`, `at SECONDS` (wait until that many seconds since
# `up` began: the checker's zero too), ... and ends with `scenario_finish`, which stops the cluster and runs
# `olympics check` on the run directory. The script's exit status is the checker's: 0 when every
# guarantee held, 1 when one was broken, 2 when the run could not be judged.
#
# Flags every scenario takes (defaults set by the script before scenario_start):
#   --tablets N       logical tablets                                   (TABLETS)
#   --rate R          Cacofonix's updates per second                    (RATE)
#   --duration S      seconds of load; the failures are placed in it    (DURATION)
#   --push | --pull   consistency mode (also --consistency push|pull)   (MODE, default push)
#   --seed N          seed for the random choices of the script         (SEED)
#   --run-dir DIR     where everything goes (default run/scenarios/NAME-MODE-DATE-TIME)
#   --plot            also write the checker's PNG timeline (RUN_DIR/check.png)
#   --config FILE     the base config (default config/cluster.yaml); its ports are replaced
#                     by free ones, so scenarios can run side by side
#   -h, --help        the script's header and these flags
#
# Every process the scenario started is stopped when it ends, fails or is interrupted (Ctrl-C).
# Environment: OLY_BUILD_DIR (default build), the build whose bin/ has the binaries, or OLY_BIN,
# that bin directory itself.

set -euo pipefail

SCENARIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OLY_BIN="${OLY_BIN:-$SCENARIO_ROOT/${OLY_BUILD_DIR:-build}/bin}"
MODE="${MODE:-push}"
SEED="${SEED:-1}"
PLOT=""
RUN_DIR=""
BASE_CONFIG="$SCENARIO_ROOT/config/cluster.yaml"
CFG=""
T0=""
CLUSTER_UP=0
UP_FLAGS=()  # more flags for `olympics up` (traitor.sh: --traitor FE --strategy S)

usage() {
  # The script's own header comment (after the shebang), then the common flags.
  sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
  echo
  sed -n '/^# Flags every scenario takes/,/^# Environment/{/^# Environment/d;s/^# \{0,1\}//p}' \
    "$SCENARIO_ROOT/scenarios/lib.sh"
  echo "Defaults here: --tablets $TABLETS --rate $RATE --duration $DURATION --$MODE --seed $SEED"
}

die() {
  echo "scenario: $*" >&2
  exit 2
}

# The olympics tool on this scenario's config: ol <command> [args...]
ol() {
  local cmd="$1"
  shift
  "$OLY_BIN/olympics" "$cmd" --config "$CFG" "$@"
}

now_s() { date +%s.%N; }

# Seconds since `up` began (the checker's zero), e.g. 12.3
elapsed() { awk -v a="$(now_s)" -v b="$T0" 'BEGIN { printf "%.1f", a - b }'; }

# A line of the scenario's story, with the time since `up` began.
say() { printf '[%6ss] %s\n' "$(elapsed)" "$*"; }

# Sleeps until SECONDS (a number, fractions allowed) after `up` began.
at() {
  local left
  left="$(awk -v t="$1" -v a="$(now_s)" -v b="$T0" 'BEGIN { d = t - (a - b); printf "%.3f", (d > 0 ? d : 0) }')"
  sleep "$left"
}

# A fraction of the duration in seconds: frac 1/3 -> DURATION/3
frac() { awk -v d="$DURATION" -v f="$1" 'BEGIN { split(f, p, "/"); printf "%.2f", d * p[1] / p[2] }'; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((CLUSTER_UP)); then
    echo "scenario: stopping the cluster" >&2
    ol down >/dev/null 2>&1 || true
  fi
  exit "$status"
}

interrupted() {
  echo "scenario: interrupted" >&2
  exit 130
}

scenario_start() {
  SCENARIO_NAME="$1"
  shift
  while (($# > 0)); do
    case "$1" in
      --tablets) TABLETS="${2:?--tablets needs a number}"; shift 2 ;;
      --rate) RATE="${2:?--rate needs a number}"; shift 2 ;;
      --duration) DURATION="${2:?--duration needs seconds}"; shift 2 ;;
      --push) MODE=push; shift ;;
      --pull) MODE=pull; shift ;;
      --consistency) MODE="${2:?--consistency needs push or pull}"; shift 2 ;;
      --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
      --run-dir) RUN_DIR="${2:?--run-dir needs a directory}"; shift 2 ;;
      --plot) PLOT=--plot; shift ;;
      --config) BASE_CONFIG="${2:?--config needs a file}"; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown flag '$1' (see $0 --help)" ;;
    esac
  done
  [[ "$TABLETS" =~ ^[1-9][0-9]*$ ]] || die "--tablets must be a positive whole number, not '$TABLETS'"
  [[ "$RATE" =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' ||
    die "--rate must be a positive number, not '$RATE'"
  [[ "$DURATION" =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v d="$DURATION" 'BEGIN { exit !(d >= 6) }' ||
    die "--duration must be a number of seconds, at least 6, not '$DURATION'"
  [[ "$MODE" == push || "$MODE" == pull ]] || die "--consistency must be push or pull, not '$MODE'"
  [[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a whole number, not '$SEED'"
  [[ -x "$OLY_BIN/olympics" ]] || die "no $OLY_BIN/olympics: build first with 'bash scripts/setup'"
  [[ -f "$BASE_CONFIG" ]] || die "no config file $BASE_CONFIG"
  RANDOM="$SEED"

  if [[ -z "$RUN_DIR" ]]; then
    RUN_DIR="$SCENARIO_ROOT/run/scenarios/$SCENARIO_NAME-$MODE-$(date +%Y%m%d-%H%M%S)"
  fi
  mkdir -p "$RUN_DIR"
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
  if [[ -e "$RUN_DIR/acks.csv" || -e "$RUN_DIR/events.csv" ]]; then
    die "$RUN_DIR holds an earlier run; pick another --run-dir"
  fi
  CFG="$RUN_DIR/cluster.yaml"
  echo "$SCENARIO_NAME" >"$RUN_DIR/scenario.txt"  # the checker's plot is titled with it
  "$OLY_BIN/olympics" config --config "$BASE_CONFIG" --run-dir "$RUN_DIR" --free-ports \
    --consistency "$MODE" --tablets "$TABLETS" --rate "$RATE" --out "$CFG" ||
    die "cannot write the scenario's config"

  trap cleanup EXIT
  trap interrupted INT TERM
  echo "scenario $SCENARIO_NAME: $MODE, $TABLETS tablets, $RATE updates/s, ${DURATION} s, seed $SEED"
  echo "run directory $RUN_DIR"
  CLUSTER_UP=1
  # Times count from before `up`, as the checker's table and plot do (their zero is the first
  # node's start), so that "[ 10.0s] kill fe1" here is at 10.0 s there too.
  T0="$(now_s)"
  ol up --consistency "$MODE" --tablets "$TABLETS" --rate "$RATE" "${UP_FLAGS[@]}" | sed 's/^/  /'
  say "cluster up"
}

# Waits until the cluster is steady again (home master back, every front end serving), or says
# it is not after SECONDS (default 20) and goes on: the checker will judge.
wait_steady() {
  local timeout="${1:-20}"
  if ol wait --timeout "$timeout" 2>"$RUN_DIR/wait.err"; then
    say "steady: $(ol frontends --master 2>/dev/null || echo '?') is master, every front end serves"
  else
    say "NOT steady after ${timeout} s: $(cat "$RUN_DIR/wait.err")"
  fi
}

# Stops the cluster, judges the run and exits with the checker's status.
scenario_finish() {
  say "stopping the cluster"
  ol down >/dev/null
  CLUSTER_UP=0
  echo
  local status=0
  "$OLY_BIN/olympics" check "$RUN_DIR" $PLOT || status=$?
  exit "$status"
}
