#!/bin/sh
# console_basic.sh - the console's frame and core screens, driven in tmux:
# tabs and status line at 80x24 and 200x60, the help overlay, every screen
# switch, a full sync started with f showing its progress and result on the
# Syncs screen, a sync started in a second console showing in the first, a
# sync that outlives its closed window, --read-only, quitting with q and
# Ctrl-C (terminal restored), colours and NO_COLOR, ASCII on TERM=vt100.
. "$top_srcdir/tests/tui/lib.sh"
tui_setup

N=2000
# 20 pages of 100, each answered after 250 ms: a sync takes about 5 s
ds_mock_start --generate $N --delay-ms 250
ds_conf
ds_json_supplier acme "$MOCK_URL/items" page
ds_json_supplier beta "$MOCK_URL/items" page
ds_links $N acme
ds link add P-0000001 beta SKU-0000001
ds_expect_rc 0 "link beta"
ds_json_supplier gone "$MOCK_URL/items" page
ds link add P-0000002 gone SKU-0000002
ds_expect_rc 0 "link gone"

# ---- the frame at 80x24 ----
tui_start
tui_wait_for "1 Suppliers"
for tab in "2 Syncs" "3 History" "4 Check" "5 Unknown" "? help"; do
	tui_expect "$tab" "tab bar"
done
tui_wait_for "acme"
tui_expect "beta" "second supplier row"
tui_expect "http/json" "source kind and format"
tui_expect "   $N " "linked SKUs of acme"
tui_expect "daemon: not running" "status line: daemon"
tui_expect "db.sqlite" "status line: database path"
# nothing is wider than the terminal, and the bottom line is the status line
[ "$(tui_screen | wc -L)" -le 80 ] || ds_fail "line wider than 80"
[ "$(tui_screen | wc -l)" -eq 24 ] || ds_fail "screen is not 24 lines"
tui_screen | tail -1 | grep -q "daemon:" || ds_fail "status line is not the last line"
tui_expect "$(printf '\342\224\200\342\224\200\342\224\200')" "box drawing characters in UTF-8"

# ---- help ----
tui_keys '?'
tui_wait_for "Keys: Suppliers"
tui_expect "start a full sync" "help: f"
tui_expect "test the connection" "help: t"
tui_expect "Everywhere" "help: global keys"
tui_keys Escape
tui_wait_gone "Keys: Suppliers"

# ---- switching screens: digits, Tab, Shift-Tab ----
tui_keys 2
tui_wait_for "Running and queued"
tui_expect "Recent runs" "syncs screen"
for k in 3 4 5; do
	tui_keys $k
	tui_wait_gone "Running and queued"
	tui_keys 2
	tui_wait_for "Running and queued"
done
tui_keys 1
tui_wait_for "LAST FULL"
tui_keys Tab
tui_wait_for "Running and queued"
tui_keys BTab
tui_wait_for "LAST FULL"

# ---- details and the connection test ----
tui_keys Enter
tui_wait_for "Mock acme"
tui_expect "Schedule" "details: schedule"
tui_expect "no runs yet" "details: runs"
tui_keys Escape
tui_wait_for "LAST FULL"
tui_keys t
tui_wait_for "parsed"
tui_expect "SKU-0000000" "test connection: first item"
tui_expect "HTTP 200" "test connection: status"
tui_keys Escape
tui_wait_for "LAST FULL"
[ "$(ds_sql 'SELECT count(*) FROM sync_runs')" = 0 ] || ds_fail "the test wrote a run"

# ---- f: a full sync, its progress, then its result ----
tui_keys f
tui_wait_for "full sync of acme started"
tui_keys 2
tui_wait_for -T 10 "pages"
tui_expect "acme" "running sync listed"
tui_wait_for -T 10 "%"
tui_screen > "$T/progress.txt"
grep -q "$(printf '\342\226\210')" "$T/progress.txt" || {
	cat "$T/progress.txt"; ds_fail "no block characters in the progress bar"; }
tui_wait_for -T 30 "succeeded"
tui_wait_for "no sync is running or queued"
tui_sql_wait "SELECT status, seen FROM sync_runs ORDER BY id DESC LIMIT 1" "succeeded|$N"
# no daemon: the run went in a process of its own, recorded as the console's
tui_sql_wait "SELECT \"trigger\" FROM sync_runs ORDER BY id DESC LIMIT 1" console
# the run's details
tui_keys Enter
tui_wait_for "Run 1: full sync of acme"
tui_expect "Changes: $N" "details: changes counted"
tui_expect "SKU-0000000" "details: first change"
tui_keys Escape
tui_wait_for "Recent runs"
# the suppliers screen has the result
tui_keys 1
tui_wait_for " ok "

