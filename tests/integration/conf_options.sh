#!/bin/sh
# dropstock.conf(5) documents every option the loader accepts, in the
# section of its group, and documents no option the loader does not know.
#
# The loader (src/conf/conf.c) lists the names each group accepts in arrays
# named "known" (and "extra", for the delta group's own options), one per
# parse function; anything else is refused as an unknown option.  The page
# documents an option as a tagged paragraph, .TP followed by a .B/.BR line
# naming it, in the section of the group (.SS "The map group", ...).
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

SRC=$top_srcdir/src/conf/conf.c
PAGE=$top_srcdir/doc/dropstock.conf.5
[ -f "$SRC" ] || ds_fail "$SRC is missing"
[ -f "$PAGE" ] || ds_fail "$PAGE is missing"

# The section of the page that documents the options of each parse function.
cat > "$T/sections" <<'EOF'
conf_load_file	GLOBAL OPTIONS (dropstock.conf)
parse_service	The service group
parse_daemon	The daemon group
parse_events	The events group
supplier_load	Top-level settings
parse_source	The source group
parse_map	The map group
parse_auth	The auth group
parse_rules	The rules group
parse_delta	The delta group
parse_check	The check group
parse_webhook	The webhook group
parse_schedule	The schedule group
parse_guard	The guard group
EOF

# 1. "FUNCTION<TAB>OPTION" for every name in the known/extra arrays, with the
# function the array is in (the last definition line seen before it).
awk '
/^[a-z][a-z0-9_ *]*[ *]([a-z_][a-z0-9_]*)\(/ && $0 !~ /;[ \t]*$/ {
	fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn)
}
/static const char \*const (known|extra)\[\] = \{/ { on = 1 }
on {
	line = $0
	sub(/.*\{/, "", line)
	while (match(line, /"[^"]*"/)) {
		printf "%s\t%s\n", fn, substr(line, RSTART + 1, RLENGTH - 2)
		line = substr(line, RSTART + RLENGTH)
	}
	if ($0 ~ /\};/) on = 0
}' "$SRC" | sort -u > "$T/code"

# A sanity check of the extraction itself, so that a change in the source's
# shape makes this test fail instead of pass with nothing to check.
n=$(wc -l < "$T/code")
[ "$n" -ge 100 ] || { cat "$T/code"; ds_fail "only $n options found in $SRC: has the shape of its 'known' arrays changed?"; }
for want in "conf_load_file	database" "supplier_load	slug" "parse_map	text_values" \
	"parse_delta	since_param" "parse_webhook	secrets_env" "parse_service	api_keys_cmd"; do
	grep -q -x -F "$want" "$T/code" || ds_fail "the extraction from $SRC misses '$want'"
done

# Functions with options but no section above: add them to the table.
cut -f1 "$T/code" | sort -u > "$T/functions"
cut -f1 "$T/sections" | sort -u > "$T/mapped"
unmapped=$(comm -23 "$T/functions" "$T/mapped" | tr '\n' ' ')
[ -z "$unmapped" ] || ds_fail "no section of dropstock.conf.5 is known for the options of: $unmapped(add it to the table in $0)"

# 2. "SECTION<TAB>OPTION" for every option the page documents: the words of
# the .B/.BR line after a .TP, outside .RS/.RE blocks (those tag values, such
# as the kinds of paging).  Roff escapes are undone first.
sed 's/\\-/-/g; s/\\(dq/"/g; s/\\&//g' "$PAGE" | awk -v notype="$T/notype" '
/^\.S[HS] / {
	sec = $0; sub(/^\.S[HS] +/, "", sec); gsub(/"/, "", sec)
	depth = 0; next
}
/^\.RS/ { depth++; next }
/^\.RE/ { if (depth > 0) depth--; next }
/^\.TP/ { tp = 1; next }
tp {
	tp = 0
	if (depth > 0 || $0 !~ /^\.(B|BR|BI|IB) /) next
	line = $0; sub(/^\.[A-Z]+ +/, "", line)
	if (line !~ /\(/) printf "%s\t%s\n", sec, $0 > notype
	# the words outside quotes are the names; quoted text is the type
	out = ""; q = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (c == "\"") { q = !q; out = out " "; continue }
		out = out (q ? " " : c)
	}
	n = split(out, w, /[ ,]+/)
	for (i = 1; i <= n; i++)
		if (w[i] ~ /^[a-z][a-z0-9_]*$/) printf "%s\t%s\n", sec, w[i]
}' | sort -u > "$T/page"

# Each option's tag gives its type, in parentheses: (string), (group), ...
if [ -s "$T/notype" ]; then
	notype=$(while IFS='	' read -r sec tag; do
		awk -F '\t' -v s="$sec" '$2 == s { f = 1 } END { exit !f }' "$T/sections" &&
			printf '\n  %s (section "%s")' "$tag" "$sec"
	done < "$T/notype")
	[ -z "$notype" ] || ds_fail "dropstock.conf.5 gives no type in parentheses for:$notype"
fi

# 3. Every option of the code in its section.
missing=""
while IFS='	' read -r fn opt; do
	sec=$(awk -F '\t' -v f="$fn" '$1 == f { print $2 }' "$T/sections")
	grep -q -x -F "$sec	$opt" "$T/page" || missing="$missing
  $opt ($fn; section \"$sec\")"
done < "$T/code"
[ -z "$missing" ] || ds_fail "dropstock.conf.5 does not document these options the loader accepts:$missing"

# 4. The reverse: in the sections of the table, every option documented is
# one the loader accepts there.  The delta group documents only its own
# options (it takes those of the source group too).
unknown=""
while IFS='	' read -r sec opt; do
	fns=$(awk -F '\t' -v s="$sec" '$2 == s { print $1 }' "$T/sections")
	[ -n "$fns" ] || continue
	found=0
	for fn in $fns; do
		grep -q -x -F "$fn	$opt" "$T/code" && found=1
		[ "$fn" = parse_delta ] && grep -q -x -F "parse_source	$opt" "$T/code" && found=1
	done
	[ "$found" = 1 ] || unknown="$unknown
  $opt (section \"$sec\")"
done < "$T/page"
[ -z "$unknown" ] || ds_fail "dropstock.conf.5 documents options the loader does not accept:$unknown"

ds_note "$(wc -l < "$T/code") options of $SRC documented in dropstock.conf.5"
exit 0
