#!/usr/bin/env bash
# make bench: measures sizes, cold start, runner overhead and DynamoDB work
# per profile read in one run (see local/cmd/bench). Starts the emulator when
# none is running. The functions' own logs go to .local/bench.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .local
# Its own emulator on its own port, empty: the numbers do not depend on what
# make dev or the tests left in the shared one.
export EMULATOR_PORT="${BENCH_EMULATOR_PORT:-4599}"
local/emulator.sh run go run ./local/cmd/bench -emulator "127.0.0.1:$EMULATOR_PORT" "$@" 2>.local/bench.log || {
	rc=$?
	echo "bench failed (exit $rc); last lines of .local/bench.log:" >&2
	tail -n 20 .local/bench.log >&2
	exit "$rc"
}
