#!/bin/sh
# The whole test suite: layer check, unit tests and integration tests, first
# with the normal build, then again with the ASan+UBSan build.
set -e
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

sh scripts/check-layers.sh

echo "== build"
make -j"$jobs" all unit-bins >/dev/null
echo "== unit tests"
sh scripts/run-unit.sh build
echo "== integration tests"
YUBIN_BUILD=build /usr/bin/python3 -m pytest -q -x tests/integration

echo "== sanitizer build (ASan+UBSan)"
make -j"$jobs" SAN=1 all unit-bins >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== unit tests (sanitizers)"
sh scripts/run-unit.sh build-san
echo "== integration tests (sanitizers)"
YUBIN_BUILD=build-san /usr/bin/python3 -m pytest -q -x tests/integration
