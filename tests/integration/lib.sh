# lib.sh - helpers for the integration tests (sourced, POSIX sh).
#
# The Makefile exports DROPSTOCK (the binary), MOCK_SUPPLIER, FIXTURES,
# top_srcdir and top_builddir.  Every test calls ds_setup first: it gets its
# own temporary directory $T, its own XDG directories and configuration, and
# everything it started is stopped on exit.

set -u

ds_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ds_note() {
	echo "# $*"
}

ds_cleanup() {
	for pid in ${DS_PIDS:-}; do
		kill "$pid" 2>/dev/null
	done
	for pid in ${DS_PIDS:-}; do
		wait "$pid" 2>/dev/null
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

ds_setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/dropstock-test.XXXXXX") || exit 99
	DS_PIDS=""
	trap ds_cleanup EXIT
	trap 'exit 1' INT TERM
	HOME=$T/home
	XDG_STATE_HOME=$T/state
	XDG_CONFIG_HOME=$T/config
	mkdir -p "$HOME" "$T/conf/suppliers.d"
	export HOME XDG_STATE_HOME XDG_CONFIG_HOME
	unset DROPSTOCK_CONFIG
	# the tests compare English text and C-locale numbers and dates,
	# whatever the caller's environment (C.UTF-8 keeps the console's
	# UTF-8 drawing); a test of another language sets its own
	LC_ALL=C.UTF-8
	export LC_ALL
	unset LANGUAGE
	DB=$T/db.sqlite
}

# ds_conf [EXTRA-LINES]: writes $T/conf/dropstock.conf and points
# DROPSTOCK_CONFIG at it.
ds_conf() {
	{
		echo "database = \"$DB\";"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} > "$T/conf/dropstock.conf"
	DROPSTOCK_CONFIG=$T/conf/dropstock.conf
	export DROPSTOCK_CONFIG
}

# ds_supplier SLUG < body: writes suppliers.d/SLUG.conf (mode 600).
ds_supplier() {
	cat > "$T/conf/suppliers.d/$1.conf"
	chmod 600 "$T/conf/suppliers.d/$1.conf"
}

# ds_mock_start [ARGS...]: starts the mock supplier; sets MOCK_URL.
ds_mock_start() {
	rm -f "$T/mock.port"
	"$MOCK_SUPPLIER" --port-file "$T/mock.port" --max-seconds 300 "$@" &
	DS_PIDS="$DS_PIDS $!"
	i=0
	while [ ! -s "$T/mock.port" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && ds_fail "mock supplier did not start"
		sleep 0.05
	done
	MOCK_PORT=$(cat "$T/mock.port")
	MOCK_URL="http://127.0.0.1:$MOCK_PORT"
}

# ds ARGS...: runs dropstock, output in $T/out and $T/err, status in $RC.
ds() {
	"$DROPSTOCK" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	return 0
}

ds_sql() {
	sqlite3 -batch -noheader "$DB" "$1"
}

ds_expect_rc() { # WANT MESSAGE
	[ "$RC" = "$1" ] || {
		echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
		ds_fail "$2: exit status $RC, expected $1"
	}
}

ds_expect_eq() { # GOT WANT MESSAGE
	[ "$1" = "$2" ] || ds_fail "$3: got '$1', expected '$2'"
}

ds_expect_grep() { # PATTERN FILE MESSAGE
	grep -q -e "$1" "$2" || {
		echo "--- $2"; cat "$2"
		ds_fail "$3: '$1' not found"
	}
}

ds_expect_no_grep() { # PATTERN FILE MESSAGE
	if grep -q -e "$1" "$2"; then
		echo "--- $2"; cat "$2"
		ds_fail "$3: '$1' found"
	fi
}

# ds_links N SLUG: links products P-0000000.. to supplier SKUs SKU-0000000..
# (the mock supplier's --generate items) through `dropstock link import`.
ds_links() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		print "product_sku,product_name,supplier_slug,supplier_sku"
		for (i = 0; i < n; i++) printf "P-%07d,Product %d,%s,SKU-%07d\n", i, i, s, i
	}' > "$T/links.csv"
	ds link import "$T/links.csv"
	ds_expect_rc 0 "link import"
}

# ds_expected_sum N: the sum of the mock's generated stocks, (i*7)%50.
ds_expected_sum() {
	awk -v n="$1" 'BEGIN { s = 0; for (i = 0; i < n; i++) s += (i * 7) % 50; print s }'
}

# ds_json_supplier SLUG URL PAGING [EXTRA-SOURCE-LINES] [EXTRA-TOP-LINES]:
# a supplier reading the mock's JSON envelope.
ds_json_supplier() {
	ds_supplier "$1" <<EOC
slug = "$1";
name = "Mock $1";
source = {
	url = "$2";
	format = "json";
	paging = "$3";
	page_size = 100;
	${4:-}
	map = {
		items = "data.items";
		sku = "sku";
		stock = "stock";
		updated_at = "updated_at";
		success = "success";
		message = "message";
		total = "total";
		next = "${DS_NEXT_FIELD:-next_cursor}";
	};
};
retries = 2;
retry_delay = 0.01;
timeout = ${DS_TIMEOUT:-5};
${5:-}
EOC
}

# ds_check_synced N: every link has the mock's stock.
ds_check_synced() {
	got=$(ds_sql "SELECT COUNT(*), COALESCE(SUM(supplier_stock),0) FROM supplier_links WHERE supplier_stock IS NOT NULL")
	ds_expect_eq "$got" "$1|$(ds_expected_sum "$1")" "links synced (count|sum)"
	got=$(ds_sql "SELECT SUM(stock) FROM products")
	ds_expect_eq "$got" "$(ds_expected_sum "$1")" "product stock"
}

# ds_serve_start [ARGS...]: starts `dropstock serve` on a free port; sets URL and
# PORT and SERVE_PID (killed at the end by ds_cleanup); ARGS go before
# the command (e.g. --config FILE).
ds_serve_start() {
	: > "$T/serve.err"
	"$DROPSTOCK" "$@" serve --listen 127.0.0.1:0 2> "$T/serve.err" &
	SERVE_PID=$!
	DS_PIDS="$DS_PIDS $SERVE_PID"
	i=0
	while ! grep -q "listening on" "$T/serve.err"; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$SERVE_PID" 2> /dev/null; then
			cat "$T/serve.err"
			ds_fail "dropstock serve did not start"
		fi
		sleep 0.05
	done
	PORT=$(sed -n 's/^dropstock: listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T/serve.err")
	[ -n "$PORT" ] || { cat "$T/serve.err"; ds_fail "no port in the listening line"; }
	URL=http://127.0.0.1:$PORT
}
