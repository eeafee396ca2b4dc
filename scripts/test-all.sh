#!/usr/bin/env bash
# `make test`: every suite CI runs, in three lanes at once (the machine has two cores and the
# suites wait on control planes and ansible-playbook processes much of the time):
#
#   checks       make lint, make sanity, make unit        (no control plane)
#   integration  make integration                         (pytest workers, one control plane each)
#   molecule     make molecule                            (its own control plane)
#
# Each lane writes its log to $TEST_LOG_DIR/<lane>.log (default out/test-logs); a status line
# every $TEST_STATUS_EVERY seconds (default 60) says what each lane is doing. At the end: each
# lane's result and time, the tail of every log, and the whole log of a lane that failed.
# Every lane runs to its end even when another fails, so one run shows every failure.
#
#   scripts/test-all.sh                  all three lanes
#   scripts/test-all.sh checks molecule  only the named ones
set -uo pipefail
# job control: each lane runs in its own process group, so that stopping a lane reaches its
# make, pytest and molecule processes (and a lane's pytest gets SIGINT, not SIGINT ignored)
set -m

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_DIR="${TEST_LOG_DIR:-$ROOT/out/test-logs}"
EVERY="${TEST_STATUS_EVERY:-60}"
MAKE="${MAKE:-make}"
mkdir -p "$LOG_DIR"

declare -A LANE_TARGETS=(
  [checks]="lint sanity unit"
  [integration]="integration"
  [molecule]="molecule"
)
if [[ $# -gt 0 ]]; then lanes=("$@"); else lanes=(integration molecule checks); fi
for lane in "${lanes[@]}"; do
  [[ -n "${LANE_TARGETS[$lane]:-}" ]] || { echo "test-all.sh: no lane '$lane' (checks, integration, molecule)" >&2; exit 2; }
done

stamp() { printf '[test %s] ' "$(date -u +%H:%M:%S)"; }
run_lane() {
  local lane="$1" target
  for target in ${LANE_TARGETS[$lane]}; do
    echo "=== make $target ($(date -u +%H:%M:%S))"
    "$MAKE" --no-print-directory "$target" || { echo "=== make $target FAILED"; return 1; }
  done
}

declare -A PIDS=() STARTED=() RESULT=() TOOK=()
start=$SECONDS
for lane in "${lanes[@]}"; do
  run_lane "$lane" >"$LOG_DIR/$lane.log" 2>&1 &
  PIDS[$lane]=$!
  STARTED[$lane]=$SECONDS
  stamp; echo "$lane: started (make ${LANE_TARGETS[$lane]// /, make }), log $LOG_DIR/$lane.log"
done
# Ctrl-C or a TERM: every lane gets SIGINT (pytest then stops the control planes it started,
# molecule's run-all.sh its own); a lane still running a minute later gets SIGTERM (a shell that
# started this script in the background may have left SIGINT ignored, which no trap undoes).
stop_lanes() {
  local lane deadline=$((SECONDS + 60))
  for lane in "${!PIDS[@]}"; do
    [[ -n "${RESULT[$lane]:-}" ]] || kill -INT -- "-${PIDS[$lane]}" 2>/dev/null
  done
  while (( SECONDS < deadline )) && [[ -n "$(jobs -pr)" ]]; do sleep 1; done
  for lane in "${!PIDS[@]}"; do
    [[ -n "${RESULT[$lane]:-}" ]] || kill -TERM -- "-${PIDS[$lane]}" 2>/dev/null
  done
  wait
}
trap 'stop_lanes; exit 130' INT TERM
# and never leave a lane running behind this script, whatever ends it
trap 'stop_lanes' EXIT

last_status=$SECONDS
while [[ ${#RESULT[@]} -lt ${#lanes[@]} ]]; do
  sleep 2
  for lane in "${lanes[@]}"; do
    [[ -n "${RESULT[$lane]:-}" ]] && continue
    kill -0 "${PIDS[$lane]}" 2>/dev/null && continue
    wait "${PIDS[$lane]}"; rc=$?
    TOOK[$lane]=$((SECONDS - STARTED[$lane]))
    if [[ $rc -eq 0 ]]; then RESULT[$lane]=passed; else RESULT[$lane]="FAILED (exit $rc)"; fi
    stamp; echo "$lane: ${RESULT[$lane]} after ${TOOK[$lane]} s"
  done
  if (( SECONDS - last_status >= EVERY )); then
    last_status=$SECONDS
    for lane in "${lanes[@]}"; do
      [[ -n "${RESULT[$lane]:-}" ]] && continue
      step="$(grep -a '^=== ' "$LOG_DIR/$lane.log" | tail -1)"
      stamp; echo "$lane: running $((SECONDS - STARTED[$lane])) s; ${step#=== }"
    done
  fi
done

echo
failed=0
for lane in "${lanes[@]}"; do
  echo "----- $lane: ${RESULT[$lane]} in ${TOOK[$lane]} s (last lines of $LOG_DIR/$lane.log)"
  if [[ "${RESULT[$lane]}" == passed ]]; then
    tail -n 5 "$LOG_DIR/$lane.log"
  else
    failed=1
    cat "$LOG_DIR/$lane.log"
  fi
done
echo
echo "make test: wall $((SECONDS - start)) s; $(for l in "${lanes[@]}"; do printf '%s %s (%s s)  ' "$l" "${RESULT[$l]}" "${TOOK[$l]}"; done)"
exit $failed
