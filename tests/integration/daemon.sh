#!/bin/sh
# dropstock daemon: scheduled runs fire (one catch-up at the start, then the
# schedule), sd_notify READY=1 / WATCHDOG=1 / STOPPING=1 reach a fake
# NOTIFY_SOCKET, journal-style priority prefixes, a second daemon on the same
# database is refused, a due run is skipped while a CLI sync holds the
# supplier (no two runs overlap), retries with backoff end in success, a 401
# fails at once without retry, and run-now queues for the daemon or runs in
# the foreground when there is none; the daemon delivers outbox events.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

N=300

. "$top_srcdir/tests/integration/daemon_lib.sh"

# no_overlap: no two runs of the database were running at the same time.
no_overlap() {
	got=$(ds_sql "SELECT COUNT(*) FROM sync_runs a JOIN sync_runs b ON a.id < b.id
		WHERE a.supplier_id = b.supplier_id
		  AND a.started_at IS NOT NULL AND b.started_at IS NOT NULL
		  AND a.started_at < COALESCE(b.finished_at, 9e18)
		  AND b.started_at < COALESCE(a.finished_at, 9e18)")
	ds_expect_eq "$got" 0 "overlapping runs"
}

# ---- 1. the schedule fires; sd_notify; journal prefixes ----
ds_mock_start --generate $N
ds_conf 'daemon = { full = "every 2s"; workers = 2; backoff = ( 0.5, 0.5 ); };'
ds_json_supplier m "$MOCK_URL/items" page
fresh_db

"$NOTIFY_LISTEN" "$T/notify.sock" "$T/notify.out" 60 &
DS_PIDS="$DS_PIDS $!"
wait_until 5 "notify_listen did not start" test -e "$T/notify.out"
# stderr is "the journal" when JOURNAL_STREAM names its device and inode
: > "$T/journal.log"
JSTREAM=$(stat -c '%d:%i' "$T/journal.log")
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 JOURNAL_STREAM=$JSTREAM \
	"$DROPSTOCK" daemon --no-serve 2>> "$T/journal.log" &
DAEMON_PID=$!
DS_PIDS="$DS_PIDS $DAEMON_PID"
DLOG=$T/journal.log
wait_until 10 "READY=1 never sent" grep -q '^READY=1$' "$T/notify.out"
log_has "daemon started" || { cat "$DLOG"; ds_fail "READY=1 came before the start"; }
# the catch-up run at the start, then scheduled ones every 2 s
wait_until 15 "scheduled runs did not fire" \
	sql_ge 3 "SELECT COUNT(*) FROM sync_runs WHERE status = 'succeeded'"
wait_until 5 "no watchdog pings" grep -q '^WATCHDOG=1$' "$T/notify.out"
daemon_stop
wait_until 5 "STOPPING=1 never sent" grep -q '^STOPPING=1$' "$T/notify.out"
# READY before STOPPING
ready=$(grep -n '^READY=1$' "$T/notify.out" | head -1 | cut -d: -f1)
stopping=$(grep -n '^STOPPING=1$' "$T/notify.out" | head -1 | cut -d: -f1)
[ "$ready" -lt "$stopping" ] || ds_fail "STOPPING=1 before READY=1"

ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE \"trigger\" = 'catch-up'")" 1 \
	"one catch-up run at the start"
sql_ge 2 "SELECT COUNT(*) FROM sync_runs WHERE \"trigger\" = 'schedule' AND status = 'succeeded'" ||
	ds_fail "scheduled runs"
