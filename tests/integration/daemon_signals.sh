#!/bin/sh
# dropstock daemon and signals: SIGTERM mid-run exits 0 within 10 s with the
# run interrupted and retried at the next start; SIGKILL mid-run, then a
# restart: the run is marked interrupted, retried, the database is intact and
# no change is logged twice; a run over daemon.run_timeout is interrupted and
# retried; SIGHUP with a bad configuration keeps the old one (and the HTTP
# service), with a good one applies it.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

N=1000

. "$top_srcdir/tests/integration/daemon_lib.sh"

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
# no change logged twice: one stock_log row per link (each went from
# unknown to its value once)
no_duplicate_log() {
	dups=$(ds_sql "SELECT COUNT(*) FROM (SELECT link_id, COALESCE(prev_stock, -1), new_stock
		FROM stock_log GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)")
	ds_expect_eq "$dups" 0 "stock_log rows logged twice"
	ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log")" $N "one stock_log row per link"
}

ds_mock_start --generate $N --delay-ms 300
ds_json_supplier m "$MOCK_URL/items" page
ds_conf 'daemon = { full = "off"; workers = 2; backoff = ( 0.5, 0.5 ); heartbeat_stale = 2; };'

# ---- 1. SIGTERM mid-run: exit 0 within 10 s, run interrupted, retried ----
fresh_db
daemon_start term --no-serve
ds run-now m
ds_expect_rc 0 "run-now"
wait_until 15 "the run made no progress" \
	sql_ge 2 "SELECT COALESCE(MAX(pages), 0) FROM sync_runs WHERE status = 'running'"
t0=$(now_ms)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
took=$(($(now_ms) - t0))
[ $rc -eq 0 ] || { cat "$DLOG"; ds_fail "exit status $rc after SIGTERM"; }
[ $took -lt 10000 ] || ds_fail "SIGTERM took $took ms"
ds_note "stopped $took ms after SIGTERM"
ds_expect_eq "$(ds_sql "SELECT status FROM sync_runs WHERE id = 1")" interrupted \
	"the run in flight"
ds_expect_eq "$(ds_sql "SELECT attempt || ':' || status || ':' || retry_of FROM sync_runs
	WHERE id = 2")" "2:queued:1" "its retry is queued"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE status = 'running'")" 0 \
	"nothing left running"
ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check after SIGTERM"
# the next start carries the retry out
daemon_start term2 --no-serve
wait_until 30 "the retry did not succeed" \
	sql_is succeeded "SELECT status FROM sync_runs WHERE id = 2"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || ds_fail "exit status after the second SIGTERM"
ds_check_synced $N
no_duplicate_log

# ---- 2. SIGKILL mid-run, then a restart ----
fresh_db
daemon_start kill --no-serve
ds run-now m
wait_until 15 "the run made no progress" \
	sql_ge 3 "SELECT COALESCE(MAX(pages), 0) FROM sync_runs WHERE status = 'running'"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null
ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check after SIGKILL"
ds_expect_eq "$(ds_sql "SELECT status FROM sync_runs WHERE id = 1")" running \
	"left running by the dead daemon"
stocked=$(ds_sql "SELECT COUNT(*) FROM supplier_links WHERE supplier_stock IS NOT NULL")
[ "$stocked" -lt $N ] || ds_fail "killed too late"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log")" "$stocked" "the log matches the links"
daemon_start kill2 --no-serve
wait_until 10 "the dead run was not marked interrupted" \
	sql_is interrupted "SELECT status FROM sync_runs WHERE id = 1"
ds_expect_grep "marked interrupted" "$DLOG" "the recovery is logged"
wait_until 30 "the retry did not succeed" \
	sql_is "2|succeeded" "SELECT attempt, status FROM sync_runs WHERE retry_of = 1"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || ds_fail "exit status after SIGTERM"
ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check after the retry"
ds_check_synced $N
no_duplicate_log

