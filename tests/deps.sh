#!/bin/sh
# deps.sh - install the Debian packages dropstock needs to build and test,
# only those that are missing (so it needs no network when all are there).
set -e
PKGS="gcc make autoconf automake autopoint gettext pkg-config
libncurses-dev libcurl4-openssl-dev libsqlite3-dev libconfig-dev libjansson-dev
libmicrohttpd-dev libssl-dev libcsv-dev libxml2-dev zlib1g-dev
sqlite3 tmux groff-base ca-certificates curl openssl tzdata"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing; install them as root:" >&2
	echo "  apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