ds_check_synced $N
no_overlap
# scheduled fire times are 2 s apart: runs did not start in a burst
gap=$(ds_sql "SELECT MIN(b.started_at - a.started_at) FROM sync_runs a JOIN sync_runs b
	ON b.id = (SELECT MIN(id) FROM sync_runs WHERE id > a.id AND \"trigger\" = 'schedule')
	WHERE a.\"trigger\" = 'schedule'")
[ -z "$gap" ] || [ "$gap" -ge 1500 ] || ds_fail "scheduled runs $gap ms apart"
# every line has an sd-daemon priority prefix, and no timestamp
ds_expect_grep '^<6>daemon started' "$DLOG" "info lines have <6>"
ds_expect_no_grep '^[^<]' "$DLOG" "a line without a priority prefix"
ds_expect_grep '^<6>m: run [0-9]* succeeded' "$DLOG" "a run is logged"

# ---- 2. one daemon per database ----
daemon_start second --no-serve
timeout 10 "$DROPSTOCK" daemon --no-serve > "$T/out" 2> "$T/err"
RC=$?
ds_expect_rc 6 "a second daemon on the same database"
ds_expect_grep "already running" "$T/err" "says a daemon runs"
ds_expect_grep "(process $DAEMON_PID)" "$T/err" "names the running daemon's process"
kill -0 "$DAEMON_PID" || ds_fail "the first daemon died"
daemon_stop

# ---- 3. overlap: a CLI sync holds the supplier while runs come due ----
fresh_db
ds_mock_start --generate $N --delay-ms 2500 --delay-page 2
ds_json_supplier m "$MOCK_URL/items" page
ds_conf 'daemon = { full = "every 1s"; workers = 2; backoff = ( 0.5, 0.5 ); };'
"$DROPSTOCK" sync > "$T/cli.out" 2> "$T/cli.err" &
cli=$!
DS_PIDS="$DS_PIDS $cli"
wait_until 10 "the CLI sync did not start" \
	sql_is 1 "SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"
daemon_start overlap --no-serve
wait_until 10 "no skipped run logged" log_has "skipped: the supplier is being synced now"
wait "$cli" || { cat "$T/cli.err"; ds_fail "the CLI sync failed"; }
# after the CLI sync, the daemon's next due run proceeds
wait_until 15 "the daemon never ran after the CLI sync" \
	sql_ge 1 "SELECT COUNT(*) FROM sync_runs WHERE \"trigger\" <> 'cli' AND status = 'succeeded'"
daemon_stop
no_overlap
ds_expect_eq "$(ds_sql "SELECT status FROM sync_runs WHERE \"trigger\" = 'cli'")" succeeded \
	"the CLI sync"
[ "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE status = 'queued'")" -le 1 ] ||
	ds_fail "a run was queued twice"

# ---- 4. retries with backoff, then success (run-now with a daemon) ----
fresh_db
# no per-request retries: every failed request fails the run
retry_supplier() { # URL
	ds_supplier m <<EOC
slug = "m";
source = {
	url = "$1";
	format = "json";
	paging = "page";
	page_size = 100;
	map = { items = "data.items"; sku = "sku"; stock = "stock"; };
};
retries = 0;
timeout = 5;
EOC
}
ds_mock_start --generate $N --fail-status 503 --fail-count 2
retry_supplier "$MOCK_URL/items"
ds_conf 'daemon = { full = "off"; workers = 1; max_attempts = 3; backoff = ( 0.5, 0.5 );
	jitter = 0.1; };'
daemon_start retries --no-serve
ds run-now m
ds_expect_rc 0 "run-now with a daemon"
ds_expect_grep "queued for the daemon" "$T/out" "run-now queues"
ds_expect_grep "process $DAEMON_PID" "$T/out" "run-now names the daemon's process"
wait_until 15 "the third attempt did not succeed" \
	sql_is "3|succeeded" "SELECT attempt, status FROM sync_runs ORDER BY id DESC LIMIT 1"
