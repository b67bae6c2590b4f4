#!/bin/sh
# Translations: every catalogue in po/LINGUAS is complete for the current
# source (no untranslated or fuzzy entry, checked by merging it with a
# template extracted afresh), and the program really speaks German and
# Russian: commands, errors, locale numbers and dates, and the console at
# 80 columns.  --json output stays the same whatever the locale.
. "$top_srcdir/tests/integration/lib.sh"

for tool in xgettext msgmerge msgattrib msgfmt; do
	command -v $tool >/dev/null 2>&1 || ds_fail "$tool is missing (Debian package gettext; run tests/deps.sh)"
done
ds_setup

LINGUAS=$(sed -e 's/#.*//' "$top_srcdir/po/LINGUAS" | tr -s ' \n' '  ')
for want in de ru; do
	case " $LINGUAS " in
	*" $want "*) ;;
	*) ds_fail "po/LINGUAS does not list $want" ;;
	esac
done

# 1. A template from the source as it is now, with the options of po/Makevars.
opts=$(sed -n 's/^XGETTEXT_OPTIONS *= *//p' "$top_srcdir/po/Makevars")
# shellcheck disable=SC2086
(cd "$top_srcdir" && xgettext --default-domain=dropstock --language=C $opts \
	--files-from=po/POTFILES.in -o "$T/dropstock.pot") 2> "$T/xgettext.err" ||
	ds_fail "xgettext: $(cat "$T/xgettext.err")"
grep -q '^msgid "..*"' "$T/dropstock.pot" || ds_fail "xgettext extracted no message"

mkdir -p "$T/locale"
for lang in $LINGUAS; do
	po=$top_srcdir/po/$lang.po
	[ -f "$po" ] || ds_fail "po/LINGUAS lists $lang but po/$lang.po is missing"
	msgfmt -c --check-format -o /dev/null "$po" 2> "$T/msgfmt.err" ||
		ds_fail "po/$lang.po: $(head -5 "$T/msgfmt.err")"
	msgmerge -q -o "$T/$lang.po" "$po" "$T/dropstock.pot" 2> "$T/msgmerge.err" ||
		ds_fail "msgmerge po/$lang.po: $(cat "$T/msgmerge.err")"
	msgattrib --untranslated --no-obsolete "$T/$lang.po" > "$T/untranslated"
	msgattrib --only-fuzzy --no-obsolete "$T/$lang.po" > "$T/fuzzy"
	for kind in untranslated fuzzy; do
		n=$(grep -c '^msgid ' "$T/$kind")
		if [ "$n" -gt 0 ]; then
			grep -A1 '^msgid ' "$T/$kind" | head -20
			ds_fail "po/$lang.po is behind the source: $((n - 1)) $kind messages; run 'make -C po update-po' and translate them"
		fi
	done
	mkdir -p "$T/locale/$lang/LC_MESSAGES"
	msgfmt -o "$T/locale/$lang/LC_MESSAGES/dropstock.mo" "$po" ||
		ds_fail "msgfmt po/$lang.po"
done
DROPSTOCK_LOCALEDIR=$T/locale
export DROPSTOCK_LOCALEDIR

# 2. The program speaks the language of the locale.  The locales come from
# tests/deps.sh; without them glibc would fall back to English silently.
for loc in de_DE.UTF-8 ru_RU.UTF-8; do
	locale -a 2>/dev/null | grep -qix "$(echo "$loc" | sed 's/UTF-8/utf8/')" ||
		ds_fail "locale $loc is not installed; run tests/deps.sh (as root) to generate it"
done
in_lang() { # LANG LOCALE COMMAND...: runs dropstock under that language
	_l=$1 _loc=$2
	shift 2
	LANGUAGE=$_l LC_ALL=$_loc ds "$@"
}

ds_conf
# 1200 linked items, so counts need digit grouping
awk 'BEGIN { printf "{\"items\":["
	for (i = 0; i < 1200; i++) printf "%s{\"sku\":\"S%04d\",\"qty\":%d}", (i ? "," : ""), i, i % 7
	printf "]}\n" }' > "$T/feed.json"
ds_supplier big <<EOC
slug = "big";
source = { url = "file://$T/feed.json"; format = "json";
	map = { items = "items"; sku = "sku"; stock = "qty"; }; };
guard = { enabled = false; };
EOC
awk 'BEGIN { print "product_sku,product_name,supplier_slug,supplier_sku"
	for (i = 0; i < 1200; i++) printf "P%04d,Product %d,big,S%04d\n", i, i, i }' > "$T/links.csv"
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"

# German: help, a sync with grouped counts, dates in German order, an error.
in_lang de de_DE.UTF-8 --help
ds_expect_rc 0 "--help in German"
ds_expect_grep "^Aufruf: dropstock" "$T/out" "German usage line"
ds_expect_grep "Lieferanten" "$T/out" "German command list"
in_lang de de_DE.UTF-8 sync
ds_expect_rc 0 "sync in German"
ds_expect_grep "1\.200" "$T/out" "German digit grouping (1.200)"
ds_expect_no_grep "1200[^0-9]" "$T/out" "no ungrouped count in German"
in_lang de de_DE.UTF-8 runs
ds_expect_rc 0 "runs in German"
ds_expect_grep "[0-3][0-9]\.[01][0-9]\.20[0-9][0-9] [0-2][0-9]:[0-5][0-9]" "$T/out" \
	"German date order (DD.MM.YYYY HH:MM)"
in_lang de de_DE.UTF-8 no-such-command
ds_expect_rc 2 "an unknown command in German"
grep -q "no-such-command" "$T/err" || ds_fail "the German error does not name the command"
ds_expect_no_grep "unknown command" "$T/err" "the error is not English"

# Russian: the same, with Cyrillic text and space grouping.
in_lang ru ru_RU.UTF-8 --help
ds_expect_rc 0 "--help in Russian"
ds_expect_grep "^Использование: dropstock" "$T/out" "Russian usage line"
in_lang ru ru_RU.UTF-8 sync --dry-run
ds_expect_rc 0 "sync in Russian"
ds_expect_grep "1 200" "$T/out" "Russian digit grouping (1 200)"
ds_expect_grep "ничего не записано\|ничего не было записано" "$T/out" "Russian dry-run summary"
in_lang ru ru_RU.UTF-8 history --supplier big --limit 3
ds_expect_rc 0 "history in Russian"
ds_expect_grep "[0-3][0-9]\.[01][0-9]\.20[0-9][0-9]" "$T/out" "Russian date order"

# 3. --json stays the same whatever the locale: plain numbers, ISO-8601 UTC.
LANGUAGE= LC_ALL=C.UTF-8 ds runs --json
cp "$T/out" "$T/runs-c.json"
in_lang de de_DE.UTF-8 runs --json
cmp -s "$T/out" "$T/runs-c.json" || {
	diff "$T/runs-c.json" "$T/out" | head -10
	ds_fail "runs --json differs under de_DE.UTF-8"
}
in_lang ru ru_RU.UTF-8 runs --json
cmp -s "$T/out" "$T/runs-c.json" || ds_fail "runs --json differs under ru_RU.UTF-8"
ds_expect_grep '"started_at": *"20[0-9-]*T[0-9:.]*Z"' "$T/runs-c.json" "JSON times are ISO-8601 UTC"
