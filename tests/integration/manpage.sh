#!/bin/sh
# The manual pages render without a single groff warning, and dropstock(1)
# documents every command, every long option, every exit status and every
# environment variable that
# the program itself knows about.
. "$top_srcdir/tests/integration/lib.sh"

command -v groff >/dev/null 2>&1 || {
	echo "SKIP: groff is not installed"
	exit 77
}
ds_setup

PAGE=$top_srcdir/doc/dropstock.1
CONF_PAGE=$top_srcdir/doc/dropstock.conf.5

# 1. Both pages render without warnings.
for page in "$PAGE" "$CONF_PAGE"; do
	[ -f "$page" ] || ds_fail "$page is missing"
	groff -man -ww -z "$page" > "$T/groff" 2>&1
	rc=$?
	if [ -s "$T/groff" ] || [ "$rc" != 0 ]; then
		cat "$T/groff"
		ds_fail "groff -man -ww -z $page: exit status $rc, or warnings above"
	fi
done

# The page's text with roff escapes for hyphens undone: \-\-name -> --name.
sed 's/\\//g' "$PAGE" > "$T/page"

# 2. Every command of `dropstock --help` has its own (sub)section.
ds --help
ds_expect_rc 0 "dropstock --help"
awk '/^Commands:/ { on = 1; next }
     on && /^[ \t]*$/ { on = 0 }
     on && /^  [a-z]/ { print $1 }' "$T/out" > "$T/commands"
[ -s "$T/commands" ] || {
	cat "$T/out"
	ds_fail "no commands found in 'dropstock --help'"
}
grep -o -e '--[a-z][a-z0-9-]*' "$T/out" | sort -u > "$T/global-options"

missing=""
while read -r cmd; do
	grep -q -E "^\.S[SH] \"?$cmd\"?\$" "$T/page" ||
		missing="$missing $cmd"
done < "$T/commands"
[ -z "$missing" ] || ds_fail "dropstock.1 has no section for:$missing"

# 3. Every long option printed by `dropstock [COMMAND] --help` is in the page.
check_options() { # WHERE FILE-WITH-OPTIONS
	while read -r opt; do
		grep -q -E -e "$opt([^a-z0-9-]|\$)" "$T/page" ||
			missing="$missing $1:$opt"
	done < "$2"
}
missing=""
check_options "dropstock" "$T/global-options"
while read -r cmd; do
	ds "$cmd" --help
	ds_expect_rc 0 "dropstock $cmd --help"
	[ -s "$T/out" ] || ds_fail "dropstock $cmd --help printed nothing"
	grep -o -e '--[a-z][a-z0-9-]*' "$T/out" | sort -u > "$T/options"
	check_options "$cmd" "$T/options"
	# subcommands such as "link import" appear in the page as well
	grep -o -E "dropstock $cmd [a-z]+" "$T/out" | sort -u > "$T/subs"
	while read -r sub; do
		grep -q -F -e "${sub#dropstock }" "$T/page" || missing="$missing '$sub'"
	done < "$T/subs"
done < "$T/commands"
[ -z "$missing" ] || ds_fail "dropstock.1 does not document:$missing"

# 4. Every exit code of src/cli/cli.h is listed under EXIT STATUS.
sed -n 's/^[ \t]*EXIT_[A-Z_]* = \([0-9][0-9]*\),.*/\1/p' \
	"$top_srcdir/src/cli/cli.h" > "$T/codes"
[ -s "$T/codes" ] || ds_fail "no exit codes found in src/cli/cli.h"
awk '/^\.SH / { on = ($0 ~ /EXIT STATUS/) } on' "$T/page" > "$T/exit-section"
missing=""
while read -r code; do
	grep -q -x -e "\.B $code" "$T/exit-section" || missing="$missing $code"
done < "$T/codes"
[ -z "$missing" ] || ds_fail "EXIT STATUS of dropstock.1 lacks:$missing"

# 5. Every environment variable the code reads is under ENVIRONMENT.
grep -rhoE 'getenv\("[A-Z_]+"\)' "$top_srcdir/src" | sed 's/getenv("\(.*\)")/\1/' |
	sort -u > "$T/vars"
[ -s "$T/vars" ] || ds_fail "no getenv() found in src/"
awk '/^\.SH / { on = ($0 ~ /ENVIRONMENT/) } on' "$T/page" > "$T/env-section"
missing=""
while read -r var; do
	grep -q -w -e "$var" "$T/env-section" || missing="$missing $var"
done < "$T/vars"
[ -z "$missing" ] || ds_fail "ENVIRONMENT of dropstock.1 lacks:$missing"

exit 0
