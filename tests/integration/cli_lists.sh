#!/bin/sh
# The read/admin commands: link import/add/remove, suppliers, runs, history
# (filters, pages, JSON), unknown, export (CSV, JSON), and --help of each.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

# A local JSON feed: three linked SKUs and one (X-9) linked to nothing.
cat > "$T/feed.json" <<'EOF'
{"items": [
  {"sku": "X-1", "qty": 5},
  {"sku": "X-2", "qty": 0},
  {"sku": "X-3", "qty": "12"},
  {"sku": "X-9", "qty": 3}
]}
EOF
ds_supplier x <<EOC
slug = "x";
name = "X Supplies";
source = {
	url = "file://$T/feed.json";
	format = "json";
	paging = "none";
	map = {
		items = "items";
		sku = "sku";
		stock = "qty";
	};
};
EOC

# JSON validity, when a sqlite3 shell is there to judge it.
json_ok() { # FILE MESSAGE
	command -v sqlite3 > /dev/null 2>&1 || return 0
	v=$(sqlite3 -batch -noheader :memory: "SELECT json_valid(CAST(readfile('$1') AS TEXT))")
	[ "$v" = 1 ] || { cat "$1"; ds_fail "$2: not valid JSON"; }
}

# ---- --help of every command: usage on stdout, status 0 ----
for cmd in suppliers runs history unknown export link; do
	ds "$cmd" --help
	ds_expect_rc 0 "$cmd --help"
	ds_expect_grep "^Usage: dropstock $cmd" "$T/out" "$cmd --help"
done
for sub in import add remove; do
	ds link "$sub" --help
	ds_expect_rc 0 "link $sub --help"
	ds_expect_grep "^Usage: dropstock link" "$T/out" "link $sub --help"
done
ds history --bogus
ds_expect_rc 2 "history with a bad option"
ds_expect_grep "Usage: dropstock history" "$T/err" "bad option prints the usage to stderr"
ds history --source nightly
ds_expect_rc 2 "history --source nightly"
ds export --format yaml
ds_expect_rc 2 "export --format yaml"
ds link
ds_expect_rc 2 "link without a subcommand"

# ---- link import ----
cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P-1,"Mug, blue",x,X-1
P-2,Plate,x,X-2
P-3,Cup,x,X-3
EOF
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"
ds_expect_grep "imported 3 links" "$T/out" "link import count"

# ---- suppliers ----
ds suppliers
ds_expect_rc 0 "suppliers"
ds_expect_grep "^SLUG" "$T/out" "suppliers header"
ds_expect_grep "^x  *X Supplies  *yes  *100  *3  *never" "$T/out" "suppliers row with 3 links"
ds suppliers --json
ds_expect_rc 0 "suppliers --json"
json_ok "$T/out" "suppliers --json"
ds_expect_grep '"slug":"x","name":"X Supplies","active":true,"configured":true,"priority":100,"links":3,"last_full_at":null' \
	"$T/out" "suppliers --json fields"

# ---- before any sync ----
ds history
ds_expect_rc 0 "history, empty"
ds_expect_grep "no stock changes match" "$T/out" "history, empty"
ds runs
ds_expect_rc 0 "runs, empty"
ds_expect_grep "no sync runs" "$T/out" "runs, empty"

# ---- sync ----
ds sync --supplier x
ds_expect_rc 0 "sync --supplier x"

ds runs
ds_expect_rc 0 "runs"
ds_expect_grep "^ *1  *x  *full  .*succeeded" "$T/out" "runs lists the sync"
ds runs --supplier x --limit 1 --json
ds_expect_rc 0 "runs --json"
json_ok "$T/out" "runs --json"
ds_expect_grep '"id":1,"supplier":"x","kind":"full",.*"status":"succeeded"' "$T/out" "runs --json fields"
ds_expect_grep '"seen":4,' "$T/out" "runs --json: 4 items seen"
ds runs --supplier nope
ds_expect_rc 2 "runs --supplier nope"
ds_expect_grep "nope" "$T/err" "unknown supplier named"

ds suppliers
ds_expect_grep "^x .* ago) succeeded" "$T/out" "suppliers shows the last full sync"

