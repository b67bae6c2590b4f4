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
guard = { enabled = false; };   # cold and 50%-changed runs are mass changes on purpose
EOC
	chmod 600 "$T/$1/suppliers.d/$2.conf"
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

# ---- the HTTP service: /v1/stock checks and webhook ingestion ----
if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1
	fi
fi
if ! command -v wrk >/dev/null 2>&1; then
	echo "# wrk not found (Debian package wrk): service rows skipped"
	exit 0
fi
cat >> "$T/api/dropstock.conf" <<EOC
service = { api_keys = ( "benchkey" ); access_log = false; threads = 4; };
EOC
chmod 600 "$T/api/dropstock.conf"
cat >> "$T/api/suppliers.d/bench.conf" <<EOC
webhook = { scheme = "github"; secret = "benchsecret"; map = { items = "items"; sku = "sku"; stock = "stock"; }; };
EOC
"$DS" --config "$T/api/dropstock.conf" serve --listen 127.0.0.1:0 2> "$T/serve.err" &
SERVE_PID=$!
i=0
until SP=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/serve.err" | head -1) && [ -n "$SP" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { cat "$T/serve.err"; echo "bench: serve did not start"; exit 1; }
	sleep 0.1
done
cat > "$T/req.lua" <<EOC
wrk.headers["Authorization"] = "Bearer benchkey"
request = function()
	return wrk.format(nil, string.format("/v1/stock/P-%07d?qty=1", math.random(0, $N - 1)))
end
EOC
wrk_row() { # NAME SECONDS
	wrk -t2 -c64 -d"$2"s --latency -s "$T/req.lua" "http://127.0.0.1:$SP" > "$T/wrk.out" 2>&1
	awk -v n="$1" '
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
		/Non-2xx/ { bad += $NF } /Socket errors/ { err = $0 }
		END { printf "%-34s %10.0f %9s %9s %8d %s\n", n, rps, p50, p99, bad, err }' "$T/wrk.out"
}
echo
printf '%-34s %10s %9s %9s %8s\n' "service case" "req/s" p50 p99 non-2xx
wrk_row "GET /v1/stock, fresh cache, alone" 10
start_mock --change-pct 50 --seed 9
sed -i "s/127.0.0.1:[0-9]*/127.0.0.1:$PORT/" "$T/api/suppliers.d/bench.conf"
"$DS" --config "$T/api/dropstock.conf" -q sync > /dev/null 2>&1 &
SYNC_PID=$!
sleep 1
wrk_row "GET /v1/stock during a full sync" 6
wait $SYNC_PID
"$GEN" webhooks "http://127.0.0.1:$SP/webhooks/bench/stock" benchsecret 2000 100 "$N" 4 2> "$T/wh.err"
awk '/^webhooks:/ { printf "%-34s %10.0f items/s (%d items in %.2f s, %d failed requests)\n",
	"POST /webhooks, batches of 100", $3 * 1000 / ($2 > 0 ? $2 : 1), $3, $2 / 1000, $4 }' "$T/wh.err"
kill $SERVE_PID; wait $SERVE_PID 2>/dev/null
