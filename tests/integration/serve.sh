#!/bin/sh
# dropstock serve: the HTTP service end to end with curl against mock
# suppliers: API keys, stock checks from a fresh cache, live, with a supplier
# down (policy cache and refuse), coalescing of concurrent checks, the
# changed-stock feed walked page by page, /healthz, /metrics, a slow client
# cut off while others are served, and a clean stop on SIGTERM.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf 'service = {
	api_keys = ( "key-one", "key-two" );
	connection_timeout = 2;
	threads = 4;
};'
chmod 600 "$DROPSTOCK_CONFIG"     # it holds the API keys

N=250

# get PATH [CURL-ARGS...]: body in $T/body, headers in $T/headers, status in $CODE.
get() {
	p=$1
	shift
	CODE=$(curl -s -S -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" "$URL$p") ||
		ds_fail "curl $p failed"
}
# aget PATH [CURL-ARGS...]: get with the first API key.
aget() {
	p=$1
	shift
	get "$p" -H "Authorization: Bearer key-one" "$@"
}
# J PATH [FILE]: a value from a JSON file (true/false read as 1/0).
J() {
	sqlite3 -batch -noheader :memory: \
		"SELECT json_extract(CAST(readfile('${2:-$T/body}') AS TEXT), '$1')"
}
expect_code() { # WANT MESSAGE
	[ "$CODE" = "$1" ] || {
		echo "--- body"; cat "$T/body"; echo "--- serve stderr"; tail -20 "$T/serve.err"
		ds_fail "$2: HTTP $CODE, expected $1"
	}
}
checks_at() { # LOG: /check requests the mock saw
	grep -c ' /check/' "$1" || true
}

# ---- three mock suppliers: normal, /check failing, /check slow ----
ds_mock_start --generate $N --log "$T/a.log"
URL_A=$MOCK_URL
ds_mock_start --generate $N --log "$T/b.log" --check-fail-status 500
URL_B=$MOCK_URL
ds_mock_start --generate $N --log "$T/c.log" --check-delay-ms 800
URL_C=$MOCK_URL

# sup SLUG MOCK-URL CACHE-FRESH ON-FAILURE [EXTRA]
sup() {
	ds_json_supplier "$1" "$2/items" page "" "cache_fresh = $3;
check = {
	url = \"$2/check/{sku}\";
	map = { sku = \"sku\"; stock = \"stock\"; updated_at = \"updated_at\"; };
	timeout = 2;
	on_failure = \"$4\";
};
${5:-}"
}
sup fresh "$URL_A" 900 cache 'webhook = {
	scheme = "github";
	secret = "slow client test";
	map = { items = "items"; sku = "sku"; stock = "stock"; };
};'
sup live "$URL_A" 0 cache
sup downc "$URL_B" 0 cache
sup downr "$URL_B" 0 refuse
sup slow "$URL_C" 0 cache

# fresh: P-0000000..P-0000249 -> SKU-0000000.. (stock (i*7)%50); one product
# each for the others
awk -v n=$N 'BEGIN {
	print "product_sku,product_name,supplier_slug,supplier_sku"
	for (i = 0; i < n; i++) printf "P-%07d,Product %d,fresh,SKU-%07d\n", i, i, i
	print "P-LIVE,Live,live,SKU-0000002"
	print "P-DOWNC,Down cache,downc,SKU-0000003"
	print "P-DOWNR,Down refuse,downr,SKU-0000004"
	print "P-SLOW,Slow,slow,SKU-0000005"
}' > "$T/links.csv"
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"
SINCE=$(($(date +%s) - 1))
ds sync
ds_expect_rc 0 "first sync"

ds_serve_start

# ---- API keys ----
get /v1/stock/P-0000001
expect_code 401 "no API key"
ds_expect_grep "^WWW-Authenticate: Bearer" "$T/headers" "401 names the Bearer scheme"
get /v1/stock/P-0000001 -H "Authorization: Bearer key-three"
expect_code 401 "a wrong API key"
ds_expect_grep 'error="invalid_token"' "$T/headers" "wrong key: invalid_token"
get /v1/stock/P-0000001 -H "Authorization: Bearer key-one-and-more"
expect_code 401 "a key with a valid prefix"
get /v1/stock/P-0000001 -H "Authorization: Basic a2V5LW9uZTo="
expect_code 401 "basic auth is not a bearer key"
get /v1/stock/P-0000001 -H "Authorization: Bearer key-two"
expect_code 200 "the second of two keys"
get "/v1/stock?limit=1"
expect_code 401 "the changed-stock feed needs a key too"
ds_expect_no_grep "key-two" "$T/serve.err" "the access log never shows a key"

