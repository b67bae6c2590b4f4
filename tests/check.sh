#!/bin/sh
# check.sh - the whole test suite, as CI runs it: a normal build and a build
# with AddressSanitizer + UndefinedBehaviorSanitizer, each running
# `make -j2 check`, then a staged `make install` and `make distcheck`; ends
# with the totals as
# "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
sh tests/deps.sh || exit 1
[ -x configure ] || ./bootstrap >/dev/null || exit 1
if [ -f config.status ]; then
	echo "check.sh: the source tree is configured in place; the suite builds out of" >&2
	echo "tree (in _build/ and _build-sanitize/): run 'make distclean' here first" >&2
	exit 1
fi

passed=0 failed=0 skipped=0 status=0
run_suite() { # NAME DIR CONFIGURE-ARGS...
	name=$1
	dir="$top/$2"
	shift 2
	mkdir -p "$dir"
	echo "== $name build in $dir"
	(cd "$dir" && { [ -f Makefile ] || "$top/configure" -q "$@" >build.log 2>&1; } &&
		make -j2 >>build.log 2>&1) ||
		{ tail -40 "$dir/build.log"; status=1; return; }
	echo "== $name: make check"
	(cd "$dir" && make -j2 check >check.log 2>&1)
	rc=$?
	grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$dir/check.log"
	if [ $rc -ne 0 ]; then
		status=1
		for log in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' $(find "$dir/tests" -name '*.trs') 2>/dev/null); do
			echo "---- ${log%.trs}.log"
			tail -60 "${log%.trs}.log"
		done
	fi
	p=$(sed -n 's/^# PASS: *//p' "$dir/check.log" | tail -1)
	xf=$(sed -n 's/^# XFAIL: *//p' "$dir/check.log" | tail -1)
	f=$(sed -n 's/^# FAIL: *//p' "$dir/check.log" | tail -1)
	xp=$(sed -n 's/^# XPASS: *//p' "$dir/check.log" | tail -1)
	e=$(sed -n 's/^# ERROR: *//p' "$dir/check.log" | tail -1)
	s=$(sed -n 's/^# SKIP: *//p' "$dir/check.log" | tail -1)
	[ -n "$p" ] || { echo "$name: no test summary found"; status=1; }
	passed=$((passed + ${p:-0} + ${xf:-0}))
	failed=$((failed + ${f:-0} + ${xp:-0} + ${e:-0}))
	skipped=$((skipped + ${s:-0}))
}

# The plain build is configured the way Debian packages are, so the staged
# install below shows the layout a package gets.
run_suite plain _build CFLAGS="-g -O2" --enable-werror \
	--prefix=/usr --sysconfdir=/etc --localstatedir=/var
run_suite sanitize _build-sanitize CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	LDFLAGS="-fsanitize=address,undefined"

# make install DESTDIR=... lays every file where Debian expects it.
echo "== make install DESTDIR=... in $top/_build"
dest=$top/_build/destdir
rm -rf "$dest"
missing=""
if (cd "$top/_build" && make install DESTDIR="$dest" >install.log 2>&1); then
	for f in usr/bin/dropstock usr/share/man/man1/dropstock.1 \
		usr/share/man/man5/dropstock.conf.5 \
		usr/share/locale/de/LC_MESSAGES/dropstock.mo \
		usr/share/locale/ru/LC_MESSAGES/dropstock.mo \
		usr/share/dropstock/dropstock.conf.example \
		usr/share/dropstock/supplier.conf.example \
		usr/lib/systemd/system/dropstock.service usr/lib/tmpfiles.d/dropstock.conf \
		usr/share/bash-completion/completions/dropstock; do
		[ -f "$dest/$f" ] || missing="$missing /$f"
	done
	grep -q "^ExecStart=/usr/bin/dropstock " "$dest/usr/lib/systemd/system/dropstock.service" ||
		missing="$missing (ExecStart=/usr/bin/dropstock in the unit)"
else
	tail -20 "$top/_build/install.log"
	missing=" (make install failed)"
fi
if [ -z "$missing" ]; then
	echo "PASS: install layout"
	passed=$((passed + 1))
else
	echo "FAIL: install layout: missing$missing"
	find "$dest" -type f | sed "s|^$dest||" | sort
	failed=$((failed + 1))
	status=1
fi
rm -rf "$dest"

# The release tarball: it must build, install, pass the suite out of tree with
# a read-only source directory, uninstall and distclean (about two minutes).
echo "== make distcheck in $top/_build"
if (cd "$top/_build" && make -j2 distcheck >distcheck.log 2>&1); then
	echo "PASS: distcheck"
	passed=$((passed + 1))
else
	echo "FAIL: distcheck"
	tail -40 "$top/_build/distcheck.log"
	failed=$((failed + 1))
	status=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || status=1
exit $status
