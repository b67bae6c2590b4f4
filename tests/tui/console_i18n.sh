#!/bin/sh
# console_i18n.sh - the console in German and Russian at 80x24: the tabs,
# headings and state words come from the catalogues, no line is wider than
# the terminal, and translated headings stay over their columns (the
# program pads by screen columns, not bytes, so umlauts and Cyrillic do not
# shift what follows).  Expected words are looked up in the catalogues with
# gettext(1), so rewording a translation does not break the test.
. "$top_srcdir/tests/tui/lib.sh"
command -v gettext >/dev/null 2>&1 || ds_fail "gettext(1) is missing (Debian package gettext-base)"
command -v msgfmt >/dev/null 2>&1 || ds_fail "msgfmt is missing (Debian package gettext)"
tui_setup

mkdir -p "$T/locale"
for lang in de ru; do
	mkdir -p "$T/locale/$lang/LC_MESSAGES"
	msgfmt -o "$T/locale/$lang/LC_MESSAGES/dropstock.mo" "$top_srcdir/po/$lang.po" ||
		ds_fail "msgfmt po/$lang.po"
done
DROPSTOCK_LOCALEDIR=$T/locale
export DROPSTOCK_LOCALEDIR

ds_conf
printf '{"items":[{"sku":"S1","qty":4},{"sku":"S2","qty":0},{"sku":"S3","qty":12}]}\n' \
	> "$T/feed.json"
ds_supplier local <<EOC
slug = "local";
source = { url = "file://$T/feed.json"; format = "json";
	map = { items = "items"; sku = "sku"; stock = "qty"; }; };
EOC
ds link add P1 local S1 && ds link add P2 local S2 && ds link add P3 local S3 ||
	ds_fail "link add"
ds sync
ds_expect_rc 0 "sync"

# col TEXT: the screen column where TEXT starts on the first line holding it
# (in the session $lang)
col() {
	tui_screen -s "$lang" > "$T/screen"
	line=$(grep -F -- "$1" "$T/screen" | head -n 1)
	[ -n "$line" ] || { cat "$T/screen"; ds_fail "'$1' is not on the screen"; }
	printf '%s' "${line%%"$1"*}" | LC_ALL=C.UTF-8 wc -m
}

for spec in "de de_DE.UTF-8" "ru ru_RU.UTF-8"; do
	set -- $spec
	lang=$1 loc=$2
	locale -a 2>/dev/null | grep -qix "$(echo "$loc" | sed 's/UTF-8/utf8/')" ||
		ds_fail "locale $loc is not installed; run tests/deps.sh (as root)"
	tr() { TEXTDOMAINDIR=$T/locale LANGUAGE=$lang LC_ALL=$loc gettext dropstock "$1"; }
	[ "$(tr "Suppliers")" != "Suppliers" ] || ds_fail "$lang: the catalogue has no tab names"

	LANGUAGE=$lang LC_ALL=$loc tui_start -s "$lang"
	tui_wait_for -s "$lang" "1 $(tr "Suppliers")"
	for tab in Syncs History Check Unknown; do
		tui_expect -s "$lang" "$(tr "$tab")" "$lang: tab $tab"
	done
	tui_expect -s "$lang" "local" "$lang: the supplier row"
	tui_expect_no -s "$lang" "Recent runs" "$lang: English on the Suppliers screen"
	[ "$(tui_screen -s "$lang" | LC_ALL=C.UTF-8 wc -L)" -le 80 ] ||
		ds_fail "$lang: a line is wider than 80 columns"

	# the Syncs screen: headings over their columns
	tui_keys -s "$lang" 2
	ok=$(tr "succeeded")
	tui_wait_for -s "$lang" "$ok"
	tui_expect -s "$lang" "$(tr "Recent runs")" "$lang: Recent runs"
	c_head=$(col "$(tr "STATUS") ")
	c_cell=$(col " $ok")
	c_cell=$((c_cell + 1))
	[ "$c_head" -eq "$c_cell" ] || {
		tui_screen -s "$lang"
		ds_fail "$lang: STATUS heading at column $c_head, the status at $c_cell"
	}
	c_head=$(col "$(tr "BY") ")
	c_cell=$(col " $(tr "cli") ")
	c_cell=$((c_cell + 1))
	[ "$c_head" -eq "$c_cell" ] || {
		tui_screen -s "$lang"
		ds_fail "$lang: BY heading at column $c_head, the trigger at $c_cell"
	}
	[ "$(tui_screen -s "$lang" | LC_ALL=C.UTF-8 wc -L)" -le 80 ] ||
		ds_fail "$lang: a line of the Syncs screen is wider than 80 columns"

	# the help overlay and the History screen
	tui_keys -s "$lang" '?'
	tui_wait_for -s "$lang" "$(tr "quit (a running sync goes on)")"
	tui_keys -s "$lang" Escape
	tui_keys -s "$lang" 3
	tui_wait_for -s "$lang" "P3"
	tui_expect -s "$lang" "$(tr "Source")" "$lang: History headings"
	tui_quit -s "$lang"

	# --read-only stays visible in the tab bar, however long the tab names
	LANGUAGE=$lang LC_ALL=$loc tui_start -s "$lang-ro" console --read-only
	tui_wait_for -s "$lang-ro" "1 $(tr "Suppliers")"
	mark=$(tr "read-only ")
	tui_screen -s "$lang-ro" | head -n 1 | grep -qF -- "${mark% }" || {
		tui_screen -s "$lang-ro"
		ds_fail "$lang: no read-only mark in the tab bar"
	}
	tui_quit -s "$lang-ro"
done
exit 0
