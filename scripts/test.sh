#!/bin/sh
# The whole test suite: layer check, unit tests, the fuzz corpora replayed,
# and integration tests, first with the normal build, then again with the
# ASan+UBSan build. A skipped integration test fails unless it is on
# tests/allowed-skips.txt; skip reasons are printed. Nothing may hang: each
# unit binary (UNIT_TIMEOUT, scripts/run-unit.sh), each integration test
# (TEST_TIMEOUT) and each whole pytest run (SUITE_TIMEOUT) has a bound.
set -e
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
export YUBIN_STRICT_SKIPS=1

# Each run gets its own temporary root, traversable (not readable) by the
# private Postfix and Dovecot that drop to their own users: pytest's shared
# /tmp/pytest-of-USER is set back to 0700 by any other pytest run starting
# meanwhile, which locked them out of their own directories.
integration() {	# $1: the build directory
	base=$(mktemp -d /tmp/yubin-test.XXXXXX)
	chmod 0711 "$base"
	rc=0
	YUBIN_BUILD=$1 timeout -k 30 "${SUITE_TIMEOUT:-2700}" /usr/bin/python3 -m pytest \
		-q -x -rfEs -p timeout --timeout="${TEST_TIMEOUT:-600}" --basetemp="$base/t" \
		tests/integration || rc=$?
	[ "$rc" = 0 ] && rm -rf "$base"
	return "$rc"
}

sh scripts/check-layers.sh

echo "== build"
make -j"$jobs" all unit-bins node-modules >/dev/null
echo "== unit tests"
sh scripts/run-unit.sh build
echo "== fuzz corpora (every committed input, once)"
sh tests/fuzz/run.sh --replay
echo "== integration tests"
integration build

echo "== sanitizer build (ASan+UBSan)"
make -j"$jobs" SAN=1 all unit-bins >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== unit tests (sanitizers)"
sh scripts/run-unit.sh build-san
echo "== integration tests (sanitizers)"
integration build-san
