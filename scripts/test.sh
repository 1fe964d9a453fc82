#!/bin/sh
# The whole test suite: layer check, unit tests, the fuzz corpora replayed,
# and integration tests, with the normal build and again with the ASan+UBSan
# build. A skipped integration test fails unless it is on
# tests/allowed-skips.txt; skip reasons are printed. Nothing may hang: each
# unit binary (UNIT_TIMEOUT, scripts/run-unit.sh), each integration test
# (TEST_TIMEOUT) and each whole pytest run (SUITE_TIMEOUT) has a bound.
#
# Most of an integration test's time is spent waiting on the daemon, so the
# two integration runs go side by side in the background, each on
# TEST_WORKERS pytest-xdist workers (a test module stays on one worker, in
# order, with its one daemon; the helpers claim ports machine-wide, so no
# two processes get the same), while the sanitizer build, the unit tests and
# the fuzz replay run in the foreground. Each run's whole log is printed
# when it is over, then a summary of every step, and last the first
# failure's output. -x holds within each run: it stops at its first failure.
set -e
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
workers=${TEST_WORKERS:-3}
export YUBIN_STRICT_SKIPS=1
SAN_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
logs=$(mktemp -d /tmp/yubin-test-logs.XXXXXX)
summary=$logs/summary
failed=
: >"$summary"

# Each run gets its own temporary root, traversable (not readable) by the
# private Postfix and Dovecot that drop to their own users: pytest's shared
# /tmp/pytest-of-USER is set back to 0700 by any other pytest run starting
# meanwhile, which locked them out of their own directories.
integration() {	# $1: the build directory; log and exit status in $logs
	base=$(mktemp -d /tmp/yubin-test.XXXXXX)
	chmod 0711 "$base"
	san=
	[ "$1" = build-san ] && san="$SAN_ENV"
	rc=0
	# shellcheck disable=SC2086
	env $san YUBIN_BUILD="$1" timeout -k 30 "${SUITE_TIMEOUT:-2700}" /usr/bin/python3 -m pytest \
		-q -x -rfEs -p timeout --timeout="${TEST_TIMEOUT:-600}" --basetemp="$base/t" \
		-p xdist -n "$workers" --dist loadfile \
		tests/integration >"$logs/integration-$1.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] && rm -rf "$base"
	echo "$rc" >"$logs/integration-$1.rc"
}

# step NAME COMMAND...: runs a foreground step, its output shown and kept
# in $logs/NAME.log; a failure is noted and later steps are not started.
step() {
	name=$1
	shift
	if [ -n "$failed" ]; then
		echo "$name: not run" >>"$summary"
		return 0
	fi
	{
		rc=0
		"$@" 2>&1 || rc=$?
		echo "$rc" >"$logs/$name.rc"
	} | tee "$logs/$name.log"
	rc=$(cat "$logs/$name.rc")
	if [ "$rc" = 0 ]; then
		echo "$name: ok" >>"$summary"
	else
		echo "$name: FAILED (exit status $rc)" >>"$summary"
		failed=$name
	fi
}

# shellcheck disable=SC2317
build() {	# $1: make's arguments; the compiler yields to the tests
	# shellcheck disable=SC2086
	nice -n 5 make -j"$jobs" $1 >/dev/null
}

started=
start() {	# $1: the build directory
	[ -z "$failed" ] || return 0
	echo "== integration tests ($1), in the background on $workers workers"
	integration "$1" &
	started="$started $1"
}

# the first failure: pytest's first FAILURES/ERRORS entry, else the log's end
first_failure() {	# $1: log
	awk '/^=+ (FAILURES|ERRORS) =+$/ { on = 1; next }
		!on { next }
		/^_+ .* _+$/ { if (n++) exit }
		/^=+ (short test summary info|warnings summary|ERRORS|PASSES) =+$/ { exit }
		{ print }' "$1" >"$logs/first"
	if [ -s "$logs/first" ]; then
		cat "$logs/first"
	else
		tail -n 80 "$1"
	fi
	grep -E '^(FAILED|ERROR) ' "$1" || true
}

echo "== layer check"
step layers sh scripts/check-layers.sh
echo "== build"
step build build "all unit-bins node-modules"
start build
echo "== sanitizer build (ASan+UBSan)"
step build-san build "SAN=1 all unit-bins"
start build-san
echo "== unit tests"
step unit sh scripts/run-unit.sh build
echo "== fuzz corpora (every committed input, once)"
step fuzz sh tests/fuzz/run.sh --replay
echo "== unit tests (sanitizers)"
# shellcheck disable=SC2086
step unit-san env $SAN_ENV sh scripts/run-unit.sh build-san

[ -n "$started" ] && echo "== waiting for the integration tests"
wait
for b in build build-san; do
	[ -f "$logs/integration-$b.rc" ] || continue
	echo "== integration tests ($b): log"
	cat "$logs/integration-$b.log"
	rc=$(cat "$logs/integration-$b.rc")
	last=$(grep -E '[0-9]+ (passed|failed|error|skipped)|no tests ran|Interrupted|Timeout' \
		"$logs/integration-$b.log" | tail -n 1)
	if [ "$rc" = 0 ]; then
		echo "integration ($b): ok: $last" >>"$summary"
	else
		[ "$rc" = 124 ] && last="did not finish within ${SUITE_TIMEOUT:-2700} s; $last"
		echo "integration ($b): FAILED (exit status $rc): $last" >>"$summary"
		failed=${failed:-integration-$b}
	fi
done

echo "== summary"
cat "$summary"
if [ -z "$failed" ]; then
	rm -rf "$logs"
	exit 0
fi
echo "== first failure ($failed; logs kept in $logs)"
case $failed in
integration-*) first_failure "$logs/$failed.log" ;;
*) tail -n 80 "$logs/$failed.log" ;;
esac
exit 1
