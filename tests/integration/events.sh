#!/bin/sh
# Events to the store: syncs create outbox events; `dropstock events deliver`
# (one delivery pass) sends them to the mock store's POST /store/events,
# which fails twice and then accepts: every event arrives exactly once, in
# order per product, with verifiable Standard Webhooks signatures.  Then
# dead letters after give_up, `events retry --all-dead`, the command target,
# and the `events` listing.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

command -v sqlite3 > /dev/null 2>&1 || {
	echo "SKIP: the sqlite3 shell is not installed"
	exit 77
}

# the store's key: 32 bytes 01..20, as whsec_BASE64 and as hex for openssl
KEY_B64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
KEY_HEX=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
STORE_SECRET=whsec_$KEY_B64
export STORE_SECRET

items() { # JSON-ARRAY
	printf '%s\n' "$1" > "$T/items.tmp"
	mv "$T/items.tmp" "$T/items.json"
}

supplier() { # URL
	ds_supplier acme <<EOC
slug = "acme";
source = {
	url = "$1/items";
	format = "json";
	map = { items = "data.items"; sku = "sku"; stock = "stock"; };
};
retries = 0;
EOC
}

events_conf() { # EVENTS-GROUP-BODY
	ds_conf "events = { $1 };"
}

sync() { # MESSAGE
	ds sync --supplier acme
	ds_expect_rc 0 "$1"
}

# the store log as one JSON array
store_json() { # LOG
	{ echo '['; sed '$!s/$/,/' "$1"; echo ']'; } > "$T/store.json"
}

# "ID PRODUCT_SKU" of every event the store accepted (status 200), in the
# order received
accepted() { # LOG
	store_json "$1"
	sqlite3 -batch -noheader -separator ' ' :memory: \
		"SELECT json_extract(e.value, '\$.id'), json_extract(e.value, '\$.product_sku')
		 FROM json_each(CAST(readfile('$T/store.json') AS TEXT)) r,
		      json_each(json_extract(r.value, '\$.body'), '\$.events') e
		 WHERE json_extract(r.value, '\$.status') = 200 ORDER BY r.key, e.key"
}

# runs `events deliver` until nothing is pending (at most 60 times)
deliver_all() { # MESSAGE
	i=0
	while :; do
		ds events deliver
		ds_expect_rc 0 "$1: events deliver"
		[ "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead = 0")" = 0 ] &&
			break
		i=$((i + 1))
		[ $i -gt 60 ] && ds_fail "$1: events still pending after 60 passes"
		sleep 0.1
	done
}

items '[{"sku": "SKU-A", "stock": 5}, {"sku": "SKU-B", "stock": 0}, {"sku": "SKU-C", "stock": 2}]'
ds_mock_start --items "$T/items.json" --store-log "$T/store.log" --store-fail-count 2
MOCK1=$!
supplier "$MOCK_URL"

# ---- no target configured ----
ds_conf
ds events deliver
ds_expect_rc 3 "events deliver without a target"
ds_expect_grep "events.url or events.command" "$T/err" "no-target message"
ds events
ds_expect_rc 0 "events with no events"
ds_expect_grep "no events" "$T/out" "empty list"

# ---- three syncs make six events ----
events_conf "url = \"$MOCK_URL/store/events\"; secret_env = \"STORE_SECRET\"; batch = 2;
	timeout = 5; first_backoff = 0.1; max_backoff = 0.2; give_up = 600;"
cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P-A,Product A,acme,SKU-A
P-B,Product B,acme,SKU-B
P-C,Product C,acme,SKU-C
EOF
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"
sync "first sync"            # P-A 0->5, P-C 0->2
items '[{"sku": "SKU-A", "stock": 0}, {"sku": "SKU-B", "stock": 3}, {"sku": "SKU-C", "stock": 4}]'
sync "second sync"           # P-A 5->0, P-B 0->3, P-C 2->4
items '[{"sku": "SKU-A", "stock": 7}, {"sku": "SKU-B", "stock": 3}, {"sku": "SKU-C", "stock": 4}]'
sync "third sync"            # P-A 0->7
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox")" 6 "events created by the syncs"
ds_expect_eq "$(ds_sql "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM outbox
	WHERE product_id = (SELECT id FROM products WHERE sku = 'P-A') ORDER BY id)")" \
	"back_in_stock out_of_stock back_in_stock" "P-A's events"

