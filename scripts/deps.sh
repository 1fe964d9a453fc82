#!/bin/sh
# Installs what Yubin needs on Debian 12 (as root), only what is missing.
#   deps.sh build   libraries and tools to build and run
#   deps.sh test    plus what the test suite uses
#   deps.sh bench   plus the anchors the benchmarks compare against
set -e
want="build-essential pkg-config libevent-dev libssl-dev libsqlite3-dev libsodium-dev libc-ares-dev libmaxminddb-dev libpsl-dev openssl sqlite3"
case "${1:-build}" in
test)  want="$want libcmocka-dev clang swaks curl python3 python3-pytest isync dnsmasq-base postfix dovecot-imapd python3-dkim python3-nacl" ;;
bench) want="$want swaks curl python3 postfix" ;;
esac
# The GeoIP country database for make run and the tests, fetched once into
# build/geoip (never into the repository), refreshed weekly.
geoip_cache() {
	[ "${YUBIN_NO_GEOIP:-0}" = 1 ] && return 0
	sh "$(dirname "$0")/geoip-fetch.sh" --cache "$(dirname "$0")/../build/geoip" ||
		echo "yubin: GeoIP database not fetched (foreign-access tests will say so)" >&2
}
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	case "${1:-build}" in build|test) geoip_cache ;; esac
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
case "${1:-build}" in build|test) geoip_cache ;; esac
