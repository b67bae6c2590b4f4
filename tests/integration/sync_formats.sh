#!/bin/sh
# CSV and XML feeds, gzip, a local file, and the auth kinds.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf
N=240
ds_mock_start --generate $N --gzip --root "$T/www" --log "$T/requests.log" \
	--require-bearer sekrit
mkdir -p "$T/www"
MOCK_TOKEN=sekrit
export MOCK_TOKEN

fresh() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
	rm -f "$T/conf/suppliers.d/"*.conf
}

# CSV over HTTP (gzip-encoded by the mock when asked).
fresh
ds_supplier c <<EOC
slug = "c";
source = { url = "$MOCK_URL/items.csv"; format = "csv";
	map = { sku = "sku"; stock = "stock"; updated_at = "updated_at"; }; };
auth = { type = "bearer"; token_env = "MOCK_TOKEN"; };
retry_delay = 0.01;
EOC
ds_links $N c
ds sync
ds_expect_rc 0 "CSV sync"
ds_check_synced $N
grep 'items.csv' "$T/requests.log" | grep -q 'auth=Bearer sekrit' || ds_fail "bearer not sent"
grep 'items.csv' "$T/requests.log" | grep -q 'gzip' || ds_fail "gzip not offered"

# Wrong token: 401 fails at once, not retried.
: > "$T/requests.log"
MOCK_TOKEN=wrong ds sync
ds_expect_rc 4 "401"
ds_expect_grep "401" "$T/err" "names 401"
[ "$(grep -c items.csv "$T/requests.log")" -eq 1 ] || ds_fail "401 was retried"

# Missing env secret: a config error, nothing runs.
unset MOCK_TOKEN
ds sync
ds_expect_rc 3 "missing token env"
ds_expect_grep "MOCK_TOKEN" "$T/err" "names the variable"

# XML over HTTP.
MOCK_TOKEN=sekrit
fresh
ds_supplier x <<EOC
slug = "x";
source = { url = "$MOCK_URL/items.xml"; format = "xml";
	map = { items = "product"; sku = "@sku"; stock = "stock"; updated_at = "updated"; }; };
auth = { type = "bearer"; token_cmd = "echo sekrit"; };
EOC
ds_links $N x
ds sync
ds_expect_rc 0 "XML sync"
ds_check_synced $N

# A gzip-compressed CSV file (.gz) over file://.
fresh
awk -v n=$N 'BEGIN { print "sku;stock"; for (i = 0; i < n; i++) printf "SKU-%07d;%d\n", i, (i*7)%50 }' |
	gzip > "$T/feed.csv.gz"
ds_supplier f <<EOC
slug = "f";
source = { url = "file://$T/feed.csv.gz"; format = "csv";
	map = { sku = "sku"; stock = "stock"; delimiter = ";"; }; };
EOC
ds_links $N f
ds sync
ds_expect_rc 0 "gz file sync"
ds_check_synced $N
exit 0
