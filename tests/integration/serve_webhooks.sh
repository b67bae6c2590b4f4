#!/bin/sh
# dropstock serve: signed supplier webhooks (POST /webhooks/SLUG/stock) end
# to end: GitHub's documented test vector, deliveries signed with the
# openssl command, tampering, secret rotation, Standard Webhooks timestamps,
# replays, size limit, malformed JSON, unknown suppliers, and a delivery
# acknowledged with 200 surviving a SIGKILL right after.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

GH_SECRET="It's a Secret to Everybody"
# Standard Webhooks: the key is the base64 of these 32 bytes
STD_KEY=0123456789abcdef0123456789abcdef
STD_SECRET=whsec_$(printf '%s' "$STD_KEY" | openssl base64 -A)
STD_HEXKEY=$(printf '%s' "$STD_KEY" | od -An -v -tx1 | tr -d ' \n')

# The suppliers' full feeds are never fetched here.
printf 'sku,stock\n' > "$T/empty.csv"
feed="source = { url = \"file://$T/empty.csv\"; format = \"csv\"; map = { sku = \"sku\"; stock = \"stock\"; }; };"
ds_supplier gh <<EOC
slug = "gh";
$feed
webhook = {
	scheme = "github";
	secret = "$GH_SECRET";
	id_header = "X-GitHub-Delivery";
	map = { items = "items"; sku = "sku"; stock = "stock"; updated_at = "updated_at"; };
};
EOC
ds_supplier rot <<EOC
slug = "rot";
$feed
webhook = {
	scheme = "github";
	secrets = ( "old-secret", "new-secret" );
	map = { items = "items"; sku = "sku"; stock = "stock"; };
};
EOC
ds_supplier std <<EOC
slug = "std";
$feed
webhook = {
	scheme = "standard";
	secret = "$STD_SECRET";
	tolerance = 300;
	map = { items = "items"; sku = "sku"; stock = "stock"; };
};
EOC
ds_supplier small <<EOC
slug = "small";
$feed
webhook = {
	scheme = "github";
	secret = "tiny";
	max_body = 64;
	map = { items = "items"; sku = "sku"; stock = "stock"; };
};
EOC
ds_supplier nohook <<EOC
slug = "nohook";
$feed
EOC
ds_supplier off <<EOC
slug = "off";
active = false;
$feed
webhook = {
	scheme = "github";
	secret = "off-secret";
	map = { items = "items"; sku = "sku"; stock = "stock"; };
};
EOC

cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P-GH1,One,gh,G-1
P-GH2,Two,gh,G-2
P-ROT,Rotated,rot,R-1
P-STD,Standard,std,S-1
P-SMALL,Small,small,M-1
P-OFF,Off,off,O-1
EOF
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"


# post SLUG BODY-FILE [CURL-ARGS...]: body in $T/body, status in $CODE.
post() {
	slug=$1
	file=$2
	shift 2
	CODE=$(curl -s -S -o "$T/body" -w '%{http_code}' -X POST \
		-H "Content-Type: application/json" --data-binary @"$file" "$@" \
		"$URL/webhooks/$slug/stock") || ds_fail "curl POST /webhooks/$slug/stock failed"
}
expect_code() { # WANT MESSAGE
	[ "$CODE" = "$1" ] || {
		echo "--- body"; cat "$T/body"; echo "--- serve stderr"; tail -20 "$T/serve.err"
		ds_fail "$2: HTTP $CODE, expected $1"
	}
}
# hexsig SECRET FILE: hex HMAC-SHA256 of the file.
hexsig() {
	openssl dgst -sha256 -hmac "$1" < "$2" | sed 's/^.*= *//'
}
# stdsig ID TIMESTAMP FILE: Standard Webhooks signature of ID.TIMESTAMP.BODY.
stdsig() {
	{ printf '%s.%s.' "$1" "$2"; cat "$3"; } |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$STD_HEXKEY" -binary | openssl base64 -A
}
body() { # FILE TEXT: writes TEXT without a final newline
	printf '%s' "$2" > "$1"
}
link_stock() { # SUPPLIER-SKU
	ds_sql "SELECT COALESCE(supplier_stock, 'null') FROM supplier_links WHERE supplier_sku = '$1'"
}

ds_serve_start

# ---- a supplier turned off (active = false): signed pushes are not
# applied, and 503 makes the supplier retry them later ----
body "$T/off1" '{"items":[{"sku":"O-1","stock":7}]}'
post off "$T/off1" -H "X-Hub-Signature-256: sha256=$(hexsig wrong "$T/off1")"
expect_code 401 "a turned-off supplier still checks signatures first"
post off "$T/off1" -H "X-Hub-Signature-256: sha256=$(hexsig off-secret "$T/off1")"
expect_code 503 "a turned-off supplier"
ds_expect_grep "turned off" "$T/body" "says the supplier is turned off"
ds_expect_eq "$(link_stock O-1)" null "nothing applied for a turned-off supplier"