# one outbox event per product change: P-1 0 -> 5 and P-3 0 -> 12 are
# back_in_stock each, with no stock_changed besides; P-2 stays 0
if command -v sqlite3 > /dev/null 2>&1; then
	ds_expect_eq "$(ds_sql "SELECT group_concat(p.sku || ':' || o.kind, ' ') FROM
	                        (SELECT * FROM outbox ORDER BY id) o
	                        JOIN products p ON p.id = o.product_id")" \
		"P-1:back_in_stock P-3:back_in_stock" "one event per changed product after the sync"
fi

# ---- history ----
ds history
ds_expect_rc 0 "history"
ds_expect_grep "^WHEN" "$T/out" "history header"
ds_expect_grep " X-1  *P-1  .*-> 5  *full" "$T/out" "history: X-1 -> 5"
ds_expect_grep " X-3  *P-3  .*-> 12  *full" "$T/out" "history: X-3 -> 12"
ds history --json
ds_expect_rc 0 "history --json"
json_ok "$T/out" "history --json"
ds_expect_grep '"supplier":"x","supplier_sku":"X-1","product_sku":"P-1","product_name":"Mug, blue","prev_stock":null,"new_stock":5,"source":"full","run_id":1' \
	"$T/out" "history --json fields"
ds_expect_grep '"next_cursor":null}' "$T/out" "history --json: one page"

ds history --sku x-3
ds_expect_rc 0 "history --sku"
ds_expect_grep " X-3 " "$T/out" "history --sku x-3 (any case) finds X-3"
ds_expect_no_grep " X-1 " "$T/out" "history --sku x-3 leaves out X-1"
ds history --sku P-1 --json
ds_expect_grep '"supplier_sku":"X-1"' "$T/out" "history --sku matches the product sku"
ds_expect_no_grep '"supplier_sku":"X-3"' "$T/out" "history --sku P-1 leaves out X-3"
ds history --source webhook
ds_expect_rc 0 "history --source webhook"
ds_expect_grep "no stock changes match" "$T/out" "no webhook changes"
ds history --source full --supplier x --since 1h
ds_expect_grep " X-1 " "$T/out" "history --source full --since 1h"
ds history --since 2099-01-01
ds_expect_grep "no stock changes match" "$T/out" "history --since in the future"
ds history --supplier nope
ds_expect_rc 2 "history --supplier nope"
ds_expect_grep "nope" "$T/err" "history: unknown supplier named"

# pages: one change per page, following the cursor, never repeating a row
ds history --limit 1000 --json
N=$(grep -c '"recorded_at"' "$T/out")
[ "$N" -ge 2 ] || ds_fail "expected at least 2 stock changes, got $N"
ds history --limit 1 --json
CUR=$(sed -n 's/.*"next_cursor":"\([0-9.]*\)".*/\1/p' "$T/out")
[ -n "$CUR" ] || ds_fail "history --limit 1 gave no next_cursor"
FIRST=$(grep -c '"recorded_at"' "$T/out")
ds_expect_eq "$FIRST" 1 "history --limit 1: one row"
SEEN=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$T/out")
pages=1
while [ -n "$CUR" ]; do
	ds history --limit 1 --after "$CUR" --json
	ds_expect_rc 0 "history --after $CUR"
	id=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$T/out")
	[ -n "$id" ] || break
	case " $SEEN " in *" $id "*) ds_fail "history page repeats change $id" ;; esac
	SEEN="$SEEN $id"
	pages=$((pages + 1))
	[ $pages -le "$N" ] || ds_fail "history pages never end"
	CUR=$(sed -n 's/.*"next_cursor":"\([0-9.]*\)".*/\1/p' "$T/out")
done
ds_expect_eq "$pages" "$N" "history pages cover every change once"
ds history --limit 1
ds_expect_grep "--after [0-9]*\.[0-9]*" "$T/out" "history prints how to get the next page"
ds history --after bogus
ds_expect_rc 2 "history --after bogus"

