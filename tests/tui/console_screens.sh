#!/bin/sh
# The console's History, SKU view, Check and Unknown screens, driven in
# tmux against the mock supplier: History lists the changes of two syncs
# and `/` narrows them; Enter opens the SKU view (suppliers, chart);
# Check shows the live value from the mock's /check/SKU and writes it;
# Unknown lists an unlinked SKU and `l` links it.  Then the same views in
# an ASCII terminal (TERM=vt100, C locale).
. "$top_srcdir/tests/integration/lib.sh"
ds_setup
ds_conf

for tool in tmux sqlite3; do
	command -v $tool > /dev/null 2>&1 || {
		echo "SKIP: $tool is not installed"
		exit 77
	}
done

# ---- tmux helpers (own socket, so parallel tests never collide) ----
SOCKS=""
scr_cleanup() {
	for s in $SOCKS; do
		tmux -L "$s" kill-server > /dev/null 2>&1
	done
	ds_cleanup
}
trap scr_cleanup EXIT

# scr_start TERM LOCALE [ARGS...]: the console in an 80x24 window, on a
# new tmux server (the previous one is stopped).
scr_n=0
scr_start() {
	term=$1
	locale=$2
	shift 2
	[ -n "${SOCK:-}" ] && tmux -L "$SOCK" kill-server > /dev/null 2>&1
	scr_n=$((scr_n + 1))
	SOCK=ds$$-$scr_n
	SOCKS="$SOCKS $SOCK"
	tmux -L "$SOCK" -f /dev/null new-session -d -x 80 -y 24 \
		"exec env TERM=$term LC_ALL=$locale DROPSTOCK_CONFIG='$DROPSTOCK_CONFIG' \
		HOME='$HOME' XDG_STATE_HOME='$XDG_STATE_HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' \
		'$DROPSTOCK' console $* 2> '$T/console.err'" || ds_fail "tmux did not start"
	tmux -L "$SOCK" set-option -g remain-on-exit on > /dev/null 2>&1
}

scr_keys() {
	tmux -L "$SOCK" send-keys "$@"
}

scr_screen() {
	tmux -L "$SOCK" capture-pane -p
}

# scr_wait_for TEXT [SECONDS]: polls the screen until TEXT (fixed string)
# shows.
scr_wait_for() {
	limit=$(( ${2:-10} * 10 ))
	i=0
	while [ $i -lt $limit ]; do
		scr_screen > "$T/screen" 2> /dev/null
		grep -q -F -e "$1" "$T/screen" && return 0
		i=$((i + 1))
		sleep 0.1
	done
	echo "--- screen"
	cat "$T/screen"
	echo "--- console stderr"
	cat "$T/console.err" 2> /dev/null
	ds_fail "'$1' did not show on the screen"
}

# scr_wait_gone TEXT [SECONDS]
scr_wait_gone() {
	limit=$(( ${2:-10} * 10 ))
	i=0
	while [ $i -lt $limit ]; do
		scr_screen > "$T/screen" 2> /dev/null
		grep -q -F -e "$1" "$T/screen" || return 0
		i=$((i + 1))
		sleep 0.1
	done
	echo "--- screen"
	cat "$T/screen"
	ds_fail "'$1' stayed on the screen"
}

# ---- a catalogue with a check source, synced twice ----
items() { # JSON-ARRAY
	printf '%s\n' "$1" > "$T/items.tmp"
	mv "$T/items.tmp" "$T/items.json"
}
items '[{"sku": "AC-1", "stock": 5}, {"sku": "AC-2", "stock": 3},
        {"sku": "ZZ-NEW", "stock": 8}]'
ds_mock_start --items "$T/items.json"
ds_supplier acme <<EOC
slug = "acme";
name = "Acme";
source = {
	url = "$MOCK_URL/items";
	format = "json";
	map = { items = "data.items"; sku = "sku"; stock = "stock"; };
};
check = { url = "$MOCK_URL/check/{sku}"; map = { sku = "sku"; stock = "stock"; }; };
retries = 0;
EOC
cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P1,Widget,acme,AC-1
P2,Gadget,acme,AC-2
EOF
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"
ds sync
ds_expect_rc 0 "first sync"
items '[{"sku": "AC-1", "stock": 19}, {"sku": "AC-2", "stock": 3},
        {"sku": "ZZ-NEW", "stock": 8}]'
ds sync
ds_expect_rc 0 "second sync"
ds_expect_eq "$(ds_sql "SELECT stock FROM products WHERE sku = 'P1'")" 19 "P1 after the syncs"
ds_expect_eq "$(ds_sql "SELECT count(*) FROM unknown_skus WHERE supplier_sku = 'ZZ-NEW'")" 1 \
	"ZZ-NEW recorded as unknown"

# ---- History ----
scr_start xterm-256color C.UTF-8
scr_wait_for "Suppliers"
scr_keys 3
scr_wait_for "Prev"
scr_wait_for "5 → 19"
scr_wait_for "AC-2"
grep -q "full" "$T/screen" || ds_fail "history: no source column"
# the newest change comes first
first=$(grep -n -e "AC-" "$T/screen" | head -n 1)
case $first in
*AC-1*) ;;
*) cat "$T/screen"; ds_fail "history: the newest change (AC-1) is not first" ;;
esac

# `/` narrows to one SKU
scr_keys /
scr_wait_for "SKU contains"
scr_keys "AC-2" Enter
scr_wait_for "SKU: AC-2"
scr_wait_gone "AC-1"
grep -q "P2" "$T/screen" || ds_fail "history filter: P2's change is missing"
# `c` clears it, `o` filters by source
scr_keys c
scr_wait_for "AC-1"
scr_keys o
scr_wait_for "Source: full"
scr_keys o
scr_wait_for "Source: delta"
scr_wait_for "No stock changes match"
scr_keys c
scr_wait_for "5 → 19"

