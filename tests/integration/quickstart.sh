#!/bin/sh
# The Quick start's main job: with no configuration at all, `dropstock sync`
# runs the built-in demo (SQLite + the demo supplier) and shows real changes.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

ds sync
ds_expect_rc 0 "first demo sync"
ds_expect_grep "demo: synced" "$T/out" "summary line"
ds_expect_grep " -> " "$T/out" "changes listed"
ds_expect_grep "built-in demo" "$T/err" "says it uses the demo"
[ -f "$XDG_STATE_HOME/dropstock/dropstock.db" ] || ds_fail "database not under XDG_STATE_HOME"
DB=$XDG_STATE_HOME/dropstock/dropstock.db
changed=$(ds_sql "SELECT changed FROM sync_runs ORDER BY id DESC LIMIT 1")
[ "$changed" -gt 0 ] || ds_fail "first run changed nothing"
[ "$(ds_sql "SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1")" = succeeded ] ||
	ds_fail "run not recorded as succeeded"
[ "$(ds_sql "SELECT COUNT(*) FROM stock_log")" -gt 0 ] || ds_fail "no stock log"
[ "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE kind='back_in_stock'")" -gt 0 ] ||
	ds_fail "no back_in_stock events"
[ "$(ds_sql "SELECT COUNT(*) FROM unknown_skus")" -gt 0 ] || ds_fail "no unknown SKUs recorded"

# A second run finds nothing new.
ds sync
ds_expect_rc 0 "second demo sync"
ds_expect_grep "changed: 0," "$T/out" "second run changes nothing"
ds_expect_no_grep "built-in demo" "$T/err" "catalogue imported once"

ds sync --json
ds_expect_rc 0 "json sync"
ds_expect_grep '"status": "succeeded"' "$T/out" "json status"
ds --version
ds_expect_rc 0 "--version"
ds_expect_grep "dropstock $(echo 0)" "$T/out" "--version names the program"
exit 0
