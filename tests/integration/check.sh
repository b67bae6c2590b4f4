#!/bin/sh
# dropstock check: live single-SKU checks against the mock supplier's
# /check/SKU route: cached against live figures, exit status 0 / 7 / 4 / 2,
# --json, --supplier with a supplier SKU, --timeout, and the stock log.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

command -v sqlite3 > /dev/null 2>&1 || {
	echo "SKIP: the sqlite3 shell is not installed"
	exit 77
}

# The mock's catalogue; rewritten (atomically) to change the live figures.
items() { # JSON-ARRAY
	printf '%s\n' "$1" > "$T/items.tmp"
	mv "$T/items.tmp" "$T/items.json"
}
items '[{"sku": "AC-1", "stock": 5, "updated_at": "2026-11-27T08:00:00Z"},
        {"sku": "AC 2/b", "stock": 3},
        {"sku": "DN-1", "stock": 4},
        {"sku": "SL-1", "stock": 6}]'

ds_mock_start --items "$T/items.json"
URL=$MOCK_URL
ds_mock_start --items "$T/items.json" --check-fail-status 500
URL_FAILING=$MOCK_URL
ds_mock_start --items "$T/items.json" --check-delay-ms 3000
URL_SLOW=$MOCK_URL

# A supplier with a check source, one without, one whose /check fails and
# one whose /check is slow.
sup() { # SLUG URL CHECK-GROUP
	ds_supplier "$1" <<EOC
slug = "$1";
source = {
	url = "$2/items";
	format = "json";
	map = { items = "data.items"; sku = "sku"; stock = "stock"; updated_at = "updated_at"; };
};
retries = 0;
$3
EOC
}
sup acme "$URL" "check = { url = \"$URL/check/{sku}\"; map = { sku = \"sku\"; stock = \"stock\"; }; };"
cat > "$T/beta.csv" <<'EOF'
sku,stock
B-1,2
EOF
ds_supplier beta <<EOC
slug = "beta";
source = { url = "file://$T/beta.csv"; format = "csv"; map = { sku = "sku"; stock = "stock"; }; };
EOC
sup down "$URL_FAILING" \
	"check = { url = \"$URL_FAILING/check/{sku}\"; map = { sku = \"sku\"; stock = \"stock\"; }; };"
sup slow "$URL_SLOW" \
	"check = { url = \"$URL_SLOW/check/{sku}\"; map = { sku = \"sku\"; stock = \"stock\"; }; timeout = 5; };"

cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P1,Two suppliers,acme,AC-1
P1,Two suppliers,beta,B-1
P2,Failing check,down,DN-1
P3,Slow check,slow,SL-1
P4,Unknown at the supplier,acme,GONE
P5,Odd SKU,acme,AC 2/b
EOF
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"
ds sync
# GONE is not in the feed: the sync of acme still succeeds
ds_expect_rc 0 "first sync"
ds_expect_eq "$(ds_sql "SELECT stock FROM products WHERE sku = 'P1'")" 7 "P1 after the sync"

# ---- help and usage ----
ds check --help
ds_expect_rc 0 "check --help"
ds_expect_grep "^Usage: dropstock check" "$T/out" "check --help"
ds check
ds_expect_rc 2 "check without a SKU"
ds check P1 P2
ds_expect_rc 2 "check with two SKUs"
ds check P1 --qty 0
ds_expect_rc 2 "check --qty 0"
ds check P1 --timeout soon
ds_expect_rc 2 "check --timeout soon"
ds check P1 --supplier nobody
ds_expect_rc 2 "check --supplier nobody"
ds check NO-SUCH
ds_expect_rc 2 "unknown product"
ds_expect_grep "no product with SKU NO-SUCH" "$T/err" "unknown product named"

# ---- the live figure updates the cache: cached 5, live 8 ----
items '[{"sku": "AC-1", "stock": 8, "updated_at": "2026-11-27T09:00:00Z"},
        {"sku": "AC 2/b", "stock": 3},
        {"sku": "DN-1", "stock": 4},
        {"sku": "SL-1", "stock": 6}]'
ds check P1
ds_expect_rc 0 "check P1"
ds_expect_grep "acme AC-1: cached 5 (.* ago); live 8" "$T/out" "acme cached and live"
ds_expect_grep "beta B-1: cached 2 .*live checks are not available for supplier beta (no check source configured)" \
	"$T/out" "beta has no check source"
ds_expect_grep "^P1: stock 10 (cached 7): 1 can be sold" "$T/out" "product line"
ds_expect_eq "$(ds_sql "SELECT supplier_stock FROM supplier_links WHERE supplier_sku = 'AC-1'")" 8 \
	"cache updated"
ds_expect_eq "$(ds_sql "SELECT stock FROM products WHERE sku = 'P1'")" 10 "product updated"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log WHERE source = 'check'")" 1 "one check log row"

# the stock log shows where the figure came from
ds history --source check
ds_expect_rc 0 "history --source check"
ds_expect_grep "AC-1" "$T/out" "history lists the checked SKU"
ds_expect_grep "check" "$T/out" "history shows source check"
ds history --json --source check
ds_expect_rc 0 "history --json"
[ "$(sqlite3 -batch -noheader :memory: \
	"SELECT json_extract(CAST(readfile('$T/out') AS TEXT), '\$.history[0].source')")" = check ] ||
	ds_fail "history JSON: source is not check"