# ---- a second console: a sync started there shows here ----
tui_keys 2
tui_wait_for "Recent runs"
tui_start -s second
tui_wait_for -s second "beta"
tui_keys -s second Down
tui_keys -s second f
tui_wait_for -s second "full sync of beta started"
tui_wait_for -T 10 "beta "
tui_expect "pages" "beta's progress in the first console"
tui_sql_wait "SELECT status FROM sync_runs WHERE id = 2" "succeeded" 30
tui_wait_for -s second "Suppliers"

# ---- closing the window during a sync leaves the sync running ----
tui_keys -s second Up
tui_keys -s second f
tui_wait_for -s second "full sync of acme started"
tui_sql_wait "SELECT status FROM sync_runs WHERE id = 3" "running"
tui_kill_session second
tui_sql_wait "SELECT status FROM sync_runs WHERE id = 3" "succeeded" 30
tui_wait_for "no sync is running or queued"

# ---- 200x60 ----
tui_start -s big -x 200 -y 60
tui_wait_for -s big "Mock acme"
tui_screen -s big > "$T/big.txt"
[ "$(wc -l < "$T/big.txt")" -eq 60 ] || ds_fail "200x60: not 60 lines"
[ "$(wc -L < "$T/big.txt")" -le 200 ] || ds_fail "200x60: too wide"
grep -q "SUPPLIER *NAME *ON *SOURCE *LINKS *LAST FULL *LAST DELTA *NEXT" "$T/big.txt" || {
	cat "$T/big.txt"; ds_fail "200x60: header columns"; }
tui_keys -s big 2
tui_wait_for -s big "Recent runs"
tui_quit -s big

# ---- Space: off and on again, through the supplier file ----
tui_keys 1
tui_wait_for "LAST FULL"
tui_keys Home Space
tui_wait_for "acme is off"
grep -q "active *= *false" "$T/conf/suppliers.d/acme.conf" || ds_fail "Space: acme not off"
tui_keys Space
tui_wait_for "acme is on"
grep -q "active *= *false" "$T/conf/suppliers.d/acme.conf" && ds_fail "Space: acme still off"

# ---- c: cancel a running sync (it stops after its page) ----
tui_keys f
tui_wait_for "full sync of acme started"
tui_keys 2
tui_wait_for -T 10 "pages"
tui_keys Home c
tui_wait_for "stop running run 4"
tui_keys y
tui_wait_for "asked to stop"
tui_sql_wait "SELECT status FROM sync_runs WHERE id = 4" "interrupted"
tui_wait_for "no sync is running or queued"

# ---- r: retry it ----
tui_keys Home r
tui_wait_for "full sync of acme started again"
tui_sql_wait "SELECT status FROM sync_runs WHERE id = 5" "succeeded" 30
tui_wait_for "no sync is running or queued"

# ---- v: revert the first run (refused for a run that did not succeed) ----
tui_keys Home Down v
tui_wait_for "only a succeeded run can be reverted"
tui_keys End v
tui_wait_for "revert run 1"
tui_keys y
tui_wait_for "revert of run 1 started"
tui_sql_wait "SELECT count(*) FROM sync_runs WHERE kind = 'revert' AND status = 'succeeded'" 1
tui_wait_for "revert"

# ---- x: remove a supplier (its file kept as .bak) ----
tui_keys 1
tui_wait_for "LAST FULL"
tui_keys End x
tui_wait_for "remove supplier gone"
tui_keys n
tui_wait_for "cancelled"
[ -f "$T/conf/suppliers.d/gone.conf" ] || ds_fail "x then n removed the file"
tui_keys End x
tui_wait_for "remove supplier gone"
tui_keys y
tui_wait_for "supplier gone removed (1 link)"
[ -f "$T/conf/suppliers.d/gone.conf" ] && ds_fail "x: gone.conf still there"
[ -f "$T/conf/suppliers.d/gone.conf.bak" ] || ds_fail "x: no gone.conf.bak"
[ "$(ds_sql "SELECT count(*) FROM suppliers WHERE slug = 'gone'")" = 0 ] ||
	ds_fail "x: supplier still in the database"
[ "$(ds_sql "SELECT count(*) FROM supplier_links WHERE supplier_sku = 'SKU-0000002'")" = 1 ] ||
	ds_fail "x: the supplier's link is still there"
tui_expect_no "gone    " "x: row still listed"
RUNS=$(ds_sql 'SELECT count(*) FROM sync_runs')

# ---- --read-only: keys that write are refused, and left out of the help ----
tui_start -s ro -- console --read-only
tui_wait_for -s ro "acme"
tui_keys -s ro '?'
tui_wait_for -s ro "Keys: Suppliers"
tui_expect_no -s ro "start a full sync" "read-only help lists f"
tui_expect -s ro "test the connection" "read-only help lists t"
tui_keys -s ro Escape
tui_wait_gone -s ro "Keys: Suppliers"
tui_keys -s ro f
tui_wait_for -s ro "read-only console"
tui_quit -s ro
[ "$(ds_sql 'SELECT count(*) FROM sync_runs')" = "$RUNS" ] ||
	ds_fail "read-only console started a run"

