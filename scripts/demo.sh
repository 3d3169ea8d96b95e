#!/usr/bin/env bash
# demo.sh [FLAGS]: what `make demo` does. Runs `xbsettle demo FLAGS` (a
# generated day of trade driven through the HTTP API, docs/demo.md) against
# the stack of `make run`:
#
#   - when `make run` is up (an API answers at XBS_HTTP_ADDR, default
#     127.0.0.1:8080, and the PostgreSQL of .data/pg runs), against it;
#   - otherwise it starts that stack exactly as `make run` does
#     (scripts/run.sh, in the background, its output in .data/demo-stack.log),
#     runs the demo, and stops the stack again.
#
# The demo makes its API keys in .data's database, which must be the API's.
# The report goes to stdout, the progress to stderr.
# shellcheck disable=SC2317  # trap handlers are called indirectly
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

data=$repo/.data
bin=$data/bin/xbsettle
log=$data/demo-stack.log
export XBS_HTTP_ADDR=${XBS_HTTP_ADDR:-127.0.0.1:8080}
# How long a stack started here may take: a fresh machine installs
# PostgreSQL and Redis first.
start_timeout=${XBS_DEMO_START_TIMEOUT:-600}

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi

# ready succeeds when an API answers GET /readyz with 200 at XBS_HTTP_ADDR.
ready() {
	local host=${XBS_HTTP_ADDR%:*} port=${XBS_HTTP_ADDR##*:}
	timeout 3 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" >&3
		IFS= read -r status <&3
		[[ $status == *" 200 "* ]]' _ "$host" "$port" 2>/dev/null
}

stack=''
cleanup() {
	local rc=$?
	trap '' INT TERM
	if [[ -n $stack ]] && pid_alive "$stack"; then
		xbs_log "stopping the stack this demo started"
		kill -TERM "$stack" 2>/dev/null || true
		if ! _wait_gone "$stack" $((XBS_STOP_TIMEOUT * 3)); then
			xbs_log "the stack did not stop; see $log"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ready && pg_running "$data/pg"; then
	xbs_log "using the stack of make run at $XBS_HTTP_ADDR"
	mkdir -p "$data/bin"
	go build -o "$bin" ./cmd/xbsettle
else
	if ready; then
		xbs_die "an API answers at $XBS_HTTP_ADDR but .data/pg is not running: it is not make run's; stop it or set XBS_HTTP_ADDR"
	fi
	mkdir -p "$data"
	xbs_log "starting the stack as make run does (log: $log)"
	# run.sh runs in a session of its own: Ctrl-C reaches the demo, and
	# cleanup stops the stack, run.sh stopping what it started.
	detach=()
	if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi
	(trap - INT QUIT TERM && exec "${detach[@]}" bash scripts/run.sh) </dev/null >"$log" 2>&1 &
	stack=$!
	deadline=$((SECONDS + start_timeout))
	until ready; do
		if ! pid_alive "$stack"; then
			tail -n 30 "$log" >&2
			xbs_die "the stack stopped before it was ready (log: $log)"
		fi
		((SECONDS < deadline)) || xbs_die "the stack was not ready after ${start_timeout}s (log: $log)"
		sleep 0.5
	done
fi

pgport=$(pg_port "$data/pg") || xbs_die "cannot read the port of the PostgreSQL running on .data/pg"
redisport=$(redis_port "$data/redis") || xbs_die "cannot read the port of the Redis of .data/redis"
xbs_dev_env "$data" "$pgport" "$redisport"
"$bin" demo "$@"
