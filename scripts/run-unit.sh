#!/bin/sh
# Runs every cmocka unit test binary in BUILD/tests; fails if any fails.
build=${1:-build}
fail=0
n=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$((n + 1))
	if ! "$t"; then
		echo "unit: FAILED $t" >&2
		fail=$((fail + 1))
	fi
done
echo "unit: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ] && [ $n -gt 0 ]
