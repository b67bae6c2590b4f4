#!/bin/sh
# The mass-change guard and `dropstock approve`, on local JSON feeds the test
# rewrites between syncs: a new catalogue's first values never trip it; a
# run with few changes applies as before; a run changing most links, or
# dropping most in-stock links to 0 (zero-missing included), stops with
# status needs_approval and exit status 8 having applied nothing; approve
# applies it (newer figures win, a dry run writes nothing); a newer run
# supersedes one still waiting; the guard can be turned off per supplier;
# a small supplier is not guarded.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

feed() { # SLUG COUNT STOCK [FIRST-COUNT FIRST-STOCK]: $T/SLUG.json, SKU-A000..;
	# the first FIRST-COUNT items get FIRST-STOCK instead
	awk -v n="$2" -v s="$3" -v fn="${4:-0}" -v fs="${5:-0}" 'BEGIN {
		printf "{\"success\":true,\"data\":{\"items\":["
		for (i = 0; i < n; i++)
			printf "%s{\"sku\":\"SKU-A%03d\",\"qty\":%d}", (i ? "," : ""), i, (i < fn ? fs : s)
		printf "]}}\n"
	}' > "$T/$1.json.tmp" && mv "$T/$1.json.tmp" "$T/$1.json"
}
feed_current() { # SLUG: a feed of the raw figures the database holds now
	{
		printf '{"success":true,"data":{"items":['
		ds_sql "SELECT group_concat('{\"sku\":\"' || supplier_sku || '\",\"qty\":' || raw_stock || '}', ',')
			FROM (SELECT l.supplier_sku, l.raw_stock FROM supplier_links l
			JOIN suppliers s ON s.id = l.supplier_id WHERE s.slug = '$1' ORDER BY 1)"
		printf ']}}\n'
	} > "$T/$1.json.tmp" && mv "$T/$1.json.tmp" "$T/$1.json"
}
supplier() { # SLUG [EXTRA-LINES]
	ds_supplier "$1" <<EOC
slug = "$1";
source = { url = "file://$T/$1.json"; format = "json";
	map = { items = "data.items"; sku = "sku"; stock = "qty"; success = "success"; }; };
${2:-}
EOC
}
links() { # SLUG N: products P-SLUG-000.. linked to SKU-A000..
	awk -v n="$2" -v s="$1" 'BEGIN { print "product_sku,product_name,supplier_slug,supplier_sku"
		for (i = 0; i < n; i++) printf "P-%s-%03d,Product %d,%s,SKU-A%03d\n", s, i, i, s, i }' \
		> "$T/links.csv"
	ds link import "$T/links.csv"
	ds_expect_rc 0 "import $1"
}
total() { ds_sql "SELECT COALESCE(SUM(p.stock), 0) FROM products p WHERE p.sku LIKE 'P-$1-%'"; }
last_run() { ds_sql "SELECT id FROM sync_runs ORDER BY id DESC LIMIT 1"; }
status() { ds_sql "SELECT status FROM sync_runs WHERE id = $1"; }
count() { ds_sql "SELECT COUNT(*) FROM $1"; }

supplier g
links g 100

# ---- 1. a new catalogue: 100 first values are not a mass change ----
feed g 100 5
ds sync --supplier g
ds_expect_rc 0 "first sync of a new catalogue"
ds_expect_eq "$(total g)" 500 "first values applied"
ds_expect_eq "$(ds_sql "SELECT COALESCE(guard_reason, 'none') FROM sync_runs")" none \
	"no guard reason"
ds_expect_eq "$(count run_items)" 0 "nothing left staged"

# ---- 2. a normal run with few changes applies as before ----
feed g 100 5 10 7
log_before=$(count stock_log)
ds sync --supplier g
ds_expect_rc 0 "10% changed"
ds_expect_eq "$(total g)" 520 "10 links 5 -> 7"
ds_expect_eq "$(ds_sql "SELECT status || '|' || changed FROM sync_runs WHERE id = $(last_run)")" \
	"succeeded|10" "run succeeded with its count"
ds_expect_eq "$(count stock_log)" $((log_before + 10)) "10 changes logged"
ds_expect_eq "$(count run_items)" 0 "staged items deleted"
ds_expect_grep " 5 -> 7" "$T/out" "changes printed"

# ---- 3. 80 of 100 links changing: the guard stops the run ----
# (A000-A009 7 -> 9, A010-A079 5 -> 9, A080-A099 stay at 5)
feed g 100 5 80 9
log_before=$(count stock_log)
out_before=$(count outbox)
ds sync --supplier g
ds_expect_rc 8 "mass change"
RUN=$(last_run)
ds_expect_grep "would change 80% of 100 links (limit 50%)" "$T/err" "reason printed"
ds_expect_grep "dropstock approve $RUN" "$T/err" "says how to approve"
ds_expect_eq "$(status "$RUN")" needs_approval "status"
ds_expect_eq "$(ds_sql "SELECT guard_reason FROM sync_runs WHERE id = $RUN")" \
	"would change 80% of 100 links (limit 50%)" "guard_reason recorded"