# ---- 3. the time limit of a run: interrupted, retried, then given up ----
fresh_db
ds_conf 'daemon = { full = "off"; run_timeout = 1; max_attempts = 2; backoff = ( 0.5 ); };'
daemon_start timeout --no-serve
ds run-now m
wait_until 20 "the second attempt did not end" \
	sql_is "2|interrupted" "SELECT attempt, status FROM sync_runs WHERE id = 2"
sleep 1
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || ds_fail "exit status after SIGTERM"
ds_expect_eq "$(ds_sql "SELECT group_concat(status, ' ') FROM sync_runs")" \
	"interrupted interrupted" "two attempts, both cut off"
ds_sql "SELECT error FROM sync_runs WHERE id = 1" > "$T/error"
ds_expect_grep "time limit of 1 s" "$T/error" "the error names the time limit"
took=$(ds_sql "SELECT finished_at - started_at FROM sync_runs WHERE id = 1")
[ "$took" -lt 2500 ] || ds_fail "a 1 s time limit stopped the run after $took ms"
ds_expect_grep "no attempts left" "$DLOG" "the log says the attempts ran out"
ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check after time limits"

# ---- 4. SIGHUP: a bad configuration is refused, a good one applied ----
fresh_db
ds_mock_start --generate 50
ds_json_supplier m "$MOCK_URL/items" page
ds_conf 'daemon = { full = "every 1s"; workers = 2; };'
cp "$DROPSTOCK_CONFIG" "$T/good.conf"
daemon_start hup --listen 127.0.0.1:0
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$DLOG" | head -1)
[ -n "$PORT" ] || { cat "$DLOG"; ds_fail "no listening line"; }
healthz() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ]
}
wait_until 10 "no run before SIGHUP" \
	sql_ge 1 "SELECT COUNT(*) FROM sync_runs WHERE status = 'succeeded'"

# a syntax error in dropstock.conf
echo 'this is not a setting' >> "$DROPSTOCK_CONFIG"
kill -HUP "$DAEMON_PID"
wait_until 10 "the bad configuration was not reported" log_has "old one stays in effect"
kill -0 "$DAEMON_PID" || { cat "$DLOG"; ds_fail "the daemon died on a bad configuration"; }
ds_expect_grep "dropstock.conf:[0-9]" "$DLOG" "the error names file and line"
before=$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE status = 'succeeded'")
wait_until 10 "no runs after the bad reload" \
	sql_ge $((before + 2)) "SELECT COUNT(*) FROM sync_runs WHERE status = 'succeeded'"
healthz || ds_fail "the service stopped after a bad reload"

# a bad supplier file (an invalid schedule)
cp "$T/good.conf" "$DROPSTOCK_CONFIG"
ds_json_supplier n "$MOCK_URL/items" page "" 'schedule = { full = "every banana"; };'
kill -HUP "$DAEMON_PID"
refused_twice() {
	[ "$(grep -c "old one stays in effect" "$DLOG")" -ge 2 ]
}
wait_until 10 "the bad supplier file was not reported" refused_twice
ds_expect_grep "n.conf:[0-9]" "$DLOG" "the error names the supplier file and line"
kill -0 "$DAEMON_PID" || ds_fail "the daemon died on a bad supplier file"

# a good one: supplier n joins
ds_json_supplier n "$MOCK_URL/items" page "" 'schedule = { full = "every 1s"; };'
kill -HUP "$DAEMON_PID"
wait_until 10 "the new configuration was not applied" log_has "configuration reloaded: 2 suppliers"
wait_until 10 "the new supplier never synced" \
	sql_ge 1 "SELECT COUNT(*) FROM sync_runs r JOIN suppliers s ON s.id = r.supplier_id
		WHERE s.slug = 'n' AND r.status = 'succeeded'"
wait_until 5 "the service did not come back on its port" healthz
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || { cat "$DLOG"; ds_fail "exit status after SIGTERM"; }
ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check at the end"

exit 0
