#!/usr/bin/env bash
# run.sh: what `make run` does. Sets up and starts everything on this machine:
#
#   - installs PostgreSQL and Redis with apt-get if they are missing;
#   - a private PostgreSQL cluster in .data/pg on 127.0.0.1:${XBS_PG_PORT:-54329}
#     and a private Redis in .data/redis on 127.0.0.1:${XBS_REDIS_PORT:-63799},
#     both kept between runs (a server still up from an earlier run is reused);
#   - database xbsettle, the binary .data/bin/xbsettle, migrations (run as
#     postgres, the owner; xbsettle connects as xbsettle_app, which owns
#     nothing: docs/operations.md);
#   - on the first run a random XBS_SECRET_KEY, saved to .data/secret-key
#     (mode 600) and reused, and an admin API key, saved to .data/admin-key;
#   - then `xbsettle all` in the foreground. Ctrl-C stops it, then the servers
#     this run started.
#
# XBS_HTTP_ADDR (default 127.0.0.1:8080) is passed through to xbsettle.
# shellcheck disable=SC2317,SC2119  # trap handlers are called indirectly
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

data=$repo/.data
pg_dir=$data/pg
redis_dir=$data/redis
bin=$data/bin/xbsettle
key_file=$data/admin-key
pgport=${XBS_PG_PORT:-54329}
redisport=${XBS_REDIS_PORT:-63799}
export XBS_HTTP_ADDR=${XBS_HTTP_ADDR:-127.0.0.1:8080}

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || xbs_die "go not found (install Go into /usr/local/go)"

started_pg=0
started_redis=0
app=''
signals=0
cleanup() {
	local rc=$?
	trap '' INT TERM
	set +e
	if [[ -n $app ]] && pid_alive "$app"; then
		kill -TERM -- "-$app" 2>/dev/null || kill -TERM "$app" 2>/dev/null
		if ! _wait_gone "$app" "$XBS_STOP_TIMEOUT"; then
			xbs_log "xbsettle did not stop within ${XBS_STOP_TIMEOUT}s; killing it"
			kill -KILL -- "-$app" 2>/dev/null || kill -KILL "$app" 2>/dev/null
		fi
	fi
	if ((started_redis)); then
		xbs_log "stopping Redis"
		stop_redis "$redis_dir"
	fi
	if ((started_pg)); then
		xbs_log "stopping PostgreSQL"
		stop_postgres "$pg_dir" fast
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages

# Build first: a compile error should not cost a server start.
xbs_log "building $bin"
mkdir -p "$data/bin"
go build -o "$bin" ./cmd/xbsettle

# When we are root the servers' user (postgres) must be able to enter .data.
if [[ $EUID -eq 0 ]]; then chmod a+x "$data"; fi

if pg_running "$pg_dir"; then
	pgport=$(pg_port "$pg_dir") || xbs_die "cannot read the port of the PostgreSQL running on $pg_dir"
	xbs_log "reusing PostgreSQL already running on 127.0.0.1:$pgport ($pg_dir); it stays up when this run ends"
	pg_wait_ready "$pgport"
else
	xbs_log "starting PostgreSQL on 127.0.0.1:$pgport ($pg_dir)"
	started_pg=1
	start_postgres "$pg_dir" "$pgport" durable
fi

if redis_running "$redis_dir"; then
	redisport=$(redis_port "$redis_dir") || xbs_die "cannot read the port of the Redis running on $redis_dir"
	[[ $(_redis_cli -h 127.0.0.1 -p "$redisport" ping 2>/dev/null) == PONG ]] ||
		xbs_die "the Redis running on $redis_dir (port $redisport) does not answer"
	xbs_log "reusing Redis already running on 127.0.0.1:$redisport ($redis_dir); it stays up when this run ends"
else
	xbs_log "starting Redis on 127.0.0.1:$redisport ($redis_dir)"
	started_redis=1
	start_redis "$redis_dir" "$redisport" persistent
fi

pg_ensure_database "$pgport" xbsettle

xbs_dev_env "$data" "$pgport" "$redisport"

xbs_log "migrating (as postgres; xbsettle runs as xbsettle_app)"
"$bin" migrate

if [[ ! -s $key_file ]]; then
	xbs_log "creating the first admin API key"
	out=$("$bin" keys create --role admin)
	# The key is the last non-empty line of stdout.
	key=$(printf '%s\n' "$out" | tr -d '\r' | awk 'NF { last = $0 } END { print last }')
	key=${key#"${key%%[![:space:]]*}"}
	key=${key%"${key##*[![:space:]]}"}
	[[ -n $key ]] || xbs_die "'xbsettle keys create --role admin' printed no key"
	(umask 077 && printf '%s\n' "$key" >"$key_file.tmp") && mv -f "$key_file.tmp" "$key_file"
	chmod 600 "$key_file"
	cat <<EOF

  ================================================================
   Admin API key (shown once; saved to .data/admin-key, mode 600):

     $key

  ================================================================

EOF
else
	printf '\n  Admin API key: in %s (cat .data/admin-key)\n' "$key_file"
fi

pg_note=''
redis_note=''
((started_pg)) || pg_note='  (reused; left running)'
((started_redis)) || redis_note='  (reused; left running)'
cat <<EOF

  xbsettle
    API              http://$XBS_HTTP_ADDR
    XBS_HTTP_ADDR    $XBS_HTTP_ADDR
    XBS_DATABASE_URL $XBS_DATABASE_URL$pg_note
    migrations as    $XBS_MIGRATE_DATABASE_URL
    XBS_SECRET_KEY   in .data/secret-key (XBS_ENV=development)
    XBS_REDIS_ADDR   $XBS_REDIS_ADDR$redis_note
    psql             psql '$XBS_DATABASE_URL'
    redis-cli        redis-cli -h 127.0.0.1 -p $redisport
    data             $data (make clean removes it)

  Ctrl-C stops xbsettle, then the servers this run started.

EOF

# xbsettle runs in its own session so that Ctrl-C reaches it once, from us, in
# order: first xbsettle (SIGTERM, graceful), then Redis and PostgreSQL. `trap -`
# undoes the SIGINT ignoring bash applies to background jobs.
forward() {
	signals=$((signals + 1))
	if ((signals == 1)); then
		xbs_log "stopping xbsettle (again to kill it)"
		kill -TERM -- "-$app" 2>/dev/null || kill -TERM "$app" 2>/dev/null || true
	else
		kill -KILL -- "-$app" 2>/dev/null || kill -KILL "$app" 2>/dev/null || true
	fi
}
detach=()
if command -v setsid >/dev/null 2>&1; then detach=(setsid --wait --); fi
(trap - INT QUIT TERM && exec "${detach[@]}" "$bin" all) </dev/null &
app=$!
trap forward INT TERM

rc=0
deadline=0
while :; do
	if ((signals == 0)); then
		# Returns when xbsettle exits, or early when a signal comes in.
		wait "$app" && rc=0 || rc=$?
		pid_alive "$app" || break
		continue
	fi
	# Shutting down: give xbsettle a bounded time to finish.
	if ! pid_alive "$app"; then
		wait "$app" && rc=0 || rc=$?
		break
	fi
	((deadline)) || deadline=$((SECONDS + XBS_STOP_TIMEOUT))
	if ((SECONDS >= deadline && signals < 2)); then
		xbs_log "xbsettle did not stop within ${XBS_STOP_TIMEOUT}s; killing it"
		forward
	fi
	sleep 0.2
done
app=''
exit "$rc"
