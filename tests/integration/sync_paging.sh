#!/bin/sh
# Every pagination style against the mock supplier: 1050 items, pages of 100.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_mock_start --generate 1050 --log "$T/requests.log"
ds_conf
N=1050

run() { # SLUG URL PAGING SOURCE-LINES
	rm -f "$DB" "$DB-wal" "$DB-shm"
	rm -f "$T/conf/suppliers.d/"*.conf
	ds_json_supplier "$@"
	ds_links $N "$1"
	ds sync --supplier "$1"
	ds_expect_rc 0 "$3 paging sync"
	ds_check_synced $N
	PAGES=$(ds_sql "SELECT pages FROM sync_runs ORDER BY id DESC LIMIT 1")
}

run pg "$MOCK_URL/items" page ""
ds_expect_eq "$PAGES" 11 "page: 11 pages (last one short)"
grep -q 'page=11&limit=100' "$T/requests.log" || ds_fail "page numbers not sent"

run off "$MOCK_URL/items" offset ""
ds_expect_eq "$PAGES" 11 "offset: 11 pages"
grep -q 'offset=1000&limit=100' "$T/requests.log" || ds_fail "offsets not sent"

run tot "$MOCK_URL/items" page 'end = "total";'
ds_expect_eq "$PAGES" 11 "end by total"

run cur "$MOCK_URL/items" cursor ""
ds_expect_eq "$PAGES" 11 "cursor: 11 pages"
grep -q 'cursor=' "$T/requests.log" || ds_fail "cursor not sent"

DS_NEXT_FIELD=next
run nxt "$MOCK_URL/items?limit=100" next_url ""
ds_expect_eq "$PAGES" 11 "next_url: 11 pages"
unset DS_NEXT_FIELD

run lnk "$MOCK_URL/items?limit=100" link ""
ds_expect_eq "$PAGES" 11 "Link header: 11 pages"

run one "$MOCK_URL/items" none ""
ds_expect_eq "$PAGES" 1 "no paging: one document"
# A supplier whose pages count from 0.
ds_mock_start --generate 1050 --first-page 0 --log "$T/requests0.log"
run pg0 "$MOCK_URL/items" page 'first_page = 0;'
ds_expect_eq "$PAGES" 11 "page from 0"
grep -q 'page=0&limit=100' "$T/requests0.log" || ds_fail "page 0 not asked"
exit 0
