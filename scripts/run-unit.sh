#!/bin/sh
# Runs every cmocka unit test binary in BUILD/tests; fails if any fails or
# runs longer than UNIT_TIMEOUT seconds (default 300: a hang fails the run
# instead of stalling it).
build=${1:-build}
limit=${UNIT_TIMEOUT:-300}
fail=0
n=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	n=$((n + 1))
	timeout -k 10 "$limit" "$t"
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "unit: TIMED OUT after ${limit}s: $t" >&2
		fail=$((fail + 1))
	elif [ $rc -ne 0 ]; then
		echo "unit: FAILED $t (exit status $rc)" >&2
		fail=$((fail + 1))
	fi
done
echo "unit: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ] && [ $n -gt 0 ]
