#!/bin/sh
# deps.sh - install the Debian packages dropstock needs to build and test,
# only those that are missing (so it needs no network when all are there).
set -e
PKGS="gcc make autoconf automake autopoint gettext pkg-config
libncurses-dev libcurl4-openssl-dev libsqlite3-dev libconfig-dev libjansson-dev
libmicrohttpd-dev libssl-dev libcsv-dev libxml2-dev zlib1g-dev
sqlite3 tmux groff-base ca-certificates curl openssl tzdata locales"
# The translation tests run under these locales (numbers and dates follow them).
LOCALES="de_DE.UTF-8 ru_RU.UTF-8"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
missing_locales=""
for l in $LOCALES; do
	locale -a 2>/dev/null | grep -qix "$(echo "$l" | sed 's/UTF-8/utf8/')" ||
		missing_locales="$missing_locales $l"
done
[ -z "$missing" ] && [ -z "$missing_locales" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	[ -z "$missing" ] || {
		echo "deps.sh: missing Debian packages:$missing; install them as root:" >&2
		echo "  apt-get install$missing" >&2
	}
	[ -z "$missing_locales" ] ||
		echo "deps.sh: missing locales:$missing_locales; as root, enable them in /etc/locale.gen and run locale-gen" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "deps.sh: installing$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
if [ -n "$missing_locales" ]; then
	echo "deps.sh: generating locales$missing_locales"
	for l in $missing_locales; do
		sed -i "s/^# *\($l UTF-8\)/\1/" /etc/locale.gen
		grep -q "^$l UTF-8" /etc/locale.gen || echo "$l UTF-8" >> /etc/locale.gen
	done
	locale-gen >/dev/null
fi