# ---- a fresh cache answers without asking ----
before=$(checks_at "$T/a.log")
aget "/v1/stock/P-0000001?qty=3"
expect_code 200 "fresh cache"
ds_expect_eq "$(J '$.sku')" P-0000001 "fresh: sku"
ds_expect_eq "$(J '$.requested')" 3 "fresh: requested"
ds_expect_eq "$(J '$.available')" 7 "fresh: available"
ds_expect_eq "$(J '$.ok')" 1 "fresh: ok"
ds_expect_eq "$(J '$.source')" cache "fresh: source"
ds_expect_eq "$(J '$.stale')" 0 "fresh: stale"
ds_expect_grep '"checked_at":"20[0-9-]*T[0-9:.]*Z"' "$T/body" "fresh: checked_at"
ds_expect_eq "$(checks_at "$T/a.log")" "$before" "fresh: the supplier was not asked"
aget "/v1/stock/P-0000001?qty=8"
expect_code 200 "fresh cache, too many"
ds_expect_eq "$(J '$.ok')" 0 "qty 8 of 7: not ok"

# ---- a stale cache asks the supplier live ----
aget /v1/stock/P-LIVE
expect_code 200 "live"
ds_expect_eq "$(J '$.source')" live "live: source"
ds_expect_eq "$(J '$.available')" 14 "live: available"
ds_expect_eq "$(J '$.stale')" 0 "live: stale"
ds_expect_grep 'GET /check/SKU-0000002' "$T/a.log" "live: the supplier was asked"

# ---- the supplier is down: answer from the cache, or refuse ----
aget /v1/stock/P-DOWNC
expect_code 200 "supplier down, policy cache"
ds_expect_eq "$(J '$.source')" cache "down/cache: source"
ds_expect_eq "$(J '$.stale')" 1 "down/cache: stale"
ds_expect_eq "$(J '$.available')" 21 "down/cache: the cached figure"
aget /v1/stock/P-DOWNR
expect_code 503 "supplier down, policy refuse"
ds_expect_grep '"error":".*downr' "$T/body" "refuse: the error names the supplier"
ds_expect_grep "^Retry-After:" "$T/headers" "refuse: Retry-After"

# ---- bad requests ----
aget /v1/stock/NO-SUCH-SKU
expect_code 404 "unknown SKU"
ds_expect_grep '"error":"no product with SKU' "$T/body" "404: JSON error"
aget "/v1/stock/P-0000001?qty=zero"
expect_code 400 "qty not a number"
aget "/v1/stock/P-0000001?qty=0"
expect_code 400 "qty 0"
aget /v1/stock/P-0000001 -X POST
expect_code 405 "POST to a stock check"
get /nowhere
expect_code 404 "unknown path"

# ---- coalescing: 20 concurrent checks of one stale SKU, one supplier ask ----
before=$(checks_at "$T/c.log")
i=0
pids=""
while [ $i -lt 20 ]; do
	curl -s -o "$T/co.$i" -w '%{http_code}\n' -H "Authorization: Bearer key-one" \
		"$URL/v1/stock/P-SLOW" > "$T/co.$i.code" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do
	wait "$p"
done
ds_expect_eq "$(($(checks_at "$T/c.log") - before))" 1 "20 concurrent checks: supplier asks"
i=0
while [ $i -lt 20 ]; do
	ds_expect_eq "$(cat "$T/co.$i.code")" 200 "coalesced answer $i: status"
	ds_expect_eq "$(J '$.available' "$T/co.$i")" 35 "coalesced answer $i: available"
	i=$((i + 1))
done