# ---- export ----
ds export
ds_expect_rc 0 "export"
ds_expect_grep "^sku,name,stock,available,updated_at$" "$T/out" "export csv header"
ds_expect_grep '^P-1,"Mug, blue",5,1,20[0-9-]*T' "$T/out" "export csv P-1"
ds_expect_grep '^P-3,Cup,12,1,' "$T/out" "export csv P-3"
ds_expect_grep '^P-2,Plate,0,0,' "$T/out" "export csv P-2"
ds export --format json
ds_expect_rc 0 "export --format json"
json_ok "$T/out" "export --format json"
ds_expect_grep '^{"products":\[' "$T/out" "export json document"
ds_expect_grep '"sku":"P-1","name":"Mug, blue","stock":5,"available":true,"updated_at":"20' \
	"$T/out" "export json P-1"
ds_expect_grep '"sku":"P-3","name":"Cup","stock":12,"available":true' "$T/out" "export json P-3"
ds export --changed-since 2099-01-01
ds_expect_rc 0 "export --changed-since"
LINES=$(wc -l < "$T/out")
ds_expect_eq "$LINES" 1 "export --changed-since the future: header only"
ds export --changed-since 1h
ds_expect_grep '^P-1,' "$T/out" "export --changed-since 1h"

# ---- unknown, link add, link remove ----
ds unknown
ds_expect_rc 0 "unknown"
ds_expect_grep "^x  *X-9  *3 " "$T/out" "unknown lists X-9 with its stock"
ds_expect_no_grep " X-1 " "$T/out" "unknown leaves out linked SKUs"
ds unknown --supplier x --json
json_ok "$T/out" "unknown --json"
ds_expect_grep '"supplier":"x","supplier_sku":"X-9",.*"last_stock":3' "$T/out" "unknown --json fields"
ds unknown --supplier nope
ds_expect_rc 2 "unknown --supplier nope"

ds link add P-9 x X-9 --name "Nine"
ds_expect_rc 0 "link add"
ds unknown
ds_expect_no_grep "X-9" "$T/out" "linked SKU no longer unknown"
ds_expect_grep "no unknown SKUs" "$T/out" "unknown, empty"
ds suppliers --json
ds_expect_grep '"links":4' "$T/out" "suppliers counts the added link"

if command -v sqlite3 > /dev/null 2>&1; then
	EVENTS=$(ds_sql "SELECT count(*) FROM outbox")
fi
ds link remove x X-1
ds_expect_rc 0 "link remove"
ds_expect_grep "removed link x:X-1 from product P-1 (stock 5 -> 0)" "$T/out" \
	"link remove names the product and its stock"
ds export
ds_expect_grep '^P-1,"Mug, blue",0,0,' "$T/out" "P-1 has no stock after its link is removed"
if command -v sqlite3 > /dev/null 2>&1; then
	ds_expect_eq "$(ds_sql "SELECT count(*) FROM outbox")" "$((EVENTS + 1))" \
		"link remove: one event"
	ds_expect_eq "$(ds_sql "SELECT o.kind || ' ' || json_extract(o.payload, '$.source')
	                        || ' ' || json_extract(o.payload, '$.supplier_sku')
	                        FROM outbox o JOIN products p ON p.id = o.product_id
	                        WHERE p.sku = 'P-1' ORDER BY o.id DESC LIMIT 1")" \
		"out_of_stock manual X-1" "link remove: out_of_stock for P-1, source manual"
	# the removed link's history stays, naming its supplier and SKU
	ds_expect_eq "$(ds_sql "SELECT count(*) FROM stock_log l JOIN suppliers s
	                        ON s.id = l.supplier_id WHERE s.slug = 'x'
	                        AND l.supplier_sku = 'X-1' AND l.link_id IS NULL")" "1" \
		"stock_log keeps X-1's change after the link is removed"
fi
ds history --sku P-1
ds_expect_rc 0 "history after link remove"
ds_expect_grep " P-1  .*-> 5  *full" "$T/out" "history still lists P-1's change"
ds link remove x X-1
ds_expect_rc 2 "link remove of a missing link"
ds_expect_grep "no such link" "$T/err" "link remove: no such link"
ds link add P-1 nope X-1
ds_expect_rc 2 "link add to an unknown supplier"
exit 0
