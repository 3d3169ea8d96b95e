#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2119  # trap handlers are called indirectly
# with-stack.sh [--durable] -- CMD [ARGS...]
#
# Starts a throwaway PostgreSQL and Redis on free local ports, runs CMD with
#   XBS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   XBS_TEST_REDIS_ADDR=127.0.0.1:PORT
#   XBS_ENV=development (a test that wants production sets it)
# and then stops both servers and deletes their files, whatever happens.
# It exits with CMD's exit status. --durable keeps fsync/synchronous_commit on
# (for benchmarks); by default they are off, which is what tests want.
#
# Several runs can go at once: each has its own directories and ports.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

usage() {
	sed -n '3,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

pg_mode=''
while (($#)); do
	case $1 in
	--durable) pg_mode=durable ;;
	--) shift && break ;;
	-h | --help) usage ;;
	*) break ;;
	esac
	shift
done
(($#)) || usage

ensure_packages

stack_dir=''
child=''
signals=0
cleanup() {
	local rc=$?
	trap '' INT TERM
	set +e
	if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
		# We are exiting before CMD did (e.g. set -e): take its group down.
		kill -KILL -- "-$child" 2>/dev/null || kill -KILL "$child" 2>/dev/null
	fi
	if [[ -n $stack_dir ]]; then
		stop_postgres "$stack_dir/pg" immediate
		stop_redis "$stack_dir/redis"
		rm -rf -- "$stack_dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stack_dir=$(mktemp -d "${TMPDIR:-/tmp}/xbsettle-stack.XXXXXX")
# The postgres user (when we are root) must be able to enter it.
chmod 755 "$stack_dir"

# A port can be taken between free_port and the server binding it (another
# run picked the same one): retry with a new port, a bounded number of times.
start_with_retry() {
	local what=$1 dir=$2 mode=$3 log attempt port
	log=$dir/server.log
	[[ $what == redis ]] && log=$dir/redis.log
	for attempt in 1 2 3 4 5; do
		port=$(free_port) || return
		if "start_$what" "$dir" "$port" ${mode:+"$mode"} >&2; then
			printf '%s\n' "$port"
			return 0
		fi
		# Only a port clash is worth another try.
		grep -qi 'address already in use' "$log" 2>/dev/null || return 1
		xbs_log "port $port was taken before $what could bind it (attempt $attempt); trying another"
	done
	return 1
}

pg_port=$(start_with_retry postgres "$stack_dir/pg" "$pg_mode") || xbs_die "could not start PostgreSQL"
redis_port=$(start_with_retry redis "$stack_dir/redis" '') || xbs_die "could not start Redis"

export XBS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
export XBS_TEST_REDIS_ADDR="127.0.0.1:$redis_port"
export XBS_ENV=development
xbs_log "PostgreSQL on 127.0.0.1:$pg_port${pg_mode:+ ($pg_mode)}, Redis on 127.0.0.1:$redis_port (throwaway, $stack_dir)"

# CMD runs in its own session and process group (setsid keeps its pid), so a
# signal reaches all of it (go test and the test binaries it starts) exactly
# once, from us. `trap -` undoes the SIGINT/SIGQUIT ignoring bash applies to
# background jobs; <&0 keeps our stdin.
forward() {
	signals=$((signals + 1))
	local sig=$1
	if ((signals > 2)); then sig=KILL; fi
	xbs_log "got SIG$1, sending SIG$sig to the command"
	kill -s "$sig" -- "-$child" 2>/dev/null || kill -s "$sig" "$child" 2>/dev/null || true
}
if command -v setsid >/dev/null 2>&1; then
	(trap - INT QUIT TERM && exec setsid --wait -- "$@") <&0 &
else
	(trap - INT QUIT TERM && exec "$@") <&0 &
fi
child=$!
trap 'forward INT' INT
trap 'forward TERM' TERM

rc=0
while :; do
	wait "$child" && rc=0 || rc=$?
	# wait also returns when a trapped signal arrives; go on until CMD is gone.
	kill -0 "$child" 2>/dev/null || break
done
child=''
if ((signals > 0 && rc == 0)); then rc=130; fi
exit "$rc"