# ---- GitHub's documented test vector ----
# The signature is right, so the body is parsed, and "Hello, World!" is no
# JSON: 400, which proves the verification passed.
body "$T/hello" 'Hello, World!'
GH_VECTOR=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
ds_expect_eq "$(hexsig "$GH_SECRET" "$T/hello")" "$GH_VECTOR" "openssl computes the documented vector"
post gh "$T/hello" -H "X-Hub-Signature-256: sha256=$GH_VECTOR"
expect_code 400 "documented vector: verified, then not JSON"
ds_expect_grep '"ok":false' "$T/body" "400 body"
# one hex digit changed in the signature
post gh "$T/hello" -H "X-Hub-Signature-256: sha256=${GH_VECTOR%7}8"
expect_code 401 "documented vector with a tampered signature"
# one byte changed in the body
body "$T/hello2" 'Hello, World?'
post gh "$T/hello2" -H "X-Hub-Signature-256: sha256=$GH_VECTOR"
expect_code 401 "documented vector with a tampered body"

# ---- a real delivery ----
body "$T/d1" '{"items":[{"sku":"G-1","stock":12},{"sku":"G-2","stock":3}]}'
post gh "$T/d1" -H "X-Hub-Signature-256: sha256=$(hexsig "$GH_SECRET" "$T/d1")" \
	-H "X-GitHub-Delivery: delivery-1"
expect_code 200 "a signed delivery"
ds_expect_grep '"ok":true' "$T/body" "200 body ok"
ds_expect_grep '"changed":2' "$T/body" "200 body: two changed"
ds_expect_eq "$(link_stock G-1)" 12 "G-1 applied"
ds_expect_eq "$(link_stock G-2)" 3 "G-2 applied"
ds_expect_eq "$(ds_sql "SELECT stock FROM products WHERE sku = 'P-GH1'")" 12 "product updated"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log WHERE source = 'webhook'")" 2 "two log rows"

# tampered: one byte of the body changed after signing
body "$T/d2" '{"items":[{"sku":"G-1","stock":40}]}'
sig2=$(hexsig "$GH_SECRET" "$T/d2")
body "$T/d2x" '{"items":[{"sku":"G-1","stock":41}]}'
post gh "$T/d2x" -H "X-Hub-Signature-256: sha256=$sig2" -H "X-GitHub-Delivery: delivery-2"
expect_code 401 "a tampered byte"
ds_expect_eq "$(link_stock G-1)" 12 "tampered: nothing applied"
# signed with the wrong secret
post gh "$T/d2" -H "X-Hub-Signature-256: sha256=$(hexsig "not the secret" "$T/d2")" \
	-H "X-GitHub-Delivery: delivery-2"
expect_code 401 "the wrong secret"
# no signature at all
post gh "$T/d2" -H "X-GitHub-Delivery: delivery-2"
expect_code 401 "no signature header"
ds_expect_eq "$(link_stock G-1)" 12 "unsigned: nothing applied"
# a header name in another case is the same header
post gh "$T/d2" -H "x-hub-signature-256: sha256=$sig2" -H "x-github-delivery: delivery-2"
expect_code 200 "header names are case-insensitive"
ds_expect_eq "$(link_stock G-1)" 40 "delivery-2 applied"

# ---- a replayed event id: 200 duplicate, no second change ----
rows=$(ds_sql "SELECT COUNT(*) FROM stock_log")
post gh "$T/d2" -H "X-Hub-Signature-256: sha256=$sig2" -H "X-GitHub-Delivery: delivery-2"
expect_code 200 "replay"
ds_expect_grep '"duplicate":true' "$T/body" "replay answered as duplicate"
body "$T/d3" '{"items":[{"sku":"G-1","stock":5}]}'
post gh "$T/d3" -H "X-Hub-Signature-256: sha256=$(hexsig "$GH_SECRET" "$T/d3")" \
	-H "X-GitHub-Delivery: delivery-1"
expect_code 200 "an old event id with a new body"
ds_expect_grep '"duplicate":true' "$T/body" "old event id: duplicate"
ds_expect_eq "$(link_stock G-1)" 40 "replays changed nothing"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM stock_log")" "$rows" "replays logged nothing"

# ---- rotation: the second of two secrets is valid too ----
body "$T/r1" '{"items":[{"sku":"R-1","stock":9}]}'
post rot "$T/r1" -H "X-Hub-Signature-256: sha256=$(hexsig new-secret "$T/r1")"
expect_code 200 "the second secret"
ds_expect_eq "$(link_stock R-1)" 9 "rotated secret applied"
body "$T/r2" '{"items":[{"sku":"R-1","stock":8}]}'
post rot "$T/r2" -H "X-Hub-Signature-256: sha256=$(hexsig old-secret "$T/r2")"
expect_code 200 "the first secret"
ds_expect_eq "$(link_stock R-1)" 8 "old secret applied"

# ---- Standard Webhooks: id, timestamp and signature over id.timestamp.body ----
body "$T/s1" '{"items":[{"sku":"S-1","stock":4}]}'
now=$(date +%s)
post std "$T/s1" -H "webhook-id: msg_1" -H "webhook-timestamp: $now" \
	-H "webhook-signature: v1,$(stdsig msg_1 "$now" "$T/s1")"
