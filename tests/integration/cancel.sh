#!/bin/sh
# An operator's cancel (the flag the console's `c` sets on a running run)
# stops a sync after its page, whoever runs it: a CLI sync and the daemon's
# worker alike; the run ends interrupted and the daemon does not retry it.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf 'daemon = { workers = 1; full = "off"; delta = "off"; backoff = ( 0.2 ); };'
N=3000
ds_mock_start --generate $N --delay-ms 100
ds_json_supplier m "$MOCK_URL/items" page
ds_links $N m

wait_running() { # RUN-ID
	i=0
	until [ "$(ds_sql "SELECT status FROM sync_runs WHERE id = $1")" = running ]; do
		i=$((i + 1)); [ $i -gt 200 ] && ds_fail "run $1 never ran"; sleep 0.05
	done
}

# ---- a CLI sync ----
"$DROPSTOCK" sync > "$T/out1" 2> "$T/err1" &
pid=$!
wait_running 1
ds_sql "UPDATE sync_runs SET cancel_requested = 1 WHERE id = 1"
wait $pid
rc=$?
ds_expect_eq "$rc" 4 "cancelled CLI sync exit status"
grep -q "cancelled by an operator" "$T/err1" || { cat "$T/err1"; ds_fail "CLI: no cancel message"; }
ds_expect_eq "$(ds_sql "SELECT status FROM sync_runs WHERE id = 1")" interrupted "CLI run interrupted"
stocked=$(ds_sql "SELECT COUNT(*) FROM supplier_links WHERE supplier_stock IS NOT NULL")
[ "$stocked" -lt $N ] || ds_fail "the CLI sync was not stopped early"

# ---- the daemon's worker ----
"$DROPSTOCK" daemon --no-serve 2> "$T/daemon.log" &
dpid=$!
DS_PIDS="$DS_PIDS $dpid"
i=0
until grep -q "daemon started" "$T/daemon.log"; do
	i=$((i + 1)); [ $i -gt 200 ] && { cat "$T/daemon.log"; ds_fail "daemon did not start"; }; sleep 0.05
done
ds run-now m
ds_expect_rc 0 "run-now"
run=$(ds_sql "SELECT MAX(id) FROM sync_runs")
wait_running "$run"
ds_sql "UPDATE sync_runs SET cancel_requested = 1 WHERE id = $run"
i=0
until [ "$(ds_sql "SELECT status FROM sync_runs WHERE id = $run")" = interrupted ]; do
	i=$((i + 1)); [ $i -gt 200 ] && { cat "$T/daemon.log"; ds_fail "daemon run not interrupted"; }
	sleep 0.05
done
sleep 1     # the backoff is 0.2 s: a retry would be queued by now
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE id > $run")" 0 "no retry of a cancelled run"
ds_sql "SELECT error FROM sync_runs WHERE id = $run" | grep -q "cancelled by an operator" ||
	ds_fail "daemon run's error does not say cancelled"
kill -TERM $dpid
wait $dpid
ds_expect_eq "$?" 0 "daemon exit status"
exit 0