# ---- colours, and NO_COLOR ----
tui_tmux capture-pane -p -e -t main > "$T/colour.txt"
grep -q "$(printf '\033')\[[0-9;]*4[0-7][;m]" "$T/colour.txt" ||
	grep -q "$(printf '\033')\[[0-9;]*48;5;" "$T/colour.txt" || ds_fail "no colours"
NO_COLOR=1
export NO_COLOR
tui_start -s nc
tui_wait_for -s nc "acme"
tui_tmux capture-pane -p -e -t nc > "$T/nocolour.txt"
if grep -q "$(printf '\033')\[[0-9;]*[34][0-7][;m]" "$T/nocolour.txt"; then
	ds_fail "NO_COLOR: colour sequences on the screen"
fi
grep -q "$(printf '\033')\[[0-9;]*7[;m]" "$T/nocolour.txt" || ds_fail "NO_COLOR: no reverse video"
tui_quit -s nc
unset NO_COLOR

# ---- TERM=vt100: ASCII only ----
tui_start -s vt -t vt100
tui_wait_for -s vt "acme"
tui_keys -s vt 2
tui_wait_for -s vt "Recent runs"
tui_screen -s vt > "$T/vt100.txt"
[ "$(tr -d '\n -~' < "$T/vt100.txt" | wc -c)" -eq 0 ] || {
	cat "$T/vt100.txt"; ds_fail "TERM=vt100: non-ASCII characters on the screen"; }
tui_keys -s vt 1
tui_wait_for -s vt "LAST FULL"
tui_screen -s vt > "$T/vt100.txt"
grep -q -- "-----" "$T/vt100.txt" || ds_fail "TERM=vt100: ASCII line missing"
[ "$(tr -d '\n -~' < "$T/vt100.txt" | wc -c)" -eq 0 ] || ds_fail "TERM=vt100: non-ASCII"
tui_quit -s vt

# ---- q and Ctrl-C restore the terminal ----
tui_quit
tui_screen > "$T/after.txt"
grep -q '^\$' "$T/after.txt" || { cat "$T/after.txt"; ds_fail "no shell prompt after q"; }
if grep -q "Suppliers\|daemon:" "$T/after.txt"; then
	cat "$T/after.txt"; ds_fail "console left on the screen after q"
fi
tui_start -s cc
tui_wait_for -s cc "acme"
tui_keys -s cc C-c
tui_wait_for -s cc "[exit 0]"
tui_expect_no -s cc "daemon:" "console left on the screen after Ctrl-C"

# ---- test connection: mapping errors per item, and a source that fails ----
ds_supplier zz-bad <<EOC
slug = "zz-bad";
source = {
	url = "$MOCK_URL/items";
	format = "json";
	paging = "page";
	page_size = 100;
	map = { items = "data.items"; sku = "sku"; stock = "sku"; };
};
EOC
ds_supplier zz-dead <<EOC
slug = "zz-dead";
source = { url = "http://127.0.0.1:1/items"; format = "json"; map = { sku = "sku"; stock = "stock"; }; };
retries = 0;
timeout = 2;
EOC
tui_start -s tc
tui_wait_for -s tc "zz-dead"
tui_keys -s tc End t
tui_wait_for -s tc "The test failed"
tui_expect -s tc "127.0.0.1:1" "failed test names the URL"
tui_keys -s tc Escape Up t
tui_wait_for -s tc "parsed"
tui_expect -s tc "is not a number" "test connection: mapping error of an item"
tui_keys -s tc Escape
tui_quit -s tc

# ---- a crash signal: the terminal is given back, then the process dies ----
tui_start -s crash
tui_wait_for -s crash "acme"
shpid=$(tui_tmux list-panes -t crash -F '#{pane_pid}')
cpid=$(ps -o pid= --ppid "$shpid" | tr -d ' ' | head -1)
[ -n "$cpid" ] || ds_fail "crash: console process not found"
kill -SEGV "$cpid"
tui_wait_for -s crash "[exit 139]"
tui_expect_no -s crash "daemon:" "console left on the screen after SIGSEGV"

# ---- with a daemon: f queues the run for it (trigger console) ----
ds_conf 'daemon = { full = "off"; delta = "off"; serve = false; };'
"$DROPSTOCK" daemon --no-serve > "$T/daemon.out" 2>&1 &
DS_PIDS="$DS_PIDS $!"
tui_start -s dm
tui_wait_for -s dm "acme"
tui_wait_for -s dm "daemon: running"
last=$(ds_sql "SELECT max(id) FROM sync_runs")
tui_keys -s dm f
tui_wait_for -s dm "full sync of acme started"
tui_sql_wait "SELECT count(*) FROM sync_runs WHERE id > $last AND \"trigger\" = 'console'" 1
tui_sql_wait "SELECT status FROM sync_runs WHERE id > $last AND \"trigger\" = 'console'" \
	succeeded 30
