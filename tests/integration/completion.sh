#!/bin/sh
# bash completion: sources data/completion/dropstock.bash in bash, calls
# _dropstock on a given command line and checks the candidates: subcommands
# (the same list as --help, the hidden helper left out), options from each
# command's --help, supplier slugs from the configuration, run and event ids
# from the database (newest first, at most 200), files, and the helper's
# silence without a configuration or database.
. "$top_srcdir/tests/integration/lib.sh"
ds_setup

command -v bash > /dev/null 2>&1 || {
	echo "SKIP: bash is not installed"
	exit 77
}
command -v sqlite3 > /dev/null 2>&1 || {
	echo "SKIP: the sqlite3 shell is not installed"
	exit 77
}

SCRIPT=$top_srcdir/data/completion/dropstock.bash
# the completion runs "dropstock" as typed: find the built one first
PATH=$(dirname "$DROPSTOCK"):$PATH
export PATH

# comp WORD...: the candidates for the command line WORD... with the cursor
# in the last word, one per line, in $T/comp.
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dropstock
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$SCRIPT" dropstock "$@" > "$T/comp" 2> "$T/comp.err" ||
		ds_fail "completion of '$*' failed: $(cat "$T/comp.err")"
	[ -s "$T/comp.err" ] && ds_fail "completion of '$*' printed on stderr: $(cat "$T/comp.err")"
	return 0
}

# expect_comp WANT WORD...: the candidates, joined by spaces, are WANT.
expect_comp() {
	want=$1
	shift
	comp "$@"
	got=$(tr '\n' ' ' < "$T/comp" | sed 's/ $//')
	ds_expect_eq "$got" "$want" "completion of '$*'"
}

# expect_has WORD-WANTED WORD...: WORD-WANTED is among the candidates.
expect_has() {
	want=$1
	shift
	comp "$@"
	grep -qxF -e "$want" "$T/comp" || {
		echo "--- candidates"; cat "$T/comp"
		ds_fail "completion of '$*': '$want' missing"
	}
}

# ---- no configuration, no database: silent, exit 0, nothing created ----
DROPSTOCK_CONFIG=$T/conf/missing.conf
export DROPSTOCK_CONFIG
for what in suppliers runs events; do
	ds __complete $what
	ds_expect_rc 0 "__complete $what without a configuration"
	ds_expect_eq "$(cat "$T/out" "$T/err")" "" "__complete $what without a configuration"
done
expect_comp "" sync --supplier ""
ds_conf
ds __complete runs
ds_expect_rc 0 "__complete runs without a database"
ds_expect_eq "$(cat "$T/out" "$T/err")" "" "__complete runs without a database"
[ -e "$DB" ] && ds_fail "__complete runs created the database"
ds __complete nonsense
ds_expect_rc 2 "__complete with an unknown WHAT"

# ---- subcommands: those --help lists, and nothing hidden ----
ds --help
awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 }
     on && /^  [a-z]/ { print $1 }' "$T/out" > "$T/help-commands"
[ -s "$T/help-commands" ] || ds_fail "no commands in 'dropstock --help'"
ds_expect_no_grep "__complete" "$T/out" "--help lists the hidden helper"
comp ""
cmp -s "$T/comp" "$T/help-commands" || {
	diff "$T/help-commands" "$T/comp"
	ds_fail "completed commands differ from those of --help"
}
expect_comp "sync" sy
expect_comp "runs run-now" ru
expect_comp "--config" --conf
expect_has "--verbose" -
expect_comp "sync" -q sy

# ---- options, from each command's --help ----
while read -r cmd; do
	ds __complete options "$cmd"
	ds_expect_rc 0 "__complete options $cmd"
	ds_expect_grep "^--help$" "$T/out" "__complete options $cmd"
	"$DROPSTOCK" "$cmd" --help > "$T/help" 2>&1
	for opt in $(cat "$T/out"); do
		grep -q -e "$opt" "$T/help" || ds_fail "$cmd: $opt is not in its --help"
	done
done < "$T/help-commands"
expect_comp "--dry-run" sync --dr
expect_has "--supplier" sync --
expect_has "--delta" sync -n --
expect_has "--changed-since" export -
expect_comp "--all-dead" events retry --all
expect_comp "csv json" export --format ""
expect_comp "delta" history --source de

