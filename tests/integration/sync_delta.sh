#!/bin/sh
# Delta sync: the first delta falls back to a full sync, later ones ask for
# changes since the watermark minus the overlap, and a failed delta leaves
# the watermark where it was.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

items() { # STOCK UPDATED [COUNT]
	awk -v s="$1" -v u="$2" -v n="${3:-50}" 'BEGIN {
		printf "["
		for (i = 0; i < n; i++) printf "%s{\"sku\":\"SKU-%07d\",\"stock\":%d,\"updated_at\":\"%s\"}", (i ? "," : ""), i, s, u
		printf "]\n"
	}' > "$T/items.tmp" && mv "$T/items.tmp" "$T/items.json"
}
supplier() { # DELTA-PATH SINCE-FORMAT
	ds_json_supplier d "$MOCK_URL/items" page "" "delta = { url = \"$MOCK_URL$1\"; since_format = \"$2\"; overlap = 120; };"
}
wm() { ds_sql "SELECT delta_watermark FROM suppliers WHERE slug = 'd'"; }

items 5 2026-11-01T00:00:00Z
ds_mock_start --items "$T/items.json" --log "$T/requests.log"
supplier /items iso
ds_links 50 d

ds sync --delta
ds_expect_rc 0 "first delta"
ds_expect_grep "full sync ran instead" "$T/out" "says it fell back to full"
ds_expect_eq "$(ds_sql "SELECT kind FROM sync_runs ORDER BY id DESC LIMIT 1")" full "ran as full"
ds_expect_eq "$(wm)" 1793491200000 "watermark = newest updated_at"

items 7 2026-11-02T10:00:00Z 3
ds sync --delta
ds_expect_rc 0 "second delta"
grep -q 'updated_since=2026-10-31T23%3A58%3A00Z\|updated_since=2026-10-31T23:58:00Z' "$T/requests.log" ||
	{ cat "$T/requests.log"; ds_fail "since parameter not watermark minus overlap"; }
ds_expect_eq "$(ds_sql "SELECT kind FROM sync_runs ORDER BY id DESC LIMIT 1")" delta "ran as delta"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log WHERE source = 'delta'")" 3 "3 delta changes"
ds_expect_eq "$(ds_sql "SELECT SUM(stock) FROM products")" $((47 * 5 + 3 * 7)) "stock after delta"
ds_expect_eq "$(wm)" 1793613600000 "watermark moved to the newest updated_at"

# A failing delta source: the run fails, the watermark stays.
supplier /missing iso
ds sync --delta
ds_expect_rc 4 "failed delta"
ds_expect_eq "$(wm)" 1793613600000 "watermark unchanged after a failure"

# Unix seconds.
supplier /items unix
: > "$T/requests.log"
ds sync --delta
ds_expect_rc 0 "unix delta"
grep -q "updated_since=$((1793613600 - 120))" "$T/requests.log" ||
	{ cat "$T/requests.log"; ds_fail "unix since parameter"; }

# A supplier without a delta source, named explicitly: configuration error.
ds_json_supplier d "$MOCK_URL/items" page ""
ds sync --delta --supplier d
ds_expect_rc 3 "no delta source"
ds_expect_grep "no delta source" "$T/err" "says so"
exit 0
