#!/usr/bin/env bash
# make bench: measures sizes, cold start, runner overhead and DynamoDB work
# per profile read in one run (see local/cmd/bench). Starts the emulator when
# none is running. The functions' own logs go to .local/bench.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .local
local/emulator.sh run go run ./local/cmd/bench "$@" 2>.local/bench.log || {
	rc=$?
	echo "bench failed (exit $rc); last lines of .local/bench.log:" >&2
	tail -n 20 .local/bench.log >&2
	exit "$rc"
}
