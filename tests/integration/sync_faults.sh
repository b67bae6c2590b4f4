#!/bin/sh
# Supplier faults: retries that heal, and failures that lose nothing.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf
N=350

fresh() { # MOCK-ARGS...: new mock, new database, supplier "m" linked
	rm -f "$DB" "$DB-wal" "$DB-shm" "$T/requests.log"
	ds_mock_start --generate $N --log "$T/requests.log" "$@"
	ds_json_supplier m "$MOCK_URL/items" page "" "${TOP_LINES:-}"
	ds_links $N m
}
last_run() {
	ds_sql "SELECT status || '|' || pages || '|' || COALESCE(error,'') FROM sync_runs ORDER BY id DESC LIMIT 1"
}
stocked() {
	ds_sql "SELECT COUNT(*) FROM supplier_links WHERE supplier_stock IS NOT NULL"
}

# 500 once, then success.
fresh --fail-status 500 --fail-count 1
ds sync
ds_expect_rc 0 "500 then success"
ds_check_synced $N
[ "$(grep -c 'page=1&' "$T/requests.log")" -eq 2 ] || ds_fail "page 1 not retried once"

# 429 with Retry-After: 1, then success.
fresh --fail-status 429 --fail-count 1 --retry-after 1
start=$(date +%s)
ds sync
ds_expect_rc 0 "429 then success"
[ $(($(date +%s) - start)) -ge 1 ] || ds_fail "Retry-After not honoured"
ds_check_synced $N

# 503 for ever: retries exhausted, exit 4, nothing applied, run failed.
fresh --fail-status 503 --fail-count 1000
ds sync
ds_expect_rc 4 "503 for ever"
ds_expect_grep "503" "$T/err" "error names the status"
ds_expect_grep "attempts" "$T/err" "error says it retried"
ds_expect_eq "$(stocked)" 0 "nothing applied"
last_run | grep -q '^failed|' || ds_fail "run not failed: $(last_run)"

# A timeout.
DS_TIMEOUT=1
fresh --delay-ms 3000
ds sync
ds_expect_rc 4 "timeout"
ds_expect_grep "timed out" "$T/err" "error says timed out"
DS_TIMEOUT=5

# A body truncated on page 2: page 1 stays applied, the run fails naming page 2.
fresh --truncate-page 2
ds sync
ds_expect_rc 4 "truncated page"
ds_expect_grep "page 2" "$T/err" "names the page"
ds_expect_eq "$(stocked)" 100 "page 1 applied, page 2 not"
last_run | grep -q '^failed|1|' || ds_fail "run not failed after 1 page: $(last_run)"

# Malformed JSON on page 3.
fresh --malformed-page 3
ds sync
ds_expect_rc 4 "malformed page"
ds_expect_grep "page 3" "$T/err" "names the page"
ds_expect_grep "JSON" "$T/err" "says JSON"
ds_expect_eq "$(stocked)" 200 "pages 1-2 applied"

# An empty 200 is a failure, not an empty catalogue.
fresh --empty-body
ds sync
ds_expect_rc 4 "empty 200"
ds_expect_grep "empty" "$T/err" "says empty"
ds_expect_eq "$(stocked)" 0 "nothing applied"

# An error envelope (success=false) fails with the supplier's message.
fresh --error-envelope
ds sync
ds_expect_rc 4 "error envelope"
ds_expect_grep "API key expired" "$T/err" "supplier's message shown"
ds_expect_eq "$(stocked)" 0 "nothing applied"

# A dead supplier (nothing listens).
port=$MOCK_PORT
kill $(echo $DS_PIDS) 2>/dev/null
sleep 0.2
ds sync
ds_expect_rc 4 "dead supplier"
ds_expect_grep "127.0.0.1:$port" "$T/err" "names the URL"
exit 0