# `[` shows the selected change's day, `]` goes back to every date
scr_keys "["
scr_wait_for "Day: $(date +%Y-%m-%d)"
grep -q "5 → 19" "$T/screen" || ds_fail "history: today's window lost today's change"
scr_keys "["
scr_wait_for "No stock changes match"
scr_keys "]" "]"
scr_wait_for "Day: all dates"

# ---- SKU view: Enter on the newest row (P1) ----
scr_keys g Enter
scr_wait_for "SKU P1"
scr_wait_for "Stock over time"
grep -q "Widget" "$T/screen" || ds_fail "SKU view: no product name"
grep -q "acme  *AC-1  *19" "$T/screen" || {
	cat "$T/screen"
	ds_fail "SKU view: the supplier line (acme AC-1 19) is missing"
}
# braille dots: the full cell U+28FF is drawn where the stock stood at 19
grep -q "⣿" "$T/screen" || { cat "$T/screen"; ds_fail "SKU view: no braille chart"; }
scr_keys Escape
scr_wait_for "Prev"
scr_wait_gone "Stock over time"

# ---- Check: cached, then live through the engine ----
items '[{"sku": "AC-1", "stock": 120}, {"sku": "AC-2", "stock": 3},
        {"sku": "ZZ-NEW", "stock": 8}]'
scr_keys 4
scr_wait_for "Check a store SKU"
scr_keys Enter
scr_wait_for "Store SKU to check"
scr_keys C-u "P1" Enter
scr_wait_for "live 120"
scr_wait_for "stock 19 -> 120"
grep -q "cached 19" "$T/screen" || { cat "$T/screen"; ds_fail "check: no cached value"; }
ds_expect_eq "$(ds_sql "SELECT stock FROM products WHERE sku = 'P1'")" 120 \
	"P1 after the console's check"
ds_expect_eq "$(ds_sql "SELECT count(*) FROM stock_log WHERE source = 'check'")" 1 \
	"the check's stock_log row"
# a supplier SKU: `s` picks acme; the earlier check stays listed
scr_keys s
scr_wait_for "supplier SKU at acme"
scr_keys Enter
scr_wait_for "Supplier SKU to check"
scr_keys C-u "AC-2" Enter
scr_wait_for "AC-2 (supplier SKU at acme)"
scr_wait_for "live 3"
grep -q "P1 (store SKU)" "$T/screen" || ds_fail "check: the earlier check is gone"
# an unknown product: the error shows in the console
scr_keys s
scr_wait_for "Check a store SKU"
scr_keys Enter
scr_wait_for "Store SKU to check"
scr_keys C-u "NOPE" Enter
scr_wait_for "NOPE"
scr_wait_for "no product"

# ---- Unknown: list, link ----
scr_keys 5
scr_wait_for "ZZ-NEW"
grep -q "acme" "$T/screen" || ds_fail "unknown: no supplier column"
scr_keys l
scr_wait_for "Link acme/ZZ-NEW to store SKU"
scr_keys C-u "P3" Enter
scr_wait_for "New product P3"
scr_keys "Thing three" Enter
scr_wait_for "linked acme/ZZ-NEW to P3"
scr_wait_for "Every SKU the suppliers sent is linked"
ds_expect_eq "$(ds_sql "SELECT p.sku || '|' || p.name FROM supplier_links l
	JOIN products p ON p.id = l.product_id WHERE l.supplier_sku = 'ZZ-NEW'")" \
	"P3|Thing three" "the link made from the console"
ds unknown
ds_expect_rc 0 "dropstock unknown"
ds_expect_no_grep "ZZ-NEW" "$T/out" "dropstock unknown after linking"

# q leaves: the pane's process ends (or the server with it)
scr_keys q
i=0
while dead=$(tmux -L "$SOCK" display-message -p '#{pane_dead}' 2> /dev/null) &&
	[ "$dead" != 1 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && ds_fail "the console did not quit on q"
	sleep 0.1
done

# ---- read-only: no link, check is a dry run ----
scr_start xterm-256color C.UTF-8 --read-only
scr_wait_for "Suppliers"
scr_keys 4
scr_wait_for "read-only: live values are shown, not written"
items '[{"sku": "AC-1", "stock": 2000}, {"sku": "AC-2", "stock": 3}]'
scr_keys Enter
scr_wait_for "Store SKU to check"
scr_keys C-u "P1" Enter
scr_wait_for "live 2000"
scr_wait_for "not written"
ds_expect_eq "$(ds_sql "SELECT stock FROM products WHERE sku = 'P1'")" 120 \
	"P1 after a read-only check"

# ---- ASCII: TERM=vt100 in the C locale ----
scr_start vt100 C
scr_wait_for "Suppliers"
scr_keys 3
scr_wait_for "19 -> 120"
scr_keys g Enter
scr_wait_for "SKU P1"
scr_wait_for "Stock over time"
grep -q "##" "$T/screen" || { cat "$T/screen"; ds_fail "SKU view (ASCII): no '#' chart"; }
if LC_ALL=C grep -q '[^ -~]' "$T/screen"; then
	cat "$T/screen"
	ds_fail "SKU view (ASCII): non-ASCII characters on a vt100"
fi
scr_keys Escape 5
scr_wait_for "linked to nothing"
scr_keys q
exit 0