# ---- the changed-stock feed, walked page by page ----
want=$(ds_sql "SELECT COUNT(*) FROM products WHERE updated_at >= $SINCE * 1000")
[ "$want" -gt 200 ] || ds_fail "too few changed products to page through: $want"
: > "$T/skus"
after=""
pages=0
while :; do
	aget "/v1/stock?changed_since=$SINCE&limit=7${after:+&after=$after}"
	expect_code 200 "changes page $pages"
	n=$(sqlite3 -batch -noheader :memory: \
		"SELECT json_array_length(CAST(readfile('$T/body') AS TEXT), '\$.items')")
	[ "$n" -le 7 ] || ds_fail "page $pages has $n items, limit 7"
	sqlite3 -batch -noheader :memory: \
		"SELECT json_extract(value, '\$.sku') FROM json_each(CAST(readfile('$T/body') AS TEXT), '\$.items')" \
		>> "$T/skus"
	pages=$((pages + 1))
	[ $pages -lt 100 ] || ds_fail "changes: paging does not end"
	after=$(J '$.next_cursor')
	[ -n "$after" ] || break
done
ds_expect_eq "$(wc -l < "$T/skus" | tr -d ' ')" "$want" "changes: every changed product"
ds_expect_eq "$(sort "$T/skus" | uniq -d | wc -l | tr -d ' ')" 0 "changes: no repeats"
ds_expect_eq "$pages" $(((want + 6) / 7)) "changes: pages"
# one item's fields
aget "/v1/stock?changed_since=$SINCE&limit=1"
expect_code 200 "changes limit 1"
ds_expect_grep '"items":\[{"sku":"[^"]*","stock":[0-9]*,"available":\(true\|false\),"updated_at":"20' \
	"$T/body" "changes: item fields"
ds_expect_grep '"next_cursor":"[0-9]*\.[0-9]*"' "$T/body" "changes: a next cursor"
# ISO-8601 time; nothing changed after the year 2200
aget "/v1/stock?changed_since=2200-01-01T00:00:00Z"
expect_code 200 "changes in the future"
ds_expect_eq "$(cat "$T/body")" '{"items":[],"next_cursor":null}' "changes: none"
aget "/v1/stock?changed_since=yesterday"
expect_code 400 "changed_since not a time"
aget "/v1/stock?limit=-1"
expect_code 400 "limit -1"
aget "/v1/stock?after=12"
expect_code 400 "a bad cursor"

# ---- health and metrics ----
get /healthz
expect_code 200 "healthz"
ds_expect_eq "$(cat "$T/body")" '{"status":"ok","database":"ok"}' "healthz body"

# keep-alive: two requests on one connection (a response queued too early
# made libmicrohttpd close every connection)
curl -sv "$URL/healthz" "$URL/healthz" > /dev/null 2> "$T/keepalive"
grep -q "Re-using existing connection" "$T/keepalive" ||
	{ cat "$T/keepalive"; ds_fail "the connection was not kept alive"; }
grep -qi "^< connection: close" "$T/keepalive" && ds_fail "Connection: close on a GET"
get /metrics
expect_code 200 "metrics"
ds_expect_grep "^Content-Type: text/plain; version=0.0.4" "$T/headers" "metrics content type"
ds_expect_grep '^dropstock_http_requests_total{route="stock_check",status="200"} [1-9]' \
	"$T/body" "metrics: requests by route and status"
ds_expect_grep '^dropstock_http_requests_total{route="stock_check",status="401"} [1-9]' \
	"$T/body" "metrics: 401s"
ds_expect_grep '^dropstock_check_duration_seconds_bucket{le="0.001"} ' "$T/body" \
	"metrics: latency histogram"
ds_expect_grep '^dropstock_check_duration_seconds_bucket{le="+Inf"} [1-9]' "$T/body" \
	"metrics: histogram +Inf"
