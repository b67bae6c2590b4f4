#!/bin/sh
# run.sh - `make bench`: full-sync throughput and peak memory at 1M SKUs.
#
# Runs from the build directory.  A generated catalogue of N linked SKUs
# (default 1,000,000; BENCH_ITEMS overrides) is synced from the mock
# supplier, which serves pre-rendered JSON pages of 500 from memory, and
# from a CSV file.  Prints one table row per case: items, sync time, items/s,
# wall time of the whole process, its peak RSS, and the mock's own CPU time.
set -u
N=${BENCH_ITEMS:-1000000}
DS=$PWD/src/dropstock
MOCK=$PWD/tests/mock/mock_supplier
GEN=$PWD/tests/bench/gen_catalogue
T=$(mktemp -d "${TMPDIR:-/tmp}/dropstock-bench.XXXXXX")
MOCK_PID=
cleanup() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export HOME=$T XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config LC_ALL=C

mock_cpu() { # utime+stime of the mock in clock ticks
	awk '{ print $14 + $15 }' "/proc/$MOCK_PID/stat" 2>/dev/null || echo 0
}
start_mock() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	rm -f "$T/port"
	"$MOCK" --port-file "$T/port" --generate "$N" --pages-prerender --page-size 500 \
		--max-seconds 3600 "$@" &
	MOCK_PID=$!
	while [ ! -s "$T/port" ]; do sleep 0.1; done
	PORT=$(cat "$T/port")
}
setup() { # DIR SLUG URL FORMAT PAGING MAP
	mkdir -p "$T/$1/suppliers.d"
	echo "database = \"$T/$1/db.sqlite\";" > "$T/$1/dropstock.conf"
	cat > "$T/$1/suppliers.d/$2.conf" <<EOC
slug = "$2";
source = { url = "$3"; format = "$4"; paging = "$5"; page_size = 500; map = { $6 }; };
timeout = 120;
EOC
	"$GEN" links "$N" "$2" "$T/$1/links.csv"
	s=$(date +%s)
	"$DS" --config "$T/$1/dropstock.conf" link import "$T/$1/links.csv" >/dev/null || exit 1
	echo "# $1: linked $N SKUs in $(($(date +%s) - s)) s"
}

hz=$(getconf CLK_TCK)
printf '%-28s %9s %9s %10s %9s %9s %9s\n' case items sync_s items/s wall_s rss_MB mock_cpu_s
row() { # NAME CONFIG
	c0=$( [ -n "$MOCK_PID" ] && mock_cpu || echo 0)
	"$GEN" measure "$DS" --config "$2" -q sync --json > "$T/out.json" 2> "$T/err" || {
		cat "$T/err"; echo "bench: $1 failed"; exit 1; }
	c1=$( [ -n "$MOCK_PID" ] && mock_cpu || echo 0)
	seen=$(sed -n 's/.*"seen": \([0-9]*\).*/\1/p' "$T/out.json" | head -1)
	ms=$(sed -n 's/.*"duration_ms": \([0-9]*\).*/\1/p' "$T/out.json" | head -1)
	set -- "$1" $(sed -n 's/^measure: //p' "$T/err")
	awk -v n="$1" -v seen="$seen" -v ms="$ms" -v wall="$2" -v rss="$3" -v c="$((c1 - c0))" -v hz="$hz" \
		'BEGIN { printf "%-28s %9d %9.2f %10.0f %9.2f %9.1f %9.2f\n", n, seen, ms / 1000,
		         seen * 1000 / (ms > 0 ? ms : 1), wall / 1000, rss / 1024, c / hz }'
}

setup api bench "http://127.0.0.1:PORT/items" json page 'items = "data.items"; sku = "sku"; stock = "stock"; updated_at = "updated_at";'
start_mock
sed -i "s/PORT/$PORT/" "$T/api/suppliers.d/bench.conf"
row "JSON API, cold (all new)" "$T/api/dropstock.conf"
row "JSON API, no change" "$T/api/dropstock.conf"
start_mock --change-pct 1 --seed 7
sed -i "s/127.0.0.1:[0-9]*/127.0.0.1:$PORT/" "$T/api/suppliers.d/bench.conf"
row "JSON API, 1% changed" "$T/api/dropstock.conf"
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=

"$GEN" csv "$N" 0 1 "$T/feed.csv"
setup csv benchcsv "file://$T/feed.csv" csv none 'sku = "sku"; stock = "stock"; updated_at = "updated_at";'
row "CSV file, cold (all new)" "$T/csv/dropstock.conf"
row "CSV file, no change" "$T/csv/dropstock.conf"
