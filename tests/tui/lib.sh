# tests/tui/lib.sh - helpers for the console tests (sourced, POSIX sh).
#
# Builds on tests/integration/lib.sh (ds_setup, ds_conf, ds_mock_start, ...)
# and drives the real console inside tmux: every test has its own tmux
# server (socket ds$$), started detached at a fixed size, fed keys with
# send-keys and read with capture-pane.  Waits poll the screen with a
# timeout; nothing sleeps a fixed long time.
#
#   tui_setup                      ds_setup + tmux check (skips without tmux)
#   tui_start [-s NAME] [-x COLS] [-y ROWS] [-t TERM] [--] [CONSOLE-ARGS...]
#                                  opens `dropstock [ARGS]` (default: console)
#                                  in a new session NAME (default "main"); when
#                                  it ends, the pane shows "[exit N]" and a
#                                  "$ " prompt
#   tui_keys [-s NAME] KEYS...     tmux send-keys (key names: Enter, Escape,
#                                  Tab, Up, Down, Space, C-c, ...)
#   tui_type [-s NAME] TEXT        sends TEXT literally
#   tui_screen [-s NAME]           the screen as text
#   tui_wait_for [-s NAME] [-T SECONDS] TEXT     until the screen shows TEXT
#   tui_wait_gone [-s NAME] [-T SECONDS] TEXT    until it no longer does
#   tui_expect [-s NAME] TEXT MESSAGE            the screen shows TEXT now
#   tui_expect_no [-s NAME] TEXT MESSAGE         ... does not
#   tui_save NAME FILE             the screen of session NAME into FILE
#   tui_quit [-s NAME]             q, then waits for "[exit 0]"
#   tui_kill_session NAME          closes a session (its window) at once

. "$top_srcdir/tests/integration/lib.sh"

TUI_SOCK="ds$$"
TUI_TIMEOUT=${TUI_TIMEOUT:-15}

tui_tmux() {
	tmux -L "$TUI_SOCK" -f /dev/null "$@"
}

tui_cleanup() {
	tui_tmux kill-server >/dev/null 2>&1
	ds_cleanup
}

tui_setup() {
	command -v tmux >/dev/null 2>&1 || { echo "# tmux not found: skipped"; exit 77; }
	ds_setup
	trap tui_cleanup EXIT
	# the console's own defaults, not the caller's
	unset NO_COLOR ESCDELAY TMUX
}

tui_start() {
	_s=main _x=80 _y=24 _term=xterm-256color
	while [ $# -gt 0 ]; do
		case $1 in
		-s) _s=$2; shift 2 ;;
		-x) _x=$2; shift 2 ;;
		-y) _y=$2; shift 2 ;;
		-t) _term=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || set -- console
	# a launcher script: the environment as it is now, whatever tmux keeps
	{
		echo "#!/bin/sh"
		# job control: the console gets the terminal's signals (^C), the
		# shell around it does not, as in an interactive shell
		echo "set -m"
		for _v in HOME XDG_STATE_HOME XDG_CONFIG_HOME DROPSTOCK_CONFIG LC_ALL LANGUAGE \
		          DROPSTOCK_LOCALEDIR \
		          NO_COLOR TUI_EXTRA_ENV; do
			eval "_val=\${$_v-__unset__}"
			if [ "$_val" = "__unset__" ]; then
				echo "unset $_v"
			else
				echo "$_v='$_val'; export $_v"
			fi
		done
		echo "TERM='$_term'; export TERM"
		printf '"%s"' "$DROPSTOCK"
		for _a in "$@"; do
			printf " '%s'" "$_a"
		done
		echo
		echo 'echo "[exit $?]"'
		echo "PS1='\$ ' exec sh -i"
	} > "$T/tui-$_s.sh"
	if tui_tmux has-session 2>/dev/null; then
		tui_tmux new-session -d -s "$_s" -x "$_x" -y "$_y" "sh '$T/tui-$_s.sh'" ||
			ds_fail "tmux new-session $_s"
	else
		tui_tmux new-session -d -s "$_s" -x "$_x" -y "$_y" "sh '$T/tui-$_s.sh'" ||
			ds_fail "tmux did not start"
	fi
	# sizes are kept with no client attached
	tui_tmux set-option -t "$_s" window-size manual >/dev/null 2>&1
	tui_tmux resize-window -t "$_s" -x "$_x" -y "$_y" >/dev/null 2>&1
}