daemon_stop
ds_expect_eq "$(ds_sql "SELECT group_concat(attempt || ':' || status || ':' || \"trigger\", ' ')
	FROM (SELECT * FROM sync_runs ORDER BY id)")" \
	"1:failed:manual 2:failed:manual 3:succeeded:manual" "attempts"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs b JOIN sync_runs a ON b.retry_of = a.id
	AND b.attempt = a.attempt + 1")" 2 "each retry names the run it retries"
# the backoff: 0.5 s +-10% between a failure and the next attempt
min_wait=$(ds_sql "SELECT MIN(b.started_at - a.finished_at) FROM sync_runs b
	JOIN sync_runs a ON b.retry_of = a.id")
[ "$min_wait" -ge 400 ] || ds_fail "retry after $min_wait ms, backoff is 500 ms"
ds_expect_grep "503" "$DLOG" "the failure is logged"
ds_expect_grep "attempt 2 queued" "$DLOG" "the retry is logged"
ds_check_synced $N

# ---- 5. 401 fails at once, no retry ----
fresh_db
ds_mock_start --generate $N --fail-status 401
retry_supplier "$MOCK_URL/items"
daemon_start unauthorized --no-serve
ds run-now m
ds_expect_rc 0 "run-now with a daemon"
wait_until 10 "the run did not fail" \
	sql_is failed "SELECT status FROM sync_runs ORDER BY id LIMIT 1"
sleep 1.5     # three backoffs: a retry would have come by now
daemon_stop
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs")" 1 "no retry of a 401"
ds_sql "SELECT error FROM sync_runs" > "$T/error"
ds_expect_grep "401" "$T/error" "the run's error names the status"
ds_expect_grep "not retried" "$DLOG" "the log says it is not retried"

# ---- 6. run-now without a daemon runs in the foreground ----
fresh_db
ds_mock_start --generate $N
ds_json_supplier m "$MOCK_URL/items" page
ds run-now m
ds_expect_rc 0 "run-now without a daemon"
ds_expect_grep "no daemon is running" "$T/err" "says it runs here"
ds_expect_eq "$(ds_sql "SELECT \"trigger\" || ':' || status FROM sync_runs")" "manual:succeeded" \
	"a manual run"
ds_check_synced $N
ds run-now nosuch
ds_expect_rc 2 "run-now of an unknown supplier"
ds run-now m --delta
ds_expect_rc 3 "run-now --delta without a delta source"

# ---- 7. a full run due with a delta run supersedes it ----
fresh_db
ds_json_supplier m "$MOCK_URL/items" page "" \
	"delta = { url = \"$MOCK_URL/items\"; };
schedule = { full = \"every 2s\"; delta = \"every 1s\"; };"
ds_conf 'daemon = { workers = 2; };'
daemon_start supersede --no-serve
wait_until 20 "no scheduled delta runs" \
	sql_ge 2 "SELECT COUNT(*) FROM sync_runs WHERE kind = 'delta' AND status = 'succeeded'"
wait_until 20 "no scheduled full runs" \
	sql_ge 2 "SELECT COUNT(*) FROM sync_runs WHERE kind = 'full' AND \"trigger\" = 'schedule'"
daemon_stop
# every even second both are due: only the full one is queued for that
# fire time (the delta is neither queued nor skipped for it); the log names
# the fire time each run was due at
sed -n -e 's/.* m: \(full\|delta\) run [0-9]* queued (schedule, due \([^)]*\)).*/\2 \1/p' \
	-e 's/.* m: due \(full\|delta\) run skipped: .*(due \([^)]*\))$/\2 \1/p' "$DLOG" |
	sort -u | awk '{ n[$1]++ } END { for (k in n) if (n[k] > 1) print k }' > "$T/both"
sed -n 's/.* m: \(full\|delta\) run [0-9]* queued (schedule, due \([^)]*\)).*/\2/p' "$DLOG" |
	grep -q . || { cat "$DLOG"; ds_fail "no scheduled run logged with its fire time"; }
[ ! -s "$T/both" ] || { cat "$DLOG"; ds_fail "full and delta queued together at $(cat "$T/both")"; }
no_overlap

# ---- 8. the daemon delivers outbox events (to a command) ----
rm -f "$DB" "$DB-wal" "$DB-shm"
ds_mock_start --generate 20
ds_json_supplier m "$MOCK_URL/items" page
ds_links 20 m
ds_conf 'daemon = { full = "off"; };' "events = { command = \"cat >> $T/events.out; echo >> $T/events.out\"; };"
daemon_start events --no-serve
ds run-now m
ds_expect_rc 0 "run-now"
wait_until 10 "the run did not succeed" sql_is succeeded "SELECT status FROM sync_runs"
wait_until 10 "no events delivered" \
	sql_is 0 "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"
daemon_stop
events=$(ds_sql "SELECT COUNT(*) FROM outbox")
[ "$events" -gt 0 ] || ds_fail "the run raised no events"
ds_expect_eq "$(grep -c '"event"' "$T/events.out")" "$events" "every event reached the command once"
ds_expect_grep "events delivered" "$DLOG" "the delivery is logged"

exit 0