# ---- supplier slugs from the configuration ----
cat > "$T/feed.csv" <<'EOF'
sku,stock
A-1,4
A-2,0
EOF
for s in acme beta-2 bolt; do
	ds_supplier "$s" <<EOC
slug = "$s";
source = { url = "file://$T/feed.csv"; format = "csv"; map = { sku = "sku"; stock = "stock"; }; };
EOC
done
expect_comp "acme beta-2 bolt" sync --supplier ""
expect_comp "beta-2 bolt" sync -s b
expect_comp "acme" check P1 --supplier a
expect_comp "acme beta-2 bolt" run-now ""
expect_comp "acme" runs --supplier a
expect_comp "acme" link remove a
expect_comp "bolt" link add P1 bo
# --config on the command line is passed on to the helper
mkdir -p "$T/other/suppliers.d"
echo "database = \"$T/other.sqlite\";" > "$T/other/other.conf"
sed 's/acme/zeta/' "$T/conf/suppliers.d/acme.conf" > "$T/other/suppliers.d/zeta.conf"
chmod 600 "$T/other/suppliers.d/zeta.conf"
expect_comp "zeta" --config "$T/other/other.conf" sync --supplier ""
expect_comp "zeta" -c "$T/other/other.conf" run-now ""

# ---- files ----
cat > "$T/links.csv" <<'EOF'
product_sku,product_name,supplier_slug,supplier_sku
P1,One,acme,A-1
P2,Two,beta-2,A-2
EOF
expect_comp "$T/links.csv" link import "$T/lin"
expect_comp "$T/conf/dropstock.conf" --config "$T/conf/drop"
expect_comp "import add remove" link ""
expect_comp "retry deliver" events ""

# ---- run and event ids from the database, newest first ----
ds link import "$T/links.csv"
ds_expect_rc 0 "link import"
ds sync
ds_expect_rc 0 "sync"
ds sync --supplier acme
ds_expect_rc 0 "second sync"
runs=$(ds_sql "SELECT group_concat(id, ' ') FROM (SELECT id FROM sync_runs ORDER BY id DESC)")
[ -n "$runs" ] || ds_fail "the syncs left no runs"
expect_comp "$runs" revert ""
# approve: only the runs waiting for approval
ds_sql "INSERT INTO sync_runs (supplier_id, kind, status)
        SELECT id, 'full', 'needs_approval' FROM suppliers WHERE slug = 'acme'"
waiting=$(ds_sql "SELECT max(id) FROM sync_runs")
expect_comp "$waiting" approve ""
expect_comp "" approve "$waiting" ""
# events retry: only dead events
n=$(ds_sql "SELECT COUNT(*) FROM outbox")
[ "$n" -gt 0 ] || ds_fail "the syncs queued no events"
ds_sql "UPDATE outbox SET dead = 1 WHERE id = (SELECT min(id) FROM outbox)"
expect_comp "$(ds_sql "SELECT min(id) FROM outbox")" events retry ""
all=$(ds_sql "SELECT group_concat(id, ' ') FROM (SELECT id FROM outbox ORDER BY id DESC)")
ds __complete events
ds_expect_eq "$(tr '\n' ' ' < "$T/out" | sed 's/ $//')" "$all" "__complete events"
# at most 200, the newest
ds_sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
        INSERT INTO sync_runs (supplier_id, kind, status)
        SELECT (SELECT id FROM suppliers WHERE slug = 'acme'), 'full', 'succeeded' FROM n"
ds __complete runs
ds_expect_rc 0 "__complete runs"
ds_expect_eq "$(wc -l < "$T/out" | tr -d ' ')" 200 "run ids listed"
ds_expect_eq "$(head -n 1 "$T/out")" "$(ds_sql "SELECT max(id) FROM sync_runs")" "newest run id first"
# a database that is not one: still silent
echo "not a database" > "$T/other.sqlite"
ds --config "$T/other/other.conf" __complete runs
ds_expect_rc 0 "__complete runs on a broken database"
ds_expect_eq "$(cat "$T/out")" "" "__complete runs on a broken database"
exit 0
