#!/usr/bin/env bash
# Helpers shared by run.sh, with-stack.sh and the Makefile: install the server
# packages when they are missing and start private PostgreSQL and Redis servers
# that never touch the system services (/var/run/postgresql, systemd, 5432, 6379).
#
# Source it:      source scripts/lib.sh; start_postgres "$dir" "$(free_port)"
# Or call it:     scripts/lib.sh stop_postgres .data/pg
#
# Every function is safe under `set -euo pipefail`. Functions return non-zero on
# failure; they only exit the shell when run through the "call it" form.
#
# PostgreSQL refuses to run as root, so when EUID is 0 initdb, pg_ctl and the
# server run as the `postgres` user (or as the owner of an existing data dir)
# through runuser. Redis runs as the caller.

# Upper bounds, in seconds: nothing here waits forever.
XBS_START_TIMEOUT=${XBS_START_TIMEOUT:-30}
XBS_STOP_TIMEOUT=${XBS_STOP_TIMEOUT:-30}

xbs_log() { printf 'xbsettle: %s\n' "$*" >&2; }
xbs_die() {
	xbs_log "error: $*"
	return 1
}

# pid_alive PID succeeds when process PID exists and is not a zombie (an
# exited daemon may wait a while for init to reap it).
pid_alive() {
	local stat
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# _wait_gone PID SECONDS waits, bounded, until PID is gone.
_wait_gone() {
	local deadline=$((SECONDS + $2))
	while pid_alive "$1"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# --- packages ----------------------------------------------------------------

# as_root CMD... runs CMD as root, through sudo when we are not root.
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		xbs_die "need root to run '$*' and sudo is not installed"
	fi
}

# ensure_packages [--cc] installs PostgreSQL and Redis with apt-get when their
# binaries are missing (and a C compiler, which `go test -race` needs, with
# --cc). It does nothing when everything is present, so it is cheap to call.
ensure_packages() {
	local want_cc=0 arg
	for arg in "$@"; do
		case $arg in
		--cc) want_cc=1 ;;
		*) xbs_die "ensure_packages: unknown argument $arg" || return ;;
		esac
	done
	local -a pkgs=()
	if ! _XBS_PG_BINDIR='' pg_bindir >/dev/null 2>&1; then
		pkgs+=(postgresql)
	fi
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		pkgs+=(redis-server)
	fi
	if ((want_cc)) && ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
		pkgs+=(gcc libc6-dev)
	fi
	((${#pkgs[@]})) || return 0
	command -v apt-get >/dev/null 2>&1 ||
		xbs_die "missing ${pkgs[*]} and apt-get is not available; install them by hand" || return
	xbs_log "installing ${pkgs[*]} with apt-get"
	# Debian's postinst may start its own system clusters/services; we never use them.
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null || return
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" </dev/null || return
	_XBS_PG_BINDIR=''
	pg_bindir >/dev/null || xbs_die "PostgreSQL server binaries still not found after installing" || return
	command -v redis-server >/dev/null 2>&1 || xbs_die "redis-server still not found after installing" || return
}

# --- the environment of make run ---------------------------------------------

# xbs_secret_key FILE prints the secret kept in FILE, first writing a random
# one (32 bytes as 64 hex digits, mode 0600) when FILE does not exist yet.
xbs_secret_key() {
	local file=$1 key
	if [[ ! -s $file ]]; then
		key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n') || return
		[[ ${#key} -eq 64 ]] || xbs_die "could not read 32 random bytes from /dev/urandom" || return
		(umask 077 && printf '%s\n' "$key" >"$file.tmp") && mv -f "$file.tmp" "$file" || return
	fi
	chmod 600 "$file" || return
	head -n 1 "$file"
}

# xbs_dev_env DATA PGPORT REDISPORT exports what xbsettle needs to run on the
# servers of make run: development mode, the secret of DATA/secret-key, the
# app role's URL and the owner's (postgres, who migrates), and Redis.
xbs_dev_env() {
	local data=$1 pgport=$2 redisport=$3 key
	key=$(xbs_secret_key "$data/secret-key") || return
	export XBS_ENV=development
	export XBS_SECRET_KEY=$key
	export XBS_DATABASE_URL="postgres://xbsettle_app@127.0.0.1:$pgport/xbsettle?sslmode=disable"
	export XBS_MIGRATE_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/xbsettle?sslmode=disable"
	export XBS_REDIS_ADDR="127.0.0.1:$redisport"
}

# --- PostgreSQL --------------------------------------------------------------

_xbs_is_pg_bindir() {
	[[ -n $1 && -x $1/initdb && -x $1/pg_ctl && -x $1/postgres ]]
}

# pg_bindir prints the directory holding initdb, pg_ctl and postgres:
# $XBS_PG_BINDIR, else the highest version under /usr/lib/postgresql/*/bin,
# else `pg_config --bindir`, else wherever initdb on PATH really lives.
_XBS_PG_BINDIR=''
pg_bindir() {
	if [[ -n $_XBS_PG_BINDIR ]]; then
		printf '%s\n' "$_XBS_PG_BINDIR"
		return 0
	fi
	local dir='' cand
	if [[ -n ${XBS_PG_BINDIR:-} ]]; then
		_xbs_is_pg_bindir "$XBS_PG_BINDIR" || xbs_die "XBS_PG_BINDIR=$XBS_PG_BINDIR has no initdb/pg_ctl/postgres" || return
		dir=$XBS_PG_BINDIR
	fi
	if [[ -z $dir ]]; then
		# Version directories sort numerically: 9.6 < 10 < 15 < 16.
		while IFS= read -r cand; do
			if _xbs_is_pg_bindir "$cand/bin"; then
				dir=$cand/bin
				break
			fi
		done < <(compgen -G '/usr/lib/postgresql/*' | sort -rV)
	fi
	if [[ -z $dir ]] && command -v pg_config >/dev/null 2>&1; then
		cand=$(pg_config --bindir 2>/dev/null) || cand=''
		if _xbs_is_pg_bindir "$cand"; then dir=$cand; fi
	fi
	if [[ -z $dir ]] && command -v initdb >/dev/null 2>&1; then
		cand=$(dirname "$(readlink -f "$(command -v initdb)")")
		if _xbs_is_pg_bindir "$cand"; then dir=$cand; fi
	fi
	[[ -n $dir ]] || return 1
	_XBS_PG_BINDIR=$dir
	printf '%s\n' "$dir"
}

# pg_tool NAME prints the path of a client tool (psql, pg_isready, createdb),
# preferring the server's bindir and falling back to PATH.
pg_tool() {
	local bindir
	bindir=$(pg_bindir 2>/dev/null) || bindir=''
	if [[ -n $bindir && -x $bindir/$1 ]]; then
		printf '%s\n' "$bindir/$1"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	else
		xbs_die "PostgreSQL tool $1 not found"
	fi
}

# _pg_user DATADIR prints the user the cluster in DATADIR runs as when we are
# root: the directory's owner if it exists and is not root, else postgres.
_pg_user() {
	local owner=''
	if [[ -d $1 ]]; then owner=$(stat -c %U "$1"); fi
	if [[ -n $owner && $owner != root && $owner != UNKNOWN ]]; then
		printf '%s\n' "$owner"
	else
		printf 'postgres\n'
	fi
}

# _pg_as DATADIR CMD... runs CMD as the cluster's user (runuser when root),
# from / so that an unreadable working directory does not matter.
_pg_as() {
	local datadir=$1
	shift
	if [[ $EUID -eq 0 ]]; then
		local user
		user=$(_pg_user "$datadir")
		(cd / && runuser -u "$user" -- "$@")
	else
		(cd / && "$@")
	fi
}

# _pg_prepare_dir DATADIR creates DATADIR for initdb, owned by the right user.
_pg_prepare_dir() {
	local datadir=$1
	mkdir -p "$datadir" || return
	chmod 700 "$datadir" || return
	if [[ $EUID -eq 0 ]]; then
		local user
		user=$(_pg_user "$datadir")
		if ! id -u "$user" >/dev/null 2>&1; then
			xbs_log "creating system user $user to run PostgreSQL (initdb refuses root)"
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" || return
		fi
		chown "$user:" "$datadir" || return
		if ! runuser -u "$user" -- test -w "$datadir"; then
			xbs_die "user $user cannot reach $datadir: a parent directory is not searchable by it (chmod o+x the parents, or move the checkout)"
			return
		fi
	fi
}

# _pg_conf_quote STRING quotes STRING as a postgresql.conf literal.
_pg_conf_quote() {
	local s=${1//\'/\'\'}
	printf "'%s'" "$s"
}

# pg_running DATADIR succeeds when a postmaster owns DATADIR.
pg_running() {
	local datadir=$1 pid
	[[ -f $datadir/postmaster.pid ]] || return 1
	pid=$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null) || return 1
	pid_alive "$pid"
}

# pg_port DATADIR prints the port the running postmaster of DATADIR listens on.
pg_port() {
	local port
	port=$(sed -n 4p "$1/postmaster.pid" 2>/dev/null) || return 1
	[[ $port =~ ^[0-9]+$ ]] || return 1
	printf '%s\n' "$port"
}

# pg_wait_ready PORT waits, bounded, until the server on 127.0.0.1:PORT
# accepts connections.
pg_wait_ready() {
	local port=$1 isready deadline=$((SECONDS + XBS_START_TIMEOUT))
	isready=$(pg_tool pg_isready) || return
	until "$isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
		if ((SECONDS >= deadline)); then
			xbs_log "PostgreSQL on 127.0.0.1:$port not ready after ${XBS_START_TIMEOUT}s"
			return 1
		fi
		sleep 0.2
	done
}

# start_postgres DATADIR PORT [durable] initialises DATADIR if it holds no
# cluster yet and starts a private server on 127.0.0.1:PORT, waiting until it
# accepts connections. Superuser `postgres`, trust auth, UTF8. Without
# `durable`, fsync and friends are off: fast, and lost on a crash (tests).
start_postgres() {
	local datadir=$1 port=$2 mode=${3:-} bindir
	[[ $port =~ ^[0-9]+$ ]] || xbs_die "start_postgres: bad port '$port'" || return
	bindir=$(pg_bindir) || xbs_die "PostgreSQL server binaries not found (run ensure_packages)" || return
	datadir=$(realpath -m "$datadir")

	if [[ ! -f $datadir/PG_VERSION ]]; then
		_pg_prepare_dir "$datadir" || return
		local -a locale_args=(--no-locale)
		if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then
			locale_args=(--locale=C.UTF-8)
		fi
		local -a sync_args=()
		[[ $mode == durable ]] || sync_args=(--no-sync)
		local initlog
		initlog=$(mktemp "${TMPDIR:-/tmp}/xbsettle-initdb.XXXXXX") || return
		if ! _pg_as "$datadir" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust \
			-E UTF8 "${locale_args[@]}" "${sync_args[@]}" >"$initlog" 2>&1; then
			xbs_log "initdb failed for $datadir:"
			cat "$initlog" >&2
			rm -f "$initlog"
			return 1
		fi
		rm -f "$initlog"
		printf "\n# Settings owned by scripts/lib.sh (rewritten on every start).\ninclude_if_exists = 'xbsettle.conf'\n" \
			>>"$datadir/postgresql.conf" || return
	else
		local have want
		have=$(<"$datadir/PG_VERSION")
		want=$("$bindir/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)?.*/\1/')
		if [[ $have != "$want" ]]; then
			xbs_die "$datadir holds a PostgreSQL $have cluster but $bindir is PostgreSQL $want; remove it (make clean) or set XBS_PG_BINDIR"
			return
		fi
	fi

	if pg_running "$datadir"; then
		xbs_die "a server is already running on $datadir (port $(pg_port "$datadir" || echo '?'))"
		return
	fi

	# Unix sockets live in the data dir (nothing needs /var/run/postgresql),
	# unless the path is too long for a socket name; then TCP only.
	local sockdir=$datadir
	if ((${#datadir} + 20 > 107)); then sockdir=''; fi
	local sync=on
	[[ $mode == durable ]] || sync=off
	local conf=$datadir/xbsettle.conf
	{
		printf 'listen_addresses = %s\n' "'127.0.0.1'"
		printf 'port = %s\n' "$port"
		printf 'unix_socket_directories = %s\n' "$(_pg_conf_quote "$sockdir")"
		printf 'max_connections = 200\n'
		printf 'fsync = %s\n' "$sync"
		printf 'synchronous_commit = %s\n' "$sync"
		printf 'full_page_writes = %s\n' "$sync"
	} >"$conf" || return
	if [[ $EUID -eq 0 ]]; then chown "$(_pg_user "$datadir"):" "$conf" || return; fi

	local logfile=$datadir/server.log
	if ! _pg_as "$datadir" "$bindir/pg_ctl" start -D "$datadir" -l "$logfile" -w -t "$XBS_START_TIMEOUT" >/dev/null 2>&1 ||
		! pg_wait_ready "$port"; then
		xbs_log "PostgreSQL failed to start on 127.0.0.1:$port (data $datadir); last log lines:"
		tail -n 40 "$logfile" >&2 2>/dev/null || true
		stop_postgres "$datadir" immediate >/dev/null 2>&1 || true
		return 1
	fi
}

# stop_postgres DATADIR [fast|immediate] stops the server running on DATADIR,
# if any: pg_ctl first, then SIGKILL after a bounded wait.
stop_postgres() {
	local datadir mode=${2:-fast} bindir pid
	datadir=$(realpath -m "$1")
	pg_running "$datadir" || return 0
	pid=$(head -n 1 "$datadir/postmaster.pid")
	if bindir=$(pg_bindir 2>/dev/null); then
		_pg_as "$datadir" "$bindir/pg_ctl" stop -D "$datadir" -m "$mode" -w -t "$XBS_STOP_TIMEOUT" >/dev/null 2>&1 ||
			_pg_as "$datadir" "$bindir/pg_ctl" stop -D "$datadir" -m immediate -w -t 10 >/dev/null 2>&1 ||
			true
	fi
	if ! _wait_gone "$pid" 5; then
		xbs_log "PostgreSQL (pid $pid) did not stop; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		_wait_gone "$pid" 5 || true
	fi
	return 0
}

# pg_ensure_database PORT NAME creates database NAME on 127.0.0.1:PORT if it
# does not exist yet.
pg_ensure_database() {
	local port=$1 name=$2 psql exists
	[[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || xbs_die "bad database name '$name'" || return
	psql=$(pg_tool psql) || return
	exists=$("$psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$name'") || return
	if [[ $exists != 1 ]]; then
		xbs_log "creating database $name"
		"$psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
			-c "CREATE DATABASE $name" >/dev/null || return
	fi
}

# --- Redis -------------------------------------------------------------------

# redis_running DIR succeeds when the redis-server started on DIR is alive.
redis_running() {
	local pid
	[[ -f $1/redis.pid ]] || return 1
	pid=$(<"$1/redis.pid") || return 1
	pid_alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]]
}

# redis_port DIR prints the port of the server started on DIR.
redis_port() {
	local port
	port=$(<"$1/redis.port") || return 1
	[[ $port =~ ^[0-9]+$ ]] || return 1
	printf '%s\n' "$port"
}

# start_redis DIR PORT [persistent] starts a private redis-server on
# 127.0.0.1:PORT keeping its files in DIR, and waits until it answers PING.
# Throwaway servers keep nothing on disk; persistent ones use the AOF.
# maxmemory-policy is noeviction: Asynq must never lose keys.
start_redis() {
	local dir=$1 port=$2 mode=${3:-}
	[[ $port =~ ^[0-9]+$ ]] || xbs_die "start_redis: bad port '$port'" || return
	command -v redis-server >/dev/null 2>&1 || xbs_die "redis-server not found (run ensure_packages)" || return
	mkdir -p "$dir" || return
	dir=$(cd "$dir" && pwd -P) || return
	if redis_running "$dir"; then
		xbs_die "a redis-server is already running on $dir (port $(redis_port "$dir" || echo '?'))"
		return
	fi
	rm -f "$dir/redis.pid"
	printf '%s\n' "$port" >"$dir/redis.port" || return
	# Started in the background in its own session rather than with
	# --daemonize, so that we know its pid and notice at once if it dies
	# (port taken, bad config) instead of waiting out the timeout.
	local -a args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
		--maxmemory-policy noeviction)
	if [[ $mode == persistent ]]; then
		args+=(--appendonly yes)
	else
		# Test processes each take a logical database of their own
		# (internal/testenv.Redis), so throwaway servers offer many.
		args+=(--save '' --appendonly no --databases 1024)
	fi
	local -a detach=()
	if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi
	(trap - INT QUIT TERM && exec "${detach[@]}" redis-server "${args[@]}") </dev/null >/dev/null 2>&1 &
	local pid=$!
	if ! _redis_wait_ready "$dir" "$port" "$pid"; then
		xbs_log "redis-server failed to start on 127.0.0.1:$port (dir $dir); last log lines:"
		tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
		if pid_alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
			_wait_gone "$pid" 5 || true
		fi
		return 1
	fi
}

# _redis_cli ARGS... is redis-cli with a bound on how long it may hang.
_redis_cli() {
	if command -v timeout >/dev/null 2>&1; then
		timeout 3 redis-cli "$@"
	else
		redis-cli "$@"
	fi
}

# _redis_wait_ready DIR PORT PID waits, bounded, for PONG from our server:
# process PID, whose working dir is DIR, not some other server on the port.
_redis_wait_ready() {
	local dir=$1 port=$2 pid=$3 deadline=$((SECONDS + XBS_START_TIMEOUT)) answer
	while :; do
		if ! pid_alive "$pid"; then
			xbs_log "redis-server exited during startup"
			return 1
		fi
		# Redis writes its pid file once it listens: only then ask the port.
		answer=''
		if [[ -s $dir/redis.pid ]]; then
			answer=$(_redis_cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) || answer=''
		fi
		if [[ $answer == PONG ]]; then
			answer=$(_redis_cli -h 127.0.0.1 -p "$port" config get dir 2>/dev/null | sed -n 2p) || answer=''
			if [[ $answer == "$dir" ]]; then return 0; fi
			xbs_log "port $port answers PING but it is not the redis-server for $dir"
			return 1
		fi
		if ((SECONDS >= deadline)); then
			xbs_log "redis-server on 127.0.0.1:$port not ready after ${XBS_START_TIMEOUT}s"
			return 1
		fi
		sleep 0.1
	done
}

# stop_redis DIR stops the redis-server started on DIR, if any: SIGTERM (it
# flushes the AOF and exits), then SIGKILL after a bounded wait.
stop_redis() {
	local dir=$1 pid
	redis_running "$dir" || return 0
	pid=$(<"$dir/redis.pid")
	kill -TERM "$pid" 2>/dev/null || true
	if ! _wait_gone "$pid" "$XBS_STOP_TIMEOUT"; then
		xbs_log "redis-server (pid $pid) did not stop; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		_wait_gone "$pid" 5 || true
	fi
	return 0
}

# --- ports and processes -----------------------------------------------------

# port_in_use PORT succeeds when something listens on local TCP PORT.
port_in_use() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Htln "sport = :$port" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
	fi
}

# free_port prints a random local TCP port nobody listens on. Ports come from
# 20000 up to just below the kernel's ephemeral range, so outgoing connections
# do not land on them. Another process can still take the port before we
# bind it; callers retry a failed start with a new port.
free_port() {
	local lo=20000 hi=60000 eph attempt port
	if eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) &&
		[[ $eph =~ ^[0-9]+$ ]] && ((eph > lo + 1000)); then
		hi=$((eph - 1))
	fi
	for ((attempt = 0; attempt < 100; attempt++)); do
		port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		if ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	xbs_die "no free TCP port found in $lo-$hi"
}

# proc_tree PID prints PID and all its descendants, parents first.
proc_tree() {
	# cat skips processes that vanish while we read; comm may hold spaces,
	# so fields are counted after its closing parenthesis.
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
		{ line = $0; pid = $1; sub(/^.*\) /, "", line); split(line, f, " "); kids[f[2]] = kids[f[2]] " " pid }
		END {
			n = 1; q[1] = root
			for (i = 1; i <= n; i++) {
				print q[i]
				m = split(kids[q[i]], k, " ")
				for (j = 1; j <= m; j++) q[++n] = k[j]
			}
		}'
}

# Called as a program: scripts/lib.sh FUNCTION ARGS...
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	if [[ $# -eq 0 ]] || ! declare -F "$1" >/dev/null; then
		echo "usage: $0 FUNCTION [ARGS...]   (see the comments in $0)" >&2
		exit 2
	fi
	"$@"
fi
