#!/bin/sh
# console_editor.sh - the supplier editor, driven in tmux: `a` creates a
# supplier through the form (an invalid value is refused with the field
# named, a missing one too), `t` tests the unsaved values, the saved file
# loads (`dropstock suppliers` lists it); `e` edits a supplier whose token
# comes from an environment variable and the file keeps token_env and a
# .bak; Space toggles active keeping the file's comments; Esc asks before
# losing changes; `q` leaves.

. "$top_srcdir/tests/tui/lib.sh"

tui_setup
ds_conf

# ed_field TEXT: Enter on the focused field, clear it, type TEXT, Enter
# (which moves on to the next field)
ed_field() {
	tui_keys Enter C-u
	[ -n "$1" ] && tui_type "$1"
	tui_keys Enter
}

# ed_file_wait PATTERN FILE MESSAGE: polls until FILE has PATTERN
ed_file_wait() {
	i=0
	until grep -q -e "$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 150 ] && { cat "$2"; ds_fail "$3"; }
		sleep 0.1
	done
}

printf '{"items":[{"sku":"A1","stock":5},{"sku":"B2","stock":0}]}\n' > "$T/feed.json"
ds_supplier base <<EOF
# hand-written: the editor's Space keeps this comment
slug = "base";
name = "Base one";
source = { url = "file://$T/feed.json"; format = "json";
  map = { items = "items"; sku = "sku"; stock = "stock"; }; };
auth = { type = "bearer"; token_env = "DS_ED_TOKEN"; };
EOF
DS_ED_TOKEN=token-value-from-env
export DS_ED_TOKEN
SD=$T/conf/suppliers.d

tui_start
tui_wait_for "file/json"

# ---- Space: active off and on, the hand-written file kept ----
tui_keys Space
ed_file_wait '^active = false;' "$SD/base.conf" "Space did not set active = false"
ds_expect_grep "# hand-written" "$SD/base.conf" "Space keeps the comments"
ds_expect_grep 'token_env = "DS_ED_TOKEN"' "$SD/base.conf" "Space keeps the rest"
[ -f "$SD/base.conf.bak" ] || ds_fail "Space keeps the previous file as .bak"
ds_expect_no_grep "active" "$SD/base.conf.bak" ".bak is the version before"
tui_keys Space
ed_file_wait '^active = true;' "$SD/base.conf" "Space did not set active = true"

# ---- a: a new supplier ----
tui_keys a
tui_wait_for "New supplier"
tui_wait_for "Page 1/"
ed_field fresh                   # slug, then on to name
ed_field "Fresh Goods"           # name, then on to active
tui_keys Down Down                # priority, url
ed_field "file://$T/feed.json"   # url, then on to format
tui_keys Down Down                # paging, page size
ed_field 0
tui_keys s
tui_wait_for "source.page_size: must be between 1 and 100000, got 0"
tui_wait_for "source.page_size: Items asked for per page"
[ ! -e "$SD/fresh.conf" ] || ds_fail "a refused supplier was written"

ed_field abc
tui_keys s
tui_wait_for 'source.page_size: expected a whole number, got "abc"'

ed_field ""                      # back to the default
tui_keys s
tui_wait_for "missing required option 'sku'"
tui_wait_for "source.map.sku: Path of the supplier SKU"
ed_field sku                     # sku, then stock
ed_field stock
tui_keys Up Up Up                 # items
ed_field items

# t: the connection test on the unsaved values
tui_keys t
tui_wait_for "Test connection:"
tui_wait_for "A1"
tui_wait_for "nothing was written"
[ ! -e "$SD/fresh.conf" ] || ds_fail "the connection test wrote the file"
tui_keys x
tui_wait_for "Format and mapping"

tui_keys s
tui_wait_for "saved suppliers.d/fresh.conf"
tui_wait_for "fresh"
[ -f "$SD/fresh.conf" ] || ds_fail "fresh.conf not written"
mode=$(stat -c %a "$SD/fresh.conf")
ds_expect_eq "$mode" "600" "saved file mode"
ds suppliers
ds_expect_rc 0 "dropstock suppliers loads the new file"
ds_expect_grep "fresh" "$T/out" "dropstock suppliers lists it"
ds_expect_grep "Fresh Goods" "$T/out" "with its name"
ls -a "$SD" | grep -q '^\.fresh' && ds_fail "temporary file left behind"

# ---- e: edit a supplier with an env token ----
tui_keys Home
tui_keys e
tui_wait_for "Edit supplier base"
ed_field "Base renamed"
tui_keys Escape
tui_wait_for "lose the changes"
tui_keys n
tui_wait_for "Edit supplier base"
tui_keys s
tui_wait_for "saved suppliers.d/base.conf"
ds_expect_grep 'name = "Base renamed";' "$SD/base.conf" "new name written"
ds_expect_grep 'token_env = "DS_ED_TOKEN";' "$SD/base.conf" "env token stays token_env"
ds_expect_no_grep "token-value-from-env" "$SD/base.conf" "the token's value is never written"
ds_expect_grep 'name = "Base one";' "$SD/base.conf.bak" "previous version kept as .bak"

# ---- q leaves the terminal ----
tui_quit
exit 0