ds_expect_eq "$(total g)" 520 "nothing applied"
ds_expect_eq "$(count stock_log)" "$log_before" "nothing logged"
ds_expect_eq "$(count outbox)" "$out_before" "no events"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM run_items WHERE run_id = $RUN")" 80 \
	"the 80 changes are staged"
ds_expect_eq "$(ds_sql "SELECT seen FROM sync_runs WHERE id = $RUN")" 100 "items counted"

# JSON says so too (a dry run: nothing recorded, the guard's verdict shown)
ds sync --supplier g --dry-run --json
ds_expect_rc 0 "dry run"
ds_expect_grep '"guard_reason": "would change 80% of 100 links (limit 50%)"' "$T/out" \
	"dry run names what the guard would do"

# approve: bad ids and options
ds approve
ds_expect_rc 2 "approve without a run id"
ds approve banana
ds_expect_rc 2 "approve with a bad run id"
ds approve 999999
ds_expect_rc 2 "approve an unknown run"
ds_expect_grep "no run 999999" "$T/err" "says no such run"
ds approve 1
ds_expect_rc 2 "approve a run that succeeded"
ds_expect_grep "not waiting for approval" "$T/err" "says why"

# approve --dry-run lists the changes and writes nothing
ds approve "$RUN" --dry-run
ds_expect_rc 0 "approve --dry-run"
ds_expect_grep " 7 -> 9" "$T/out" "lists the changes"
ds_expect_grep " 5 -> 9" "$T/out" "lists the changes (2)"
ds_expect_grep "would apply 80 changes" "$T/out" "counts them"
ds_expect_eq "$(total g)" 520 "dry run applied nothing"
ds_expect_eq "$(status "$RUN")" needs_approval "still waiting"
ds_expect_eq "$(count stock_log)" "$log_before" "dry run logged nothing"

# a figure newer than the run's wins: SKU-A000 was synced after the run
A000="supplier_sku = 'SKU-A000' AND supplier_id = (SELECT id FROM suppliers WHERE slug = 'g')"
synced=$(ds_sql "SELECT synced_at FROM supplier_links WHERE $A000")
ds_sql "UPDATE supplier_links SET synced_at = synced_at + 86400000 WHERE $A000"
ds approve "$RUN"
ds_expect_rc 0 "approve"
ds_expect_grep "approved" "$T/out" "says approved"
ds_expect_grep " 7 -> 9" "$T/out" "prints what changed"
ds_expect_eq "$(status "$RUN")" succeeded "run succeeded"
ds_expect_eq "$(ds_sql "SELECT changed || '|' || stale || '|' || seen FROM sync_runs WHERE id = $RUN")" \
	"79|1|100" "final counts: 79 changed, the newer one stale"
ds_expect_eq "$(total g)" $((520 + 9 * 2 + 70 * 4)) "9 links 7 -> 9, 70 links 5 -> 9"
ds_expect_eq "$(ds_sql "SELECT supplier_stock FROM supplier_links WHERE $A000")" \
	7 "the newer figure was kept"
ds_sql "UPDATE supplier_links SET synced_at = $synced WHERE $A000"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log WHERE run_id = $RUN")" 79 \
	"logged under the run"
[ "$(count outbox)" -gt "$out_before" ] || ds_fail "approve queued no events"
ds_expect_eq "$(count run_items)" 0 "staged items deleted"
ds approve "$RUN"
ds_expect_rc 2 "approve twice"

# ---- 4. a newer run supersedes one still waiting ----
feed g 100 9 90 1
ds sync --supplier g
ds_expect_rc 8 "trips again"
OLD=$(last_run)
feed g 100 9 90 2
ds sync --supplier g
ds_expect_rc 8 "and again"
NEW=$(last_run)
ds_expect_eq "$(status "$OLD")" failed "the older run is superseded"
ds_expect_grep "superseded by run $NEW" "$(ds_sql "SELECT error FROM sync_runs WHERE id = $OLD" > "$T/e"; echo "$T/e")" \
	"its error says by which run"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM run_items WHERE run_id = $OLD")" 0 \
	"its staged items are gone"
ds approve "$OLD"
ds_expect_rc 2 "a superseded run cannot be approved"
# back to the figures the store has: within limits, and it supersedes the rest
feed_current g
ds sync --supplier g
ds_expect_rc 0 "back to normal"
ds_expect_eq "$(status "$NEW")" failed "superseded by a run that succeeded"
ds_expect_eq "$(count run_items)" 0 "nothing staged any more"

