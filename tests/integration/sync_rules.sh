#!/bin/sh
# Zero-missing with its guard, dry runs, invalid items and unknown SKUs, on a
# local JSON feed the test rewrites between syncs.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

feed() { # COUNT STOCK [EXTRA-ITEMS]: writes $T/feed.json with SKU-A000..
	awk -v n="$1" -v s="$2" -v extra="${3:-}" 'BEGIN {
		printf "{\"success\":true,\"data\":{\"items\":["
		for (i = 0; i < n; i++) printf "%s{\"sku\":\"SKU-A%03d\",\"qty\":%d}", (i ? "," : ""), i, s
		if (extra != "") printf "%s%s", (n ? "," : ""), extra
		printf "]}}\n"
	}' > "$T/feed.json"
}
ds_supplier z <<EOC
slug = "z";
source = { url = "file://$T/feed.json"; format = "json";
	map = { items = "data.items"; sku = "sku"; stock = "qty"; success = "success"; }; };
rules = { zero_missing = true; zero_missing_max_pct = 20; };
# this test changes every link at once on purpose: no mass-change guard
guard = { enabled = false; };
EOC
awk 'BEGIN { print "product_sku,product_name,supplier_slug,supplier_sku"
	for (i = 0; i < 100; i++) printf "P-%03d,Product %d,z,SKU-A%03d\n", i, i, i }' > "$T/links.csv"
ds link import "$T/links.csv"
ds_expect_rc 0 "import"

total() { ds_sql "SELECT SUM(stock) FROM products"; }

# All 100 present, plus an unknown SKU and two invalid items.
feed 100 5 '{"sku":"NOT-LINKED","qty":3},{"qty":4},{"sku":"SKU-BAD","qty":"lots"}'
ds sync
ds_expect_rc 0 "first sync"
ds_expect_eq "$(total)" 500 "all stocked"
ds_expect_eq "$(ds_sql "SELECT unknown || '|' || invalid FROM sync_runs ORDER BY id DESC LIMIT 1")" "1|2" "unknown and invalid counted"
ds_expect_eq "$(ds_sql "SELECT supplier_sku FROM unknown_skus")" "NOT-LINKED" "unknown SKU recorded"
ds_expect_grep "lots" "$T/err" "invalid item logged with its value"

# 10 of 100 missing (10%): zeroed.
feed 90 5
ds sync
ds_expect_rc 0 "10% missing"
ds_expect_eq "$(total)" 450 "missing ones zeroed"
ds_expect_eq "$(ds_sql "SELECT zeroed FROM sync_runs ORDER BY id DESC LIMIT 1")" 10 "zeroed counted"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log WHERE new_stock = 0")" 10 "zeroing logged"

# An item that is in the feed but unreadable is not missing: its figure stays.
feed 89 5 '{"sku":"SKU-A089","qty":"plenty"}'
ds sync
ds_expect_rc 0 "an unreadable item"
ds_expect_eq "$(ds_sql "SELECT supplier_stock FROM supplier_links WHERE supplier_sku = 'SKU-A089'")" 5 "unreadable item not zeroed"
ds_expect_eq "$(ds_sql "SELECT invalid || '|' || zeroed FROM sync_runs ORDER BY id DESC LIMIT 1")" "1|0" "counted invalid, not zeroed"

# 40 more missing (40% of links): the guard refuses the whole zeroing, loudly.
feed 50 6
ds sync
ds_expect_rc 4 "guard trips"
ds_expect_grep "zero-missing refused" "$T/err" "says refused"
ds_expect_eq "$(total)" 500 "present items applied (50 x 6), the 40 missing keep 5"
ds_expect_eq "$(ds_sql "SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1")" failed "run failed"

# An empty feed never zeroes anything.
feed 0 0
ds sync
ds_expect_rc 4 "empty feed"
ds_expect_grep "empty" "$T/err" "says empty"
ds_expect_eq "$(total)" 500 "nothing zeroed"

# A dry run reports changes and writes nothing.
feed 100 9
log_before=$(ds_sql "SELECT COUNT(*) FROM stock_log")
runs_before=$(ds_sql "SELECT COUNT(*) FROM sync_runs")
out_before=$(ds_sql "SELECT COUNT(*) FROM outbox")
ds sync --dry-run
ds_expect_rc 0 "dry run"
ds_expect_grep "nothing was written" "$T/out" "says dry run"
ds_expect_grep " -> 9" "$T/out" "lists would-be changes"
ds_expect_eq "$(total)" 500 "stock untouched"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log")" "$log_before" "no log rows"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM sync_runs")" "$runs_before" "no run rows"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox")" "$out_before" "no events"

# Then the real thing.
ds sync --json
ds_expect_rc 0 "real sync"
ds_expect_eq "$(total)" 900 "applied"
ds_expect_grep '"changed": 100' "$T/out" "json counts"
exit 0