tui_keys -s dm 2
tui_wait_for -s dm "console  succeeded"
tui_quit -s dm

# ---- without a terminal: usage, not the console ----
"$DROPSTOCK" < /dev/null > "$T/out" 2> "$T/err"
[ $? -eq 2 ] || ds_fail "no command without a terminal: expected exit 2"
grep -q "Usage: dropstock" "$T/err" || ds_fail "no command without a terminal: no usage"
"$DROPSTOCK" console < /dev/null > "$T/out" 2> "$T/err"
[ $? -eq 2 ] || ds_fail "console without a terminal: expected exit 2"
grep -q "needs a terminal" "$T/err" || ds_fail "console without a terminal: no message"

# ---- the man page's key lists are the console's own tables ----
# dropstock.1 holds them as generated by `make update-man`; any key added,
# removed or reworded in a table and not regenerated fails here.
"$DROPSTOCK" console --keys > "$T/keys" || ds_fail "console --keys"
grep -q "^Suppliers:" "$T/keys" || ds_fail "console --keys: no Suppliers screen"
"$DROPSTOCK" console --keys=man > "$T/keys.roff" || ds_fail "console --keys=man"
sh "$top_srcdir/doc/update-keys.sh" "$T/keys.roff" "$top_srcdir/doc/dropstock.1" \
	> "$T/dropstock.1" 2> "$T/update.err" || {
	cat "$T/update.err"
	ds_fail "doc/update-keys.sh failed on dropstock.1"
}
if ! cmp -s "$T/dropstock.1" "$top_srcdir/doc/dropstock.1"; then
	diff -u "$top_srcdir/doc/dropstock.1" "$T/dropstock.1" | head -n 40
	ds_fail "dropstock.1 CONSOLE differs from the console's key tables; run 'make update-man'"
fi
groff -man -ww -z "$T/dropstock.1" 2> "$T/groff" && [ ! -s "$T/groff" ] ||
	ds_fail "the generated key lists do not render cleanly: $(cat "$T/groff")"

# ---- DS_SAVE_SCREENS=DIR: captures of every screen on the demo data ----
if [ -n "${DS_SAVE_SCREENS:-}" ]; then
	unset DROPSTOCK_CONFIG
	# a short state directory, so the status line shows the whole path
	S=$(mktemp -d /tmp/dsXXXXXX) || exit 99
	XDG_CONFIG_HOME=$T/demo-config XDG_STATE_HOME=$S/s
	export XDG_CONFIG_HOME XDG_STATE_HOME
	"$DROPSTOCK" -q sync > /dev/null 2>&1 || ds_fail "demo sync"
	# the temporary directory reads as the usual state directory, with the
	# status line kept 80 columns wide
	save() { # NAME
		sleep 0.5
		tui_screen -s demo | sed "s|$S/s|~/.local/state|g" |
			awk '/ daemon: / { i = index($0, " daemon: "); l = substr($0, 1, i - 1)
			        r = substr($0, i); sub(/ +$/, "", l)
			        printf "%s%*s\n", l, 80 - length(l), r; next } { print }' \
			> "$DS_SAVE_SCREENS/$1.txt"
	}
	tui_start -s demo
	tui_wait_for -s demo "demo"
	save suppliers
	tui_keys -s demo '?'
	tui_wait_for -s demo "Keys: Suppliers"
	save help
	tui_keys -s demo Escape Enter
	tui_wait_for -s demo "Schedule"
	save supplier-details
	tui_keys -s demo Escape t
	tui_wait_for -s demo "parsed"
	save test-connection
	tui_keys -s demo Escape e
	tui_wait_for -s demo "Editor"
	save editor
	tui_keys -s demo Escape
	tui_wait_for -s demo "LAST FULL"
	tui_keys -s demo 2
	tui_wait_for -s demo "Recent runs"
	save syncs
	tui_keys -s demo Enter
	tui_wait_for -s demo "Changes:"
	save run-details
	tui_keys -s demo Escape 3
	tui_wait_for -s demo "AC-"
	save history
	tui_keys -s demo Enter
	tui_wait_for -s demo "SKU"
	save sku
	tui_keys -s demo Escape 4
	tui_wait_for -s demo "Check"
	tui_keys -s demo Enter
	tui_type -s demo "CASE-IP15-BLK"
	tui_keys -s demo Enter
	tui_wait_for -s demo "CASE-IP15-BLK"
	save check
	tui_keys -s demo 5
	tui_wait_for -s demo "Unknown"
	save unknown
	tui_quit -s demo
	rm -rf "$S"
fi
exit 0
