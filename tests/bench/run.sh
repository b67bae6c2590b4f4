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
service_rows() {
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
}
if command -v wrk >/dev/null 2>&1; then
	service_rows
else
	echo "# wrk not found (Debian package wrk): service rows skipped"
fi

# ---- the console: first screen, History paging and filter ----
# A database of BENCH_HISTORY_LINKS links (default 10,000, three suppliers)
# and BENCH_HISTORY_ROWS stock_log rows (default 10,000,000 over 90 days,
# written by gen_history); the console runs in tmux at 120x40 as the
# console tests drive it.  Times are from the keys (or the start) to the
# screen showing the result, polled with capture-pane (a few ms apart);
# each figure is the median of BENCH_CONSOLE_REPEATS (default 7).
if ! command -v tmux >/dev/null 2>&1; then
	echo "# tmux not found: console rows skipped"
	exit 0
fi
HROWS=${BENCH_HISTORY_ROWS:-10000000}
HLINKS=${BENCH_HISTORY_LINKS:-10000}
REP=${BENCH_CONSOLE_REPEATS:-7}
HGEN=$PWD/tests/bench/gen_history
C=$T/console
mkdir -p "$C/suppliers.d"
echo "database = \"$C/db.sqlite\";" > "$C/dropstock.conf"
for s in alpha beta gamma; do
	cat > "$C/suppliers.d/$s.conf" <<EOC
slug = "$s";
source = { url = "file://$C/$s.csv"; format = "csv"; map = { sku = "sku"; stock = "stock"; }; };
EOC
	chmod 600 "$C/suppliers.d/$s.conf"
done
"$HGEN" links "$HLINKS" "$C/links.csv" alpha beta gamma
"$DS" --config "$C/dropstock.conf" link import "$C/links.csv" >/dev/null || exit 1
"$HGEN" fill "$C/db.sqlite" "$HROWS" 90 1 2> "$C/fill.err" || { cat "$C/fill.err"; exit 1; }
echo
awk '{ printf "# console: %d stock_log rows written in %.1f s\n", $2, $3 / 1000 }' "$C/fill.err"

TS=dsbench$$
ctmux() { tmux -L "$TS" -f /dev/null "$@"; }
trap 'ctmux kill-server >/dev/null 2>&1; cleanup' EXIT
now_ms() { date +%s%3N; }
# cwait T0 CMD...: polls the screen into $C/screen until CMD (a test on
# that file) holds; prints the milliseconds since T0, or "timeout"
cwait() {
	_t0=$1; shift
	_end=$(( $(now_ms) + 30000 ))
	while :; do
		ctmux capture-pane -p -t bench > "$C/screen" 2>/dev/null
		if "$@"; then
			echo $(( $(now_ms) - _t0 ))
			return 0
		fi
		[ "$(now_ms)" -gt "$_end" ] && { echo timeout; return 1; }
	done
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }
has_row='[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] '
first_screen() { grep -q '1 Suppliers' "$C/screen" && grep -q '^alpha ' "$C/screen"; }
history_page() { # N: page N with its rows
	grep -q "  Page $1\$" "$C/screen" && grep -q "^$has_row" "$C/screen"
}
history_sku() { # SKU: filtered by SKU, with rows of it
	grep -q "SKU: $1 " "$C/screen" && grep -q "^$has_row.*$1" "$C/screen"
}
CONSOLE="exec env TERM=xterm-256color LC_ALL=C.UTF-8 HOME='$HOME' XDG_STATE_HOME='$XDG_STATE_HOME' \
XDG_CONFIG_HOME='$XDG_CONFIG_HOME' '$DS' --config '$C/dropstock.conf' console"
ctmux new-session -d -s bench -x 120 -y 40 "sleep 100000" || { echo "bench: tmux did not start"; exit 1; }
ctmux set-option -g remain-on-exit on >/dev/null 2>&1
ctmux set-option -t bench window-size manual >/dev/null 2>&1

: > "$C/start"
for i in $(seq "$REP"); do
	t0=$(now_ms)
	ctmux respawn-pane -k -t bench "$CONSOLE"
	cwait "$t0" first_screen >> "$C/start" || { cat "$C/screen"; echo "bench: no first screen"; exit 1; }
done

# History: PgDn through REP pages, then REP SKU filters (each from the
# unfiltered first page): hot and cold supplier SKUs, store SKUs, a prefix
ctmux send-keys -t bench 3
cwait "$(now_ms)" history_page 1 > /dev/null || { cat "$C/screen"; echo "bench: no History"; exit 1; }
: > "$C/pgdn"
for i in $(seq "$REP"); do
	t0=$(now_ms)
	ctmux send-keys -t bench NPage
	cwait "$t0" history_page $((i + 1)) >> "$C/pgdn" || { cat "$C/screen"; echo "bench: PgDn"; exit 1; }
done
: > "$C/filter"
i=0
for sku in SKU-0000042 SKU-0009042 P-0005555 SKU-0000137 SKU-0007001 P-0000321 SKU-000004 \
           SKU-0003333 P-0008888 SKU-0000999; do
	i=$((i + 1))
	[ $i -gt "$REP" ] && break
	ctmux send-keys -t bench /
	sleep 0.2
	ctmux send-keys -t bench C-u
	ctmux send-keys -t bench -l "$sku"
	sleep 0.2
	t0=$(now_ms)
	ctmux send-keys -t bench Enter
	cwait "$t0" history_sku "$sku" >> "$C/filter" || { cat "$C/screen"; echo "bench: filter $sku"; exit 1; }
	echo "$sku=$(tail -1 "$C/filter")" >> "$C/filters"
done
ctmux send-keys -t bench q

printf '%-40s %9s %9s %9s %s\n' "console case (${HROWS} stock_log rows)" median_ms min_ms max_ms target
crow() { # NAME FILE TARGET
	printf '%-40s %9s %9s %9s %s\n' "$1" "$(median < "$2")" "$(sort -n "$2" | head -1)" \
		"$(sort -n "$2" | tail -1)" "$3"
}
crow "start to first full screen" "$C/start" "< 200 ms"
crow "History PgDn" "$C/pgdn" "< 50 ms"
crow "History / SKU filter" "$C/filter" "< 50 ms"
echo "# filter ms:" $(cat "$C/filters")