ds events --pending
ds_expect_rc 0 "events --pending"
ds_expect_grep "^ *ID  *KIND  *PRODUCT  *STATE" "$T/out" "table header"
ds_expect_eq "$(grep -c pending "$T/out")" 6 "six pending events listed"

# ---- delivery: two 503s, then accepted ----
ds events deliver
ds_expect_rc 0 "first pass"
ds_expect_grep "delivered 0, failed 2" "$T/out" "first pass summary"
ds_expect_grep "put off 4" "$T/out" "the rest is put off after a failed POST"
ds_expect_eq "$(ds_sql "SELECT last_error FROM outbox WHERE id = 1")" \
	'HTTP 503: {"success":false,"message":"simulated failure: HTTP 503"}' "last_error"
deliver_all "delivery"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL")" 6 \
	"all six delivered"
ds_expect_eq "$(ds_sql "SELECT attempts FROM outbox WHERE id = 1")" 2 "event 1: two failed attempts"
ds_expect_eq "$(wc -l < "$T/store.log" | tr -d ' ')" 5 "store requests: 2 failed + 3 batches"

accepted "$T/store.log" > "$T/accepted"
ds_expect_eq "$(awk '{ print $1 }' "$T/accepted" | tr '\n' ' ')" "1 2 3 4 5 6 " \
	"each event accepted exactly once, in order"
ds_expect_eq "$(awk '$2 == "P-A" { print $1 }' "$T/accepted" | tr '\n' ' ')" "1 3 6 " \
	"P-A's events in order"
ds_expect_eq "$(awk '$2 == "P-C" { print $1 }' "$T/accepted" | tr '\n' ' ')" "2 5 " \
	"P-C's events in order"

# headers and signatures of the accepted requests
store_json "$T/store.log"
sqlite3 -batch -noheader -separator ' ' :memory: \
	"SELECT json_extract(value, '\$.\"webhook-id\"'), json_extract(value, '\$.\"webhook-timestamp\"'),
	        json_extract(value, '\$.\"webhook-signature\"'), json_extract(value, '\$.\"content-type\"')
	 FROM json_each(CAST(readfile('$T/store.json') AS TEXT))
	 WHERE json_extract(value, '\$.status') = 200 ORDER BY key" > "$T/headers"
ds_expect_eq "$(awk '{ print $1 }' "$T/headers" | tr '\n' ' ')" "evt_1_2 evt_3_4 evt_5_6 " \
	"webhook-id per batch"
ds_expect_eq "$(awk '$2 ~ /^[0-9]+$/ && $3 ~ /^v1,/ && $4 == "application/json"' "$T/headers" |
	wc -l | tr -d ' ')" 3 "webhook-timestamp, webhook-signature and Content-Type present"
now=$(date +%s)
awk -v now="$now" '{ d = now - $2; if (d < 0) d = -d; if (d > 300) exit 1 }' "$T/headers" ||
	ds_fail "webhook-timestamp is not the current Unix time"

