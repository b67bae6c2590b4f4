#!/bin/sh
# Two syncs of one supplier never run together, and a sync killed with
# SIGKILL mid-feed leaves a consistent database that the next sync completes.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf
N=2000
ds_mock_start --generate $N --delay-ms 150
ds_json_supplier m "$MOCK_URL/items" page ""
ds_links $N m

# Two at once: the second refuses with exit 6 while the first runs.
"$DROPSTOCK" sync > "$T/out1" 2> "$T/err1" &
first=$!
DS_PIDS="$DS_PIDS $first"
i=0
until [ "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE status='running'")" = 1 ]; do
	i=$((i + 1)); [ $i -gt 200 ] && ds_fail "first sync never started"; sleep 0.05
done
ds sync
ds_expect_rc 6 "second sync refused"
ds_expect_grep "already being synced" "$T/err" "says busy"
wait $first
[ $? -eq 0 ] || { cat "$T/err1"; ds_fail "first sync failed"; }
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs")" 1 "only one run recorded"
ds_check_synced $N

# --wait queues behind the running one instead.
"$DROPSTOCK" sync > "$T/out1" 2> "$T/err1" &
first=$!
DS_PIDS="$DS_PIDS $first"
sleep 0.3
ds sync --wait
ds_expect_rc 0 "waiting sync"
wait $first

# SIGKILL mid-feed: pages already committed stay, the run is left "running"
# until the next sync finds its holder dead and marks it interrupted.
rm -f "$DB" "$DB-wal" "$DB-shm"
ds_links $N m
"$DROPSTOCK" sync > "$T/out1" 2> "$T/err1" &
victim=$!
i=0
until [ "$(ds_sql "SELECT COALESCE(MAX(pages),0) FROM sync_runs")" -ge 3 ] 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 400 ] && ds_fail "sync made no progress"; sleep 0.05
done
kill -KILL $victim
wait $victim 2>/dev/null
ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check"
stocked=$(ds_sql "SELECT COUNT(*) FROM supplier_links WHERE supplier_stock IS NOT NULL")
[ $((stocked % 100)) -eq 0 ] || ds_fail "half a page applied: $stocked links"
[ "$stocked" -lt $N ] || ds_fail "killed too late"
logged=$(ds_sql "SELECT COUNT(*) FROM stock_log")
ds_expect_eq "$logged" "$stocked" "log matches applied links"
ds sync
ds_expect_rc 0 "next sync completes"
ds_check_synced $N
ds_expect_eq "$(ds_sql "SELECT status FROM sync_runs ORDER BY id LIMIT 1")" interrupted "killed run marked interrupted"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE status='running'")" 0 "nothing left running"
exit 0