expect_code 200 "standard webhook"
ds_expect_eq "$(link_stock S-1)" 4 "standard applied"
body "$T/s2" '{"items":[{"sku":"S-1","stock":6}]}'
old=$((now - 3600))
post std "$T/s2" -H "webhook-id: msg_2" -H "webhook-timestamp: $old" \
	-H "webhook-signature: v1,$(stdsig msg_2 "$old" "$T/s2")"
expect_code 401 "standard webhook an hour old"
future=$((now + 3600))
post std "$T/s2" -H "webhook-id: msg_2" -H "webhook-timestamp: $future" \
	-H "webhook-signature: v1,$(stdsig msg_2 "$future" "$T/s2")"
expect_code 401 "standard webhook an hour ahead"
# the id is signed: another id with the same signature fails
post std "$T/s2" -H "webhook-id: msg_3" -H "webhook-timestamp: $now" \
	-H "webhook-signature: v1,$(stdsig msg_2 "$now" "$T/s2")"
expect_code 401 "standard webhook with a swapped id"
ds_expect_eq "$(link_stock S-1)" 4 "rejected standard deliveries changed nothing"
# a replay of msg_1 with a fresh timestamp is still a duplicate
post std "$T/s2" -H "webhook-id: msg_1" -H "webhook-timestamp: $now" \
	-H "webhook-signature: v1,$(stdsig msg_1 "$now" "$T/s2")"
expect_code 200 "standard replay"
ds_expect_grep '"duplicate":true' "$T/body" "standard replay: duplicate"
ds_expect_eq "$(link_stock S-1)" 4 "standard replay changed nothing"

# ---- size, syntax, routes ----
awk 'BEGIN { printf "{\"items\":[{\"sku\":\"M-1\",\"stock\":1}],\"pad\":\""
	for (i = 0; i < 100; i++) printf "x"
	printf "\"}" }' > "$T/big"
post small "$T/big" -H "X-Hub-Signature-256: sha256=$(hexsig tiny "$T/big")"
expect_code 413 "a body over max_body"
ds_expect_eq "$(link_stock M-1)" null "oversized: nothing applied"
# the same without Content-Length (chunked)
post small "$T/big" -H "Transfer-Encoding: chunked" \
	-H "X-Hub-Signature-256: sha256=$(hexsig tiny "$T/big")"
expect_code 413 "a chunked body over max_body"
body "$T/ok-small" '{"items":[{"sku":"M-1","stock":1}]}'
post small "$T/ok-small" -H "X-Hub-Signature-256: sha256=$(hexsig tiny "$T/ok-small")"
expect_code 200 "a body under max_body"

body "$T/bad" '{"items":[{"sku":"G-1","stock":'
post gh "$T/bad" -H "X-Hub-Signature-256: sha256=$(hexsig "$GH_SECRET" "$T/bad")" \
	-H "X-GitHub-Delivery: delivery-bad"
expect_code 400 "malformed JSON"
ds_expect_grep '"ok":false' "$T/body" "malformed JSON: error body"

post nobody "$T/d1"
expect_code 404 "an unknown supplier"
post nohook "$T/d1"
expect_code 404 "a supplier without a webhook group"
post gh "$T/d1" -X PUT
expect_code 405 "PUT"
CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "$URL/webhooks/gh/stock")
expect_code 405 "GET"
ds_expect_grep "^Allow: POST" "$T/headers" "405 says Allow: POST"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -d '{}' "$URL/webhooks/gh/other")
expect_code 404 "another path under the supplier"

# metrics count webhook items
CODE=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/metrics")
ds_expect_grep '^dropstock_webhook_items_applied_total [1-9]' "$T/body" "metrics: applied"
ds_expect_grep '^dropstock_http_requests_total{route="webhook",status="401"} [1-9]' "$T/body" \
	"metrics: webhook 401s"

# ---- acknowledged means committed: 200, then SIGKILL ----
body "$T/k1" '{"items":[{"sku":"G-2","stock":77}]}'
post gh "$T/k1" -H "X-Hub-Signature-256: sha256=$(hexsig "$GH_SECRET" "$T/k1")" \
	-H "X-GitHub-Delivery: delivery-kill"
expect_code 200 "the delivery before the kill"
ds_expect_no_grep "AddressSanitizer\|LeakSanitizer\|runtime error" "$T/serve.err" \
	"no sanitizer reports from the service"
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2> /dev/null
ds_expect_eq "$(link_stock G-2)" 77 "the acknowledged change survived SIGKILL"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM webhook_receipts WHERE event_id = 'delivery-kill'")" 1 \
	"the receipt survived SIGKILL"

# after a restart the replay is still recognised
ds_serve_start
post gh "$T/k1" -H "X-Hub-Signature-256: sha256=$(hexsig "$GH_SECRET" "$T/k1")" \
	-H "X-GitHub-Delivery: delivery-kill"
expect_code 200 "replay after restart"
ds_expect_grep '"duplicate":true' "$T/body" "replay after restart: duplicate"

exit 0
