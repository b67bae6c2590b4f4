# daemon_lib.sh - helpers of the daemon tests (sourced after lib.sh and
# ds_setup): polling, the daemon's start and stop, a fresh database.

# wait_until SECONDS MESSAGE COMMAND...: polls COMMAND every 0.1 s; on time
# out prints the daemon's log ($DLOG) and fails with MESSAGE.
wait_until() {
	secs=$1 msg=$2
	shift 2
	i=0
	until "$@"; do
		i=$((i + 1))
		if [ $i -gt $((secs * 10)) ]; then
			[ -f "${DLOG:-/dev/null}" ] && { echo "--- daemon log"; cat "$DLOG"; }
			ds_fail "$msg (waited $secs s)"
		fi
		sleep 0.1
	done
}
sql_is() { # WANT SQL
	[ "$(ds_sql "$2")" = "$1" ]
}
sql_ge() { # MIN SQL
	[ "$(ds_sql "$2")" -ge "$1" ] 2> /dev/null
}
log_has() { # PATTERN
	grep -q -e "$1" "$DLOG"
}

# daemon_start LOGNAME [ARGS...]: starts the daemon (stderr in $T/LOGNAME.log,
# also $DLOG; its pid in $DAEMON_PID) and waits for its start line.
daemon_start() {
	DLOG=$T/$1.log
	shift
	: > "$DLOG"
	"$DROPSTOCK" daemon "$@" 2>> "$DLOG" &
	DAEMON_PID=$!
	DS_PIDS="$DS_PIDS $DAEMON_PID"
	wait_until 10 "the daemon did not start" log_has "daemon started"
}

# daemon_stop: SIGTERM, then the exit status must be 0.
daemon_stop() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	rc=$?
	[ $rc -eq 0 ] || { cat "$DLOG"; ds_fail "daemon exit status $rc after SIGTERM"; }
}

# fresh_db: a new, empty database with $N links of supplier m.
fresh_db() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
	ds_links $N m
}