# -s NAME option parsing shared by the helpers below: sets _s, leaves "$@".
tui__session() {
	_s=main
	_T=$TUI_TIMEOUT
}

tui_keys() {
	tui__session
	[ "${1:-}" = "-s" ] && { _s=$2; shift 2; }
	tui_tmux send-keys -t "$_s" "$@"
}

tui_type() {
	tui__session
	[ "${1:-}" = "-s" ] && { _s=$2; shift 2; }
	tui_tmux send-keys -t "$_s" -l "$1"
}

tui_screen() {
	tui__session
	[ "${1:-}" = "-s" ] && { _s=$2; shift 2; }
	tui_tmux capture-pane -p -t "$_s"
}

tui__opts() {
	tui__session
	while [ $# -gt 0 ]; do
		case $1 in
		-s) _s=$2; shift 2 ;;
		-T) _T=$2; shift 2 ;;
		*) break ;;
		esac
	done
	_text=$1
}

tui__dump() {
	echo "--- screen of $_s:"
	tui_tmux capture-pane -p -t "$_s" 2>&1
	echo "---"
}

tui_wait_for() {
	tui__opts "$@"
	_end=$(( $(date +%s) + _T ))
	while :; do
		if tui_tmux capture-pane -p -t "$_s" 2>/dev/null | grep -qF -- "$_text"; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$_end" ]; then
			tui__dump
			ds_fail "screen of $_s did not show '$_text' within $_T s"
		fi
		sleep 0.1
	done
}

tui_wait_gone() {
	tui__opts "$@"
	_end=$(( $(date +%s) + _T ))
	while :; do
		if ! tui_tmux capture-pane -p -t "$_s" 2>/dev/null | grep -qF -- "$_text"; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$_end" ]; then
			tui__dump
			ds_fail "screen of $_s still shows '$_text' after $_T s"
		fi
		sleep 0.1
	done
}

tui_expect() { # [-s NAME] TEXT MESSAGE
	tui__opts "$@"
	shift $(( $# - 1 ))
	if ! tui_tmux capture-pane -p -t "$_s" | grep -qF -- "$_text"; then
		tui__dump
		ds_fail "$1: '$_text' not on the screen"
	fi
}

tui_expect_no() { # [-s NAME] TEXT MESSAGE
	tui__opts "$@"
	shift $(( $# - 1 ))
	if tui_tmux capture-pane -p -t "$_s" | grep -qF -- "$_text"; then
		tui__dump
		ds_fail "$1: '$_text' is on the screen"
	fi
}

tui_save() { # NAME FILE
	tui_tmux capture-pane -p -t "$1" > "$2"
}

tui_quit() {
	tui__session
	[ "${1:-}" = "-s" ] && { _s=$2; shift 2; }
	tui_tmux send-keys -t "$_s" q
	tui_wait_for -s "$_s" "[exit 0]"
}

tui_kill_session() {
	tui_tmux kill-session -t "$1" >/dev/null 2>&1
}

# tui_sql_wait SQL WANT [SECONDS]: polls the database until SQL gives WANT.
tui_sql_wait() {
	_end=$(( $(date +%s) + ${3:-$TUI_TIMEOUT} ))
	while :; do
		_got=$(ds_sql "$1" 2>/dev/null)
		[ "$_got" = "$2" ] && return 0
		[ "$(date +%s)" -ge "$_end" ] && ds_fail "database: '$1' gave '$_got', expected '$2'"
		sleep 0.1
	done
}