# ---- 5. the zero-drop rule: 60 of 100 in-stock links to 0 ----
supplier z 'guard = { max_changed_pct = 90; };'
links z 100
feed z 100 4
ds sync --supplier z
ds_expect_rc 0 "z: first sync"
feed z 100 4 60 0
ds sync --supplier z
ds_expect_rc 8 "z: 60% to zero"
ds_expect_grep "would set 60% of 100 in-stock links to 0 (limit 50%)" "$T/err" "zero reason"
ds_expect_eq "$(total z)" 400 "z: nothing applied"
ZRUN=$(last_run)
ds approve "$ZRUN"
ds_expect_rc 0 "z: approve"
ds_expect_eq "$(total z)" 160 "z: 60 links at 0"

# ---- 6. zero-missing candidates count as drops to 0, and are approved ----
supplier m 'rules = { zero_missing = true; zero_missing_max_pct = 100; };'
links m 50
feed m 50 3
ds sync --supplier m
ds_expect_rc 0 "m: first sync"
feed m 20 3
ds sync --supplier m
ds_expect_rc 8 "m: 30 of 50 missing"
ds_expect_grep "would set 60% of 50 in-stock links to 0" "$T/err" "m: missing ones count"
ds_expect_eq "$(total m)" 150 "m: nothing zeroed"
MRUN=$(last_run)
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM run_items WHERE run_id = $MRUN AND position = -1")" \
	30 "m: candidates staged"
ds approve "$MRUN"
ds_expect_rc 0 "m: approve"
ds_expect_eq "$(total m)" 60 "m: 30 zeroed"
ds_expect_eq "$(ds_sql "SELECT zeroed || '|' || status FROM sync_runs WHERE id = $MRUN")" \
	"30|succeeded" "m: zeroed counted"
# within limits (5 of 20 in stock missing), zero-missing works as before
feed m 15 3
ds sync --supplier m
ds_expect_rc 0 "m: 5 missing"
ds_expect_eq "$(total m)" 45 "m: 5 more zeroed"
ds_expect_eq "$(ds_sql "SELECT zeroed FROM sync_runs WHERE id = $(last_run)")" 5 "m: counted"

# ---- 7. the guard off for a supplier ----
supplier o 'guard = { enabled = false; };'
links o 50
feed o 50 2
ds sync --supplier o
ds_expect_rc 0 "o: first sync"
feed o 50 6
ds sync --supplier o
ds_expect_rc 0 "o: guard off, 100% changed"
ds_expect_eq "$(total o)" 300 "o: applied"

# ---- 8. fewer than 20 links: not guarded ----
supplier s
links s 19
feed s 19 1
ds sync --supplier s
ds_expect_rc 0 "s: first sync"
feed s 19 0
ds sync --supplier s
ds_expect_rc 0 "s: a small supplier is not guarded"
ds_expect_eq "$(total s)" 0 "s: applied"

# ---- 9. several suppliers: one stopped, the others synced: exit 8 ----
feed g 100 1
feed o 50 8
ds sync
ds_expect_rc 8 "one supplier waits for approval"
ds_expect_eq "$(total o)" 400 "o synced"
ds_expect_grep "needs approval" "$T/err" "g's reason"

# ---- 10. the daemon: a run stopped by the guard is final, never retried ----
ds_conf 'daemon = { full = "off"; backoff = ( 0.2 ); };'
DLOG=$T/daemon.log
"$DROPSTOCK" daemon --no-serve 2> "$DLOG" &
DAEMON_PID=$!
DS_PIDS="$DS_PIDS $DAEMON_PID"
wait_for() { # SECONDS MESSAGE COMMAND...
	secs=$1 msg=$2
	shift 2
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -gt $((secs * 10)) ] && { cat "$DLOG"; ds_fail "$msg"; }
		sleep 0.1
	done
}
waiting() { [ "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE status = 'needs_approval'")" = 1 ]; }
wait_for 10 "the daemon did not start" grep -q "daemon started" "$DLOG"
before=$(count sync_runs)
ds run-now g
ds_expect_rc 0 "run-now with a daemon"
wait_for 15 "the daemon's run did not stop for approval" waiting
sleep 1
DRUN=$(ds_sql "SELECT id FROM sync_runs WHERE status = 'needs_approval'")
ds_expect_eq "$(ds_sql "SELECT \"trigger\" FROM sync_runs WHERE id = $DRUN")" manual \
	"the daemon ran it"
ds_expect_eq "$(count sync_runs)" $((before + 1)) "no retry queued"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs WHERE retry_of = $DRUN")" 0 \
	"nothing retries it"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || { cat "$DLOG"; ds_fail "daemon exit status"; }
ds approve "$DRUN"
ds_expect_rc 0 "approve the daemon's run"
ds_expect_eq "$(total g)" 100 "g: 100 x 1"

ds_sql "PRAGMA integrity_check" | grep -q '^ok$' || ds_fail "integrity check"
exit 0
