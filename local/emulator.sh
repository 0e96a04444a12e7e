#!/usr/bin/env bash
# Starts and stops the local AWS emulator on 127.0.0.1:4566: moto's server from
# the pinned venv, through local/emulator.py (moto's WSGI app with each
# DynamoDB request made atomic, as in the real service) when that file exists,
# else the plain .local/venv/bin/moto_server.
#
#   local/emulator.sh start        start moto unless something already answers
#   local/emulator.sh stop         stop the moto this script started (pid file)
#   local/emulator.sh status       exit 0 when something answers on the port
#   local/emulator.sh run CMD...   start if needed, run CMD, stop what was
#                                  started (also when CMD fails or is
#                                  interrupted); exits with CMD's status
#
# Only a process this script started is ever stopped: its pid is kept in
# .local/moto/emulator-<port>.pid. An emulator someone else runs on the port is used
# as it is and left alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
host="${EMULATOR_HOST:-127.0.0.1}"
port="${EMULATOR_PORT:-4566}"
wait_seconds="${EMULATOR_WAIT_SECONDS:-30}"
state_dir="$root/.local/moto"
pid_file="$state_dir/emulator-$port.pid"
log_file="$state_dir/emulator-$port.log"
moto="$root/.local/venv/bin/moto_server"
venv_python="$root/.local/venv/bin/python"
wrapper="$root/local/emulator.py"

log() { echo "emulator: $*" >&2; }

# answering: true when an HTTP server answers on host:port (any status code).
answering() {
	python3 - "$host" "$port" <<'PY' 2>/dev/null
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/moto-api/", timeout=1)
except urllib.error.HTTPError:
    pass
PY
}

start() {
	if answering; then
		log "something already answers on $host:$port; using it"
		return 0
	fi
	if [[ ! -x "$moto" ]]; then
		log "$moto is missing; run 'make venv' first"
		return 1
	fi
	mkdir -p "$state_dir"
	# setsid: the emulator gets its own process group, so Ctrl-C on `make test`
	# reaches it only through stop().
	local cmd=("$moto")
	[[ -f "$wrapper" ]] && cmd=("$venv_python" "$wrapper")
	setsid "${cmd[@]}" -H "$host" -p "$port" >"$log_file" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$pid_file"
	local deadline=$((SECONDS + wait_seconds))
	until answering; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "moto exited during start-up; last lines of $log_file:"
			tail -n 20 "$log_file" >&2 || true
			rm -f "$pid_file"
			return 1
		fi
		if ((SECONDS >= deadline)); then
			log "moto did not answer on $host:$port within ${wait_seconds}s"
			stop
			return 1
		fi
		sleep 0.2
	done
	log "moto started on $host:$port (pid $pid, log $log_file)"
}

stop() {
	[[ -f "$pid_file" ]] || return 0
	local pid
	pid="$(cat "$pid_file")"
	rm -f "$pid_file"
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { log "moto stopped (pid $pid)"; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	log "moto killed (pid $pid)"
}

run() {
	local started=0
	if ! answering; then
		start
		started=1
	else
		log "something already answers on $host:$port; using it"
	fi
	if ((started)); then
		trap stop EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	local rc=0
	"$@" || rc=$?
	return "$rc"
}

cmd="${1:-}"
shift || true
case "$cmd" in
start) start ;;
stop) stop ;;
status) answering ;;
run)
	if (($# == 0)); then
		log "usage: $0 run CMD [ARGS...]"
		exit 2
	fi
	run "$@"
	;;
*)
	echo "usage: $0 start|stop|status|run CMD [ARGS...]" >&2
	exit 2
	;;
esac