if command -v openssl > /dev/null 2>&1 && command -v base64 > /dev/null 2>&1; then
	n=0
	while read -r id ts sig ctype; do
		n=$((n + 1))
		body=$(sqlite3 -batch -noheader :memory: \
			"SELECT json_extract(value, '\$.body') FROM json_each(CAST(readfile('$T/store.json') AS TEXT))
			 WHERE json_extract(value, '\$.\"webhook-id\"') = '$id'
			 AND json_extract(value, '\$.status') = 200")
		want=$(printf '%s.%s.%s' "$id" "$ts" "$body" |
			openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64)
		ds_expect_eq "$sig" "v1,$want" "signature of $id verifies"
	done < "$T/headers"
	ds_expect_eq "$n" 3 "signatures checked"
else
	ds_note "openssl not installed: signatures not recomputed"
fi

ds events --pending
ds_expect_rc 0 "events --pending after delivery"
ds_expect_grep "no pending events" "$T/out" "nothing pending"
ds events --json
ds_expect_rc 0 "events --json"
ds_expect_eq "$(sqlite3 -batch -noheader :memory: \
	"SELECT COUNT(*) FROM json_each(CAST(readfile('$T/out') AS TEXT), '\$.events')
	 WHERE json_extract(value, '\$.state') = 'delivered'
	 AND json_extract(value, '\$.payload.product_sku') IS NOT NULL
	 AND json_extract(value, '\$.delivered_at') LIKE '____-__-__T%Z'")" 6 \
	"events --json: six delivered events with payloads"

# ---- dead letters: a store that keeps failing, give_up = 0.5 s ----
kill "$MOCK1"
ds_mock_start --items "$T/items.json" --store-log "$T/store2.log" --store-fail-count 1000000
MOCK2=$!
supplier "$MOCK_URL"
events_conf "url = \"$MOCK_URL/store/events\"; secret_env = \"STORE_SECRET\"; batch = 2;
	timeout = 5; first_backoff = 0.1; max_backoff = 0.2; give_up = 0.5;"
items '[{"sku": "SKU-A", "stock": 0}, {"sku": "SKU-B", "stock": 0}, {"sku": "SKU-C", "stock": 1}]'
sync "sync for dead letters"     # P-A, P-B out of stock, P-C 4->1
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")" 3 "three new events"
deliver_all "dead letters"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE dead = 1")" 3 "all three parked as dead"
ds_expect_eq "$(grep -c '"status":200' "$T/store2.log")" 0 "none accepted"
ds events --dead
ds_expect_rc 0 "events --dead"
ds_expect_eq "$(grep -c ' dead ' "$T/out")" 3 "events --dead lists three"
ds_expect_grep "HTTP 503" "$T/out" "with the last error"
ds events --dead --json
ds_expect_rc 0 "events --dead --json"
ds_expect_grep '"state":"dead"' "$T/out" "JSON state dead"
ds_expect_grep '"next_attempt_at":null' "$T/out" "a dead event has no next attempt"

# retry by hand once the store is back
kill "$MOCK2"
ds_mock_start --items "$T/items.json" --store-log "$T/store3.log"
supplier "$MOCK_URL"
events_conf "url = \"$MOCK_URL/store/events\"; secret_env = \"STORE_SECRET\"; batch = 2;
	timeout = 5; first_backoff = 0.1; max_backoff = 0.2; give_up = 0.5;"
ds events retry 999
ds_expect_rc 2 "retry of an unknown event"
ds events retry 1
ds_expect_rc 1 "retry of a delivered event"
ds_expect_grep "delivered already" "$T/err" "delivered-event message"
ds events retry
ds_expect_rc 2 "retry without an id"
ds events retry --all-dead
ds_expect_rc 0 "retry --all-dead"
ds_expect_grep "3 dead events are pending again" "$T/out" "retry message"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE dead = 0 AND delivered_at IS NULL")" 3 \
	"pending again"
ds events deliver
ds_expect_rc 0 "deliver after retry"
ds_expect_grep "delivered 3" "$T/out" "delivered after retry"
ds_expect_eq "$(accepted "$T/store3.log" | awk '{ print $1 }' | tr '\n' ' ')" "7 8 9 " \
	"the revived events, once each, in order"
ds events --dead
ds_expect_grep "no dead events" "$T/out" "no dead events left"

# ---- the command target ----
events_conf "command = \"cat >> '$T/cmd.out'\"; first_backoff = 0.1; max_backoff = 0.2;"
items '[{"sku": "SKU-A", "stock": 2}, {"sku": "SKU-B", "stock": 0}, {"sku": "SKU-C", "stock": 1}]'
sync "sync for the command"      # P-A 0->2
ds events deliver
ds_expect_rc 0 "deliver to a command"
ds_expect_grep "delivered 1" "$T/out" "command delivery"
ds_expect_eq "$(ds_sql "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")" 0 "delivered"
ds_expect_grep '^{"id":10,"event":"back_in_stock","product_sku":"P-A",' "$T/cmd.out" \
	"the command got the event JSON with its id"

events_conf "command = \"echo 'store refused' >&2; exit 3\"; first_backoff = 0.1; max_backoff = 0.2;"
items '[{"sku": "SKU-A", "stock": 0}, {"sku": "SKU-B", "stock": 0}, {"sku": "SKU-C", "stock": 1}]'
sync "sync for a failing command"
ds events deliver
ds_expect_rc 0 "deliver to a failing command"
ds_expect_grep "failed 1" "$T/out" "command failure counted"
ds events --pending --json
ds_expect_grep '"last_error":"the events command exited with status 3: store refused"' "$T/out" \
	"failing command's error"
ds_expect_grep '"attempts":1' "$T/out" "one attempt"

# ---- usage ----
ds events --pending --dead
ds_expect_rc 2 "--pending with --dead"
ds events --limit 0
ds_expect_rc 2 "--limit 0"
ds events --help
ds_expect_rc 0 "events --help"
ds_expect_grep "retry ID" "$T/out" "help mentions retry"

exit 0