ds_expect_grep '^dropstock_check_duration_seconds_count [1-9]' "$T/body" "metrics: histogram count"
ds_expect_grep '^dropstock_check_cache_hits_total [1-9]' "$T/body" "metrics: cache hits"
ds_expect_grep '^dropstock_check_live_asks_total [1-9]' "$T/body" "metrics: live asks"
ds_expect_grep '^dropstock_check_stale_answers_total [1-9]' "$T/body" "metrics: stale answers"
ds_expect_grep '^dropstock_check_refused_total [1-9]' "$T/body" "metrics: refused"
ds_expect_grep '^dropstock_check_coalesced_waits_total 19$' "$T/body" "metrics: coalesced waits"
ds_expect_grep '^dropstock_webhook_items_applied_total ' "$T/body" "metrics: webhook items applied"
ds_expect_grep '^dropstock_webhook_items_rejected_total ' "$T/body" "metrics: webhook items rejected"
ds_expect_grep '^dropstock_supplier_last_sync_timestamp_seconds{supplier="fresh",kind="full"} [0-9]' \
	"$T/body" "metrics: a supplier's last sync time"
ds_expect_grep '^dropstock_supplier_last_sync_success{supplier="fresh",kind="full",status="succeeded"} 1' \
	"$T/body" "metrics: a supplier's last sync result"

# ---- access log ----
ds_expect_grep '^dropstock: access 127.0.0.1 "GET /v1/stock/P-LIVE" 200 [0-9]* [0-9.]*ms$' \
	"$T/serve.err" "access log line"
ds_expect_no_grep 'changed_since=' "$T/serve.err" "the access log leaves out the query"

# ---- a client sending one byte a second is cut off; others are served ----
awk 'BEGIN { for (i = 0; i < 100; i++) printf "a" }' > "$T/slow.body"
start=$(date +%s)
curl -s -o /dev/null --limit-rate 1 -X POST --data-binary @"$T/slow.body" \
	"$URL/webhooks/fresh/stock" &
slow_pid=$!
sleep 0.5
t0=$(date +%s)
i=0
while [ $i -lt 5 ]; do
	get /healthz --max-time 2
	expect_code 200 "healthz while a slow client sends"
	i=$((i + 1))
done
[ $(($(date +%s) - t0)) -le 2 ] || ds_fail "requests were slowed down by the slow client"
wait $slow_pid
elapsed=$(($(date +%s) - start))
[ $elapsed -le 8 ] || ds_fail "the slow client was not cut off at the 2 s timeout (${elapsed} s)"
get /metrics
ds_expect_grep '^dropstock_slow_clients_cut_total [1-9]' "$T/body" "metrics: slow client cut"
ds_expect_grep '"POST /webhooks/fresh/stock" - 0 ' "$T/serve.err" "access log: cut off, no status"

# ---- SIGTERM stops cleanly ----
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
RC=$?
ds_expect_eq "$RC" 0 "exit status after SIGTERM"
ds_expect_grep "stopped" "$T/serve.err" "says it stopped"
ds_expect_no_grep "AddressSanitizer\|LeakSanitizer\|runtime error" "$T/serve.err" \
	"no sanitizer reports from the service"

# ---- no API keys configured: a warning, and /v1 refuses everything ----
printf 'database = "%s";\n' "$DB" > "$T/conf/nokeys.conf"
chmod 600 "$T/conf/nokeys.conf"
ds_serve_start --config "$T/conf/nokeys.conf"
ds_expect_grep "no API keys" "$T/serve.err" "warning without api_keys"
get /v1/stock/P-0000001 -H "Authorization: Bearer key-one"
expect_code 401 "no api_keys: refused"
get /healthz
expect_code 200 "no api_keys: healthz still answers"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"

# ---- a bad --listen is a usage error ----
ds serve --listen localhost
ds_expect_rc 2 "serve --listen without a port"
ds_expect_grep "listen" "$T/err" "names the option"

# ---- IPv6 loopback, where the system has it ----
: > "$T/serve6.err"
"$DROPSTOCK" serve --listen "[::1]:0" 2> "$T/serve6.err" &
pid6=$!
DS_PIDS="$DS_PIDS $pid6"
i=0
while ! grep -q "listening on\|cannot listen" "$T/serve6.err" && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
if grep -q "listening on \[::1\]:" "$T/serve6.err"; then
	port6=$(sed -n 's/^dropstock: listening on \[::1\]:\([0-9][0-9]*\)$/\1/p' "$T/serve6.err")
	code=$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:$port6/healthz")
	ds_expect_eq "$code" 200 "healthz over IPv6"
else
	ds_note "no IPv6 loopback here: $(cat "$T/serve6.err")"
fi
kill -TERM $pid6 2> /dev/null

exit 0
