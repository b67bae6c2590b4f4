#!/bin/sh
# dropstock revert and the preview of the HTTP service, end to end: two
# syncs with a changed feed, a signed webhook after them, a dry-run revert
# that writes nothing, the revert of the second run (stock back to the
# first run's values, the webhook's newer value left alone and listed, the
# first value left alone, events queued, the revert recorded as a run), a
# revert of the revert, refusals (unknown run, supplier being synced), and
# POST /v1/suppliers/SLUG/preview answering counts and changes while
# writing nothing.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf 'service = { api_keys = ( "key-one" ); };'
chmod 600 "$DROPSTOCK_CONFIG"     # it holds the API key

SECRET=revert-secret
ds_supplier acme <<EOC
slug = "acme";
source = {
	url = "file://$T/feed.csv";
	format = "csv";
	map = { sku = "sku"; stock = "stock"; };
};
webhook = {
	scheme = "github";
	secret = "$SECRET";
	map = { items = "items"; sku = "sku"; stock = "stock"; };
};
EOC
cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P-1,One,acme,A-1
P-2,Two,acme,A-2
P-3,Three,acme,A-3
P-4,Four,acme,A-4
P-5,Five,acme,A-5
EOF
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"

link_stock() { # SUPPLIER-SKU
	ds_sql "SELECT COALESCE(supplier_stock, 'null') FROM supplier_links WHERE supplier_sku = '$1'"
}
product_stock() { # PRODUCT-SKU
	ds_sql "SELECT stock FROM products WHERE sku = '$1'"
}
# everything a revert or a preview could write
snapshot() {
	ds_sql "SELECT (SELECT COUNT(*) FROM stock_log) || '/' || (SELECT COUNT(*) FROM outbox)
	        || '/' || (SELECT COUNT(*) FROM sync_runs) || '/' || (SELECT COUNT(*) FROM unknown_skus)
	        || '/' || (SELECT group_concat(supplier_sku || '=' || COALESCE(supplier_stock, 'n')
	                   || '@' || synced_at, ',') FROM supplier_links)
	        || '/' || (SELECT group_concat(sku || '=' || stock || '@' || updated_at, ',') FROM products)"
}
# J PATH [FILE]: a value from a JSON file (true/false read as 1/0).
J() {
	sqlite3 -batch -noheader :memory: \
		"SELECT json_extract(CAST(readfile('${2:-$T/out}') AS TEXT), '$1')"
}

# ---- two syncs: the second changes A-1..A-3, gives A-5 its first value ----
printf 'sku,stock\nA-1,10\nA-2,20\nA-3,30\nA-4,40\n' > "$T/feed.csv"
ds sync --json
ds_expect_rc 0 "first sync"
RUN1=$(J '$.results[0].run_id')
printf 'sku,stock\nA-1,0\nA-2,25\nA-3,35\nA-4,40\nA-5,5\n' > "$T/feed.csv"
ds sync --json
ds_expect_rc 0 "second sync"
RUN2=$(J '$.results[0].run_id')
ds_expect_eq "$(J '$.results[0].changed')" 4 "the second sync changed 4 links"
ds_expect_eq "$(product_stock P-1)" 0 "P-1 out of stock after the second sync"

# ---- a signed webhook after the second sync: A-3 = 50 ----
ds_serve_start

printf '{"items":[{"sku":"A-3","stock":50}]}' > "$T/hook.json"
SIG=$(openssl dgst -sha256 -hmac "$SECRET" < "$T/hook.json" | sed 's/^.*= *//')
CODE=$(curl -s -S -o "$T/body" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
	-H "X-Hub-Signature-256: sha256=$SIG" --data-binary @"$T/hook.json" \
	"$URL/webhooks/acme/stock") || ds_fail "curl webhook failed"
ds_expect_eq "$CODE" 200 "webhook accepted"
ds_expect_eq "$(link_stock A-3)" 50 "the webhook set A-3 to 50"

# ---- a dry run writes nothing ----
BEFORE=$(snapshot)
ds revert "$RUN2" --dry-run
ds_expect_rc 0 "revert --dry-run"
ds_expect_grep "Dry run" "$T/out" "dry run says so"
ds_expect_grep "A-1" "$T/out" "dry run lists A-1"
ds_expect_eq "$(snapshot)" "$BEFORE" "the dry run wrote nothing"