# ---- not enough: exit 7 ----
ds check P1 --qty 11
ds_expect_rc 7 "check P1 --qty 11"
ds_expect_grep "^P1: stock 10 (cached 10): 11 cannot be sold" "$T/out" "not available line"
ds check P1 -n 10
ds_expect_rc 0 "check P1 -n 10"

# a product at 0 is unavailable
items '[{"sku": "AC-1", "stock": 0, "updated_at": "2026-11-27T10:00:00Z"},
        {"sku": "AC 2/b", "stock": 0},
        {"sku": "DN-1", "stock": 4},
        {"sku": "SL-1", "stock": 6}]'
ds check P5
ds_expect_rc 7 "P5 went to 0"
ds_expect_grep "acme AC 2/b: cached 3 .*; live 0" "$T/out" "a SKU with a space and a slash is asked"

# ---- --json ----
J() { # PATH
	sqlite3 -batch -noheader :memory: \
		"SELECT json_extract(CAST(readfile('$T/out') AS TEXT), '$1')"
}
ds check P1 --json --qty 2
ds_expect_rc 0 "check --json"
[ "$(sqlite3 -batch -noheader :memory: "SELECT json_valid(CAST(readfile('$T/out') AS TEXT))")" = 1 ] ||
	{ cat "$T/out"; ds_fail "--json: not valid JSON"; }
ds_expect_eq "$(J '$.sku')" P1 "json sku"
ds_expect_eq "$(J '$.requested')" 2 "json requested"
ds_expect_eq "$(J '$.stock')" 2 "json stock (0 + 2)"
ds_expect_eq "$(J '$.cached_stock')" 10 "json cached_stock"
ds_expect_eq "$(J '$.ok')" 1 "json ok"
ds_expect_grep '"checked_at": "20[0-9-]*T[0-9:.]*Z"' "$T/out" "json checked_at"
ds_expect_eq "$(J '$.suppliers[0].supplier')" acme "json first supplier"
ds_expect_eq "$(J '$.suppliers[0].supplier_sku')" AC-1 "json supplier_sku"
ds_expect_eq "$(J '$.suppliers[0].cached')" 8 "json cached"
ds_expect_eq "$(J '$.suppliers[0].live')" 0 "json live"
ds_expect_eq "$(J '$.suppliers[0].asked')" 1 "json asked"
ds_expect_eq "$(J '$.suppliers[0].error')" "" "json error null"
ds_expect_grep '"cached_at": "20' "$T/out" "json cached_at is a time"
ds_expect_eq "$(J '$.suppliers[1].supplier')" beta "json second supplier"
ds_expect_eq "$(J '$.suppliers[1].asked')" 0 "json beta not asked"
ds_expect_grep '"live": null' "$T/out" "json beta live null"
ds_expect_eq "$(J '$.suppliers[1].error')" \
	"live checks are not available for supplier beta (no check source configured)" "json beta error"
ds check P1 --json --qty 3
ds_expect_rc 7 "check --json unavailable"
ds_expect_eq "$(J '$.ok')" 0 "json ok false"

# ---- --supplier: the SKU is the supplier's ----
ds check AC-1 --supplier acme
ds_expect_rc 0 "check --supplier acme AC-1"
ds_expect_grep "^P1: stock 2" "$T/out" "finds the product by supplier SKU"
ds_expect_no_grep "beta" "$T/out" "only the named supplier is asked"
ds check B-1 --supplier acme
ds_expect_rc 2 "a SKU the supplier has no link for"

# ---- a supplier that cannot be asked: exit 4, answer from the cache ----
ds check P2
ds_expect_rc 4 "failing supplier"
ds_expect_grep "down DN-1: cached 4 .*no live answer: .*500" "$T/out" "the failure is shown"
ds_expect_grep "^P2: stock 4 (cached 4): 1 can be sold" "$T/out" "the cached answer is still given"
ds_expect_grep "rests on" "$T/out" "says the answer rests on the cache"
ds check P2 --json
ds_expect_rc 4 "failing supplier, --json"
ds_expect_eq "$(J '$.suppliers[0].asked')" 1 "json: asked"
ds_expect_grep '"live": null' "$T/out" "json: no live figure"
case "$(J '$.suppliers[0].error')" in
*500*) ;;
*) cat "$T/out"; ds_fail "json: the error names the HTTP status" ;;
esac

# 404: the supplier does not know the SKU; the cache stays
ds check P4
ds_expect_rc 4 "404"
ds_expect_grep "supplier acme does not know SKU GONE (HTTP 404)" "$T/out" "404 message"

# --timeout: a slow supplier is given up after the given time
start=$(date +%s)
ds check P3 --timeout 0.3
ds_expect_rc 4 "slow supplier with --timeout 0.3"
[ $(( $(date +%s) - start )) -lt 3 ] || ds_fail "--timeout 0.3 was not honoured"
ds_expect_eq "$(ds_sql "SELECT supplier_stock FROM supplier_links WHERE supplier_sku = 'SL-1'")" 6 \
	"slow: cache unchanged"

# -q: nothing on stdout, failures on stderr, same exit status
"$DROPSTOCK" -q check P2 > "$T/out" 2> "$T/err"
RC=$?
ds_expect_rc 4 "-q check P2"
[ -s "$T/out" ] && ds_fail "-q printed to stdout"
ds_expect_grep "DN-1" "$T/err" "-q: the failure on stderr"

exit 0
