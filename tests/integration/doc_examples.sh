#!/bin/sh
# Every configuration example of dropstock.conf(5) loads with the real
# loader, and the examples cover what the page promises: a paged JSON API
# with bearer auth and a delta source, a semicolon CSV over SFTP with stock
# in words, a gzip XML feed over HTTP, and a webhook supplier for each
# signature scheme.
#
# The examples are the .EX/.EE blocks of the page that follow a comment line
#   .\" example: FILE        (the block is the whole FILE), or
#   .\" example-part: FILE   (the block is appended to FILE).
# FILE is dropstock.conf or suppliers.d/SLUG.conf.  Secrets named with *_env
# are set here; the first word of every *_cmd is replaced by a stub that
# prints a secret.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

PAGE=$top_srcdir/doc/dropstock.conf.5
[ -f "$PAGE" ] || ds_fail "$PAGE is missing"
EX=$T/examples
mkdir -p "$EX/suppliers.d" "$T/bin"

# 1. Extract.  awk prints "FILE<TAB>LINE" for each block to $T/blocks and
# writes the blocks, roff escapes undone; it fails on a marker without a
# block, a block never closed, a part of a file not started, a file started
# twice, or an escape it does not know.
awk -v dir="$EX" -v list="$T/blocks" '
function fail(msg) { printf "%s:%d: %s\n", FILENAME, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
function unescape(s,   t) {
	gsub(/\\-/, "-", s); gsub(/\\\(aq/, "\047", s); gsub(/\\\(dq/, "\"", s)
	gsub(/\\\(ti/, "~", s); gsub(/\\&/, "", s); gsub(/\\\|/, "", s)
	gsub(/\\e/, "\\", s)
	t = s
	gsub(/\\\\/, "", t)       # a backslash of the file itself (from \e\e)
	gsub(/\\["tn]/, "", t)    # libconfig escapes
	if (t ~ /\\/) fail("unknown roff escape in an example: " s)
	return s
}
/^\.\\" example(-part)?: / {
	if (want != "") fail("marker not followed by .EX")
	part = ($0 ~ /^\.\\" example-part: /)
	want = $0; sub(/^\.\\" example(-part)?: */, "", want); sub(/[ \t]+$/, "", want)
	if (want !~ /^(dropstock\.conf|suppliers\.d\/[a-z0-9][a-z0-9_-]*\.conf)$/)
		fail("example file name must be dropstock.conf or suppliers.d/SLUG.conf: " want)
	if (part && !(want in started)) fail("example-part of " want " before its example")
	if (!part && (want in started)) fail("a second example: " want " (use example-part)")
	next
}
want != "" && inblock == 0 {
	if ($0 != ".EX") fail("marker for " want " not followed by .EX")
	inblock = 1; file = dir "/" want; started[want] = 1
	printf "%s\t%d\n", want, NR > list
	if (!part) printf "" > file
	next
}
inblock && $0 == ".EE" { inblock = 0; want = ""; close(file); next }
inblock {
	if ($0 ~ /^[.\047]/) fail("a roff request inside an example: " $0)
	print unescape($0) >> file
	next
}
END {
	if (bad) exit 1
	if (inblock) { printf "%s: example %s has no .EE\n", FILENAME, want > "/dev/stderr"; exit 1 }
	if (want != "") { printf "%s: marker for %s at the end\n", FILENAME, want > "/dev/stderr"; exit 1 }
}' "$PAGE" > "$T/awk.out" 2>&1 || { cat "$T/awk.out"; ds_fail "cannot extract the examples of $PAGE"; }
[ -s "$T/blocks" ] || ds_fail "no '.\\\" example: FILE' markers in $PAGE"
ds_note "$(wc -l < "$T/blocks") example blocks in $(cut -f1 "$T/blocks" | sort -u | wc -l) files"

# 2. Secrets: every variable an example names through *_env, and a stub for
# the command of every *_cmd.  One value fits every use: it is base64 (for
# key_base64 and the Standard Webhooks "whsec_" keys), without blanks (an API
# key) and plain text (a token).
SECRET=whsec_ZG9jLWV4YW1wbGUtc2VjcmV0LWtleQ==
cat "$EX/dropstock.conf" "$EX"/suppliers.d/*.conf 2>/dev/null |
	sed -n 's/^[ \t]*[a-z_]*_env[ \t]*=\(.*\)$/\1/p' |
	grep -o '"[A-Za-z_][A-Za-z0-9_]*"' | tr -d '"' | sort -u > "$T/env-names"
while read -r name; do
	eval "$name=\$SECRET; export $name"
done < "$T/env-names"
cat "$EX/dropstock.conf" "$EX"/suppliers.d/*.conf 2>/dev/null |
	sed -n 's/^[ \t]*[a-z_]*_cmd[ \t]*=[ \t]*\(.*\)$/\1/p' |
	grep -o '"[^"]*"' | tr -d '"' | awk '{ print $1 }' | sort -u > "$T/cmd-names"
while read -r cmd; do
	case $cmd in
	*/*) ds_fail "an example's _cmd runs '$cmd': name a command found in PATH, so the test can stub it" ;;
	esac
	printf '#!/bin/sh\necho "%s"\n' "$SECRET" > "$T/bin/$cmd"
	chmod 755 "$T/bin/$cmd"
done < "$T/cmd-names"

# load DIR WHAT: loads DIR/dropstock.conf with `dropstock suppliers --json`;
# fails with the loader's message when it does not load.
load() {
	PATH="$T/bin:$PATH" "$DROPSTOCK" -c "$1/dropstock.conf" suppliers --json > "$T/out" 2> "$T/err"
	RC=$?
	[ "$RC" = 0 ] || {
		cat "$T/err" >&2
		ds_fail "$2 does not load (exit status $RC): $(head -n 1 "$T/err")"
	}
}

# 3. Each supplier file on its own, with a minimal dropstock.conf.
n=0
for f in "$EX"/suppliers.d/*.conf; do
	[ -f "$f" ] || continue
	slug=$(basename "$f" .conf)
	d=$T/one/$slug
	mkdir -p "$d/suppliers.d"
	echo "database = \"$d/db.sqlite\";" > "$d/dropstock.conf"
	cp "$f" "$d/suppliers.d/"
	chmod 600 "$d/suppliers.d/$slug.conf"
	load "$d" "the example suppliers.d/$slug.conf of dropstock.conf(5)"
	grep -q "\"slug\": *\"$slug\"" "$T/out" || {
		cat "$T/out"
		ds_fail "suppliers.d/$slug.conf loaded, but 'dropstock suppliers' does not list $slug"
	}
	n=$((n + 1))
done
[ "$n" -gt 0 ] || ds_fail "no supplier examples (.\\\" example: suppliers.d/SLUG.conf) in $PAGE"

# 4. All together: the pieces of dropstock.conf and every supplier, with
# the database moved into the test's directory.
[ -f "$EX/dropstock.conf" ] || ds_fail "no dropstock.conf example in $PAGE"
if grep -q '^[ \t]*database[ \t]*=' "$EX/dropstock.conf"; then
	sed "s|^[ \t]*database[ \t]*=.*|database = \"$DB\";|" "$EX/dropstock.conf" > "$T/conf/dropstock.conf"
else
	{ cat "$EX/dropstock.conf"; echo "database = \"$DB\";"; } > "$T/conf/dropstock.conf"
fi
cp "$EX"/suppliers.d/*.conf "$T/conf/suppliers.d/"
chmod 600 "$T/conf/dropstock.conf" "$T/conf/suppliers.d/"*.conf
load "$T/conf" "dropstock.conf(5)'s dropstock.conf with all its supplier examples"
for f in "$EX"/suppliers.d/*.conf; do
	slug=$(basename "$f" .conf)
	grep -q "\"slug\": *\"$slug\"" "$T/out" || ds_fail "the combined examples do not list $slug"
done

# 5. The examples the page must hold: every kind of supplier listed at the top.
has() { # FILE-GLOB PATTERN... : some supplier example matches every pattern
	for f in "$EX"/suppliers.d/*.conf; do
		ok=1
		for p in "$@"; do
			grep -q -E -e "$p" "$f" || { ok=0; break; }
		done
		[ "$ok" = 1 ] && return 0
	done
	return 1
}
has 'format = "json"' 'paging = "(page|offset|cursor|next_url|link)"' 'type = "bearer"' '^delta = \{' ||
	ds_fail "no example of a paged JSON API with bearer auth and a delta source"
has 'url = "sftp://' 'format = "csv"' 'delimiter = ";"' 'text_values' ||
	ds_fail "no example of a semicolon CSV feed over SFTP with text stock values"
has 'url = "https?://[^"]*\.gz"' 'format = "xml"' ||
	ds_fail "no example of a gzip XML feed over HTTP"
for scheme in github standard base64 custom; do
	has "scheme = \"$scheme\"" || ds_fail "no webhook example with scheme = \"$scheme\""
done
grep -q '^service = {' "$EX/dropstock.conf" || ds_fail "no service group in the dropstock.conf examples"
grep -q '^daemon = {' "$EX/dropstock.conf" || ds_fail "no daemon group in the dropstock.conf examples"
grep -q '^events = {' "$EX/dropstock.conf" || ds_fail "no events group in the dropstock.conf examples"

# 6. The check above does catch a broken example, with the loader's message.
d=$T/broken
mkdir -p "$d/suppliers.d"
echo "database = \"$d/db.sqlite\";" > "$d/dropstock.conf"
f=$(ls "$EX"/suppliers.d/*.conf | head -n 1)
slug=$(basename "$f" .conf)
awk '{ print } /^source = \{/ { print "    formta = \"json\";" }' "$f" > "$d/suppliers.d/$slug.conf"
(load "$d" "broken copy") > "$T/broken.out" 2>&1 && ds_fail "a broken example was not noticed"
ds_expect_grep "suppliers.d/$slug.conf:[0-9][0-9]*: source.formta: unknown option" "$T/broken.out" \
	"the loader's message for a broken example"
exit 0