# ---- the revert ----
OUT0=$(ds_sql "SELECT COALESCE(MAX(id), 0) FROM outbox")
ds revert "$RUN2" --json
ds_expect_rc 0 "revert"
cp "$T/out" "$T/revert.json"
REV=$(J '$.run_id')
ds_expect_eq "$(J '$.reverted_run')" "$RUN2" "json: the run reverted"
ds_expect_eq "$(J '$.restored')" 2 "json: 2 restored (A-1, A-2)"
ds_expect_eq "$(J '$.newer')" 1 "json: 1 newer (A-3)"
ds_expect_eq "$(J '$.no_previous')" 1 "json: 1 without a previous value (A-5)"
ds_expect_eq "$(J '$.newer_items[0].supplier_sku')" A-3 "json: the newer one is A-3"
ds_expect_eq "$(J '$.newer_items[0].source')" webhook "json: changed by the webhook"
ds_expect_eq "$(J '$.newer_items[0].stock')" 50 "json: its value now"
ds_expect_eq "$(J '$.no_previous_items[0].supplier_sku')" A-5 "json: A-5 had no value"
ds_expect_eq "$(J '$.dry_run')" 0 "json: not a dry run"

ds_expect_eq "$(link_stock A-1)" 10 "A-1 back to the first sync's 10"
ds_expect_eq "$(link_stock A-2)" 20 "A-2 back to 20"
ds_expect_eq "$(link_stock A-3)" 50 "A-3 keeps the webhook's newer 50"
ds_expect_eq "$(link_stock A-4)" 40 "A-4 was not changed by the run"
ds_expect_eq "$(link_stock A-5)" 5 "A-5 keeps its first value"
ds_expect_eq "$(product_stock P-1)" 10 "P-1 back in stock"
ds_expect_eq "$(product_stock P-2)" 20 "P-2 recomputed"

# recorded as a run, logged as manual, with its events
ds_expect_eq "$(ds_sql "SELECT kind || ' ' || reverts || ' ' || status || ' ' || \"trigger\" || ' ' || changed FROM sync_runs WHERE id = $REV")" \
	"revert $RUN2 succeeded cli 2" "the revert run"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log WHERE run_id = $REV AND source = 'manual'")" 2 \
	"two history rows, source manual"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE id > $OUT0")" 2 "two events queued"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE id > $OUT0 AND kind = 'back_in_stock' AND json_extract(payload, '$.product_sku') = 'P-1' AND json_extract(payload, '$.source') = 'manual'")" 1 \
	"P-1 back_in_stock, source manual"
ds history --json
ds_expect_rc 0 "history"
ds_expect_grep '"manual"' "$T/out" "history shows the manual changes"

# ---- reverting it again restores nothing; the human output lists why ----
ds revert "$RUN2"
ds_expect_rc 0 "second revert"
ds_expect_grep "0 links restored" "$T/out" "nothing restored the second time"
ds_expect_grep "changed again since the run (3)" "$T/out" "all three are newer now"
ds_expect_grep "A-3 .*webhook" "$T/out" "A-3 listed with the webhook"
ds_expect_grep "A-1 .*manual, run $REV" "$T/out" "A-1 listed with the revert run"
ds_expect_grep "no value before the run (1)" "$T/out" "A-5 listed as first value"

# ---- a revert of the revert ----
ds revert "$REV"
ds_expect_rc 0 "revert the revert"
ds_expect_eq "$(link_stock A-1)" 0 "A-1 back to the second sync's 0"
ds_expect_eq "$(link_stock A-2)" 25 "A-2 back to 25"
ds_expect_eq "$(link_stock A-3)" 50 "A-3 still untouched"

# ---- refusals ----
ds revert 99999
ds_expect_rc 2 "unknown run"
ds_expect_grep "99999" "$T/err" "unknown run named"
ds revert abc
ds_expect_rc 2 "not a run id"
ds revert
ds_expect_rc 2 "no run id"
mkdir -p "$T/locks"
# -o: the lock stays with flock itself, not with the sleep it runs
flock -o "$T/locks/acme.lock" sleep 30 &
FLOCK_PID=$!
DS_PIDS="$DS_PIDS $FLOCK_PID"
i=0
until ! flock -n "$T/locks/acme.lock" true; do
	i=$((i + 1))
	[ $i -gt 100 ] && ds_fail "the test could not hold the supplier lock"
	sleep 0.05
done
BEFORE=$(snapshot)
ds revert "$RUN1"
ds_expect_rc 6 "revert while the supplier is being synced"
ds_expect_grep "acme" "$T/err" "names the supplier"
ds_expect_eq "$(snapshot)" "$BEFORE" "a refused revert wrote nothing"

