#!/bin/sh
# Installs what Yubin needs on Debian 12 (as root), only what is missing.
#   deps.sh build   libraries and tools to build and run
#   deps.sh test    plus what the test suite uses
#   deps.sh bench   plus the anchors the benchmarks compare against
set -e
want="build-essential pkg-config libevent-dev libssl-dev libsqlite3-dev libsodium-dev openssl sqlite3"
case "${1:-build}" in
test)  want="$want libcmocka-dev clang swaks curl python3 python3-pytest isync" ;;
bench) want="$want swaks curl python3 postfix" ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "yubin: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "yubin: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
