#!/bin/sh
# update-keys.sh - splice the console's key tables into dropstock.1.
#
#   doc/update-keys.sh KEYS PAGE > NEWPAGE
#
# KEYS is the output of `dropstock console --keys=man`: one block per key
# table, each starting with a marker line '.\" keys: NAME'.  PAGE holds the
# same marker lines, one per table, each followed by that table's entries up
# to the next .SS, .SH or comment line; every such block is replaced by the one from KEYS.
# `make update-man` runs this in place; the manpage test fails when the page
# in the tree differs from the result, so the page cannot drift from the
# tables the console's ? help is drawn from.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 KEYS PAGE" >&2; exit 2; }
awk -v keys="$1" '
BEGIN {
	while ((getline line < keys) > 0) {
		if (line ~ /^\.\\" keys: /) {
			name = substr(line, 10)
			order[++n] = name
			block[name] = line "\n"
			continue
		}
		if (name == "") {
			print "update-keys.sh: " keys ": no marker line before: " line > "/dev/stderr"
			exit 1
		}
		block[name] = block[name] line "\n"
	}
	close(keys)
}
skipping && (/^\.S[HS] / || /^\.\\"/) { skipping = 0 }
/^\.\\" keys: / {
	name = substr($0, 10)
	if (!(name in block)) {
		print "update-keys.sh: the page has a marker for \"" name "\", a table the console does not have" > "/dev/stderr"
		bad = 1
	} else {
		printf "%s", block[name]
		seen[name] = 1
	}
	skipping = 1
	next
}
!skipping { print }
END {
	if (bad)
		exit 1
	for (i = 1; i <= n; i++)
		if (!(order[i] in seen)) {
			print "update-keys.sh: the page has no marker line for the key table \"" order[i] "\"" > "/dev/stderr"
			bad = 1
		}
	exit bad
}' "$2"