# ---- the preview ----
# post PATH [CURL-ARGS...]: body in $T/body, status in $CODE.
post() {
	p=$1
	shift
	CODE=$(curl -s -S -o "$T/body" -w '%{http_code}' -X POST "$@" "$URL$p") ||
		ds_fail "curl POST $p failed"
}
expect_code() { # WANT MESSAGE
	[ "$CODE" = "$1" ] || {
		echo "--- body"; cat "$T/body"; echo "--- serve stderr"; tail -20 "$T/serve.err"
		ds_fail "$2: HTTP $CODE, expected $1"
	}
}
KEY="Authorization: Bearer key-one"

post /v1/suppliers/acme/preview -H "$KEY"
expect_code 409 "preview while the supplier is being synced"
ds_expect_eq "$(J '$.status' "$T/body")" busy "409: status busy"
pkill -P "$FLOCK_PID" sleep 2> /dev/null   # flock then ends, releasing the lock
kill "$FLOCK_PID" 2> /dev/null
wait "$FLOCK_PID" 2> /dev/null

printf 'sku,stock\nA-1,1\nA-2,2\nA-3,3\nA-4,40\nA-5,5\nA-9,9\n' > "$T/feed.csv"
BEFORE=$(snapshot)
post '/v1/suppliers/acme/preview?limit=2' -H "$KEY"
expect_code 200 "preview"
ds_expect_eq "$(J '$.supplier' "$T/body")" acme "preview: supplier"
ds_expect_eq "$(J '$.status' "$T/body")" succeeded "preview: status"
ds_expect_eq "$(J '$.seen' "$T/body")" 6 "preview: seen"
ds_expect_eq "$(J '$.changed' "$T/body")" 3 "preview: changed (A-1, A-2, A-3)"
ds_expect_eq "$(J '$.unknown' "$T/body")" 1 "preview: unknown (A-9)"
ds_expect_eq "$(J '$.changes_truncated' "$T/body")" 1 "preview: changes truncated"
ds_expect_eq "$(sqlite3 -batch -noheader :memory: "SELECT json_array_length(CAST(readfile('$T/body') AS TEXT), '\$.changes')")" 2 \
	"preview: 2 changes listed"
ds_expect_eq "$(J '$.changes[0].supplier_sku' "$T/body")" A-1 "preview: first change A-1"
ds_expect_eq "$(J '$.changes[0].previous' "$T/body")" 0 "preview: A-1 was 0"
ds_expect_eq "$(J '$.changes[0].stock' "$T/body")" 1 "preview: A-1 would be 1"
ds_expect_eq "$(J '$.changes[0].product_sku' "$T/body")" P-1 "preview: its product"
ds_expect_eq "$(snapshot)" "$BEFORE" "the preview wrote nothing"

post '/v1/suppliers/acme/preview?limit=0' -H "$KEY"
expect_code 200 "preview with limit 0"
ds_expect_eq "$(sqlite3 -batch -noheader :memory: "SELECT json_array_length(CAST(readfile('$T/body') AS TEXT), '\$.changes')")" 0 \
	"limit 0: counts only"
ds_expect_eq "$(J '$.changed' "$T/body")" 3 "limit 0: still counts"

post /v1/suppliers/acme/preview
expect_code 401 "preview without a key"
post /v1/suppliers/acme/preview -H "Authorization: Bearer wrong"
expect_code 401 "preview with a wrong key"
post /v1/suppliers/nosuch/preview -H "$KEY"
expect_code 404 "preview of an unknown supplier"
post /v1/suppliers/acme/other -H "$KEY"
expect_code 404 "an unknown supplier route"
post '/v1/suppliers/acme/preview?limit=x' -H "$KEY"
expect_code 400 "a bad limit"
CODE=$(curl -s -S -o "$T/body" -w '%{http_code}' -H "$KEY" "$URL/v1/suppliers/acme/preview") ||
	ds_fail "curl GET preview failed"
expect_code 405 "GET is not allowed"

# a feed that cannot be read: 502 with the reason
rm -f "$T/feed.csv"
post /v1/suppliers/acme/preview -H "$KEY"
expect_code 502 "preview of a missing feed"
ds_expect_eq "$(J '$.status' "$T/body")" failed "502: status failed"
[ -n "$(J '$.error' "$T/body")" ] || ds_fail "502: an error text"
ds_expect_eq "$(snapshot)" "$BEFORE" "a failed preview wrote nothing"

kill "$SERVE_PID"
wait "$SERVE_PID" 2> /dev/null
exit 0
