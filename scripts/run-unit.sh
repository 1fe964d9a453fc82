#!/bin/sh
# Runs every cmocka unit test binary in BUILD/tests; fails if any fails or
# runs longer than UNIT_TIMEOUT seconds (default 300: a hang fails the run
# instead of stalling it). With YUBIN_STRICT_SKIPS=1 (make test) a skipped
# test fails too, unless tests/allowed-skips.txt lists it as
# tests/unit/test_FILE.c::test_NAME.
cd "$(dirname "$0")/.." || exit 1
build=${1:-build}
limit=${UNIT_TIMEOUT:-300}
allowed=tests/allowed-skips.txt
fail=0
n=0

skip_allowed() {	# $1: tests/unit/test_x.c::test_y
	[ -f "$allowed" ] || return 1
	# shellcheck disable=SC2013
	for pat in $(sed 's/#.*//' "$allowed" | awk 'NF { print $1 }'); do
		# shellcheck disable=SC2254
		case "$1" in $pat) return 0 ;; esac
	done
	return 1
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	n=$((n + 1))
	out=$(timeout -k 10 "$limit" "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "unit: TIMED OUT after ${limit}s: $t" >&2
		fail=$((fail + 1))
		continue
	elif [ $rc -ne 0 ]; then
		echo "unit: FAILED $t (exit status $rc)" >&2
		fail=$((fail + 1))
		continue
	fi
	[ "${YUBIN_STRICT_SKIPS:-0}" = 1 ] || continue
	for name in $(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([A-Za-z0-9_]*\)$/\1/p' | sort -u); do
		id="tests/unit/$(basename "$t").c::$name"
		if ! skip_allowed "$id"; then
			echo "unit: SKIPPED and not on $allowed, so it fails: $id" >&2
			fail=$((fail + 1))
		fi
	done
done
echo "unit: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ] && [ $n -gt 0 ]
