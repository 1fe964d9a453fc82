#!/bin/sh
# Runs every fuzz target for SECONDS each (default 10), starting from its
# seed corpus in tests/fuzz/corpus/NAME (read only: new inputs go to
# build-fuzz/corpus/NAME). Fails if any target finds a crash, a leak or
# undefined behaviour; the input that did it is kept in
# build-fuzz/artifacts/NAME/.
#   sh tests/fuzz/run.sh [SECONDS]   (make fuzz; FUZZ_SECONDS=N)
#   sh tests/fuzz/run.sh --replay    (make test: builds the targets and runs
#                                     every committed input once, crash
#                                     reproducers included; seconds)
set -u
cd "$(dirname "$0")/../.."
secs=${1:-10}
out=build-fuzz
targets="fuzz_address fuzz_smtp fuzz_smtp_data fuzz_sasl fuzz_pop3 fuzz_config fuzz_imap fuzz_imap_sort fuzz_smtp_reply fuzz_queue_file fuzz_mime fuzz_dkim fuzz_spf fuzz_sendas fuzz_json fuzz_spam_token fuzz_clamd fuzz_spam_tag fuzz_compose fuzz_vcard"

if [ "$secs" = --replay ]; then
	# always rebuilt: the targets link the sources directly, not build/
	sh tests/fuzz/build.sh >/dev/null || exit 1
	fail=0
	n=0
	for t in $targets; do
		name=${t#fuzz_}
		dir=tests/fuzz/corpus/$name
		[ -d "$dir" ] || { echo "fuzz: no corpus $dir" >&2; fail=$((fail + 1)); continue; }
		n=$((n + $(find "$dir" -type f | wc -l)))
		# -runs=0: run each input of the corpus once, fuzz nothing
		mkdir -p "$out/artifacts/$name"
		if ! timeout -k 10 300 "$out/$t" -runs=0 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$out/artifacts/$name/" "$dir" >"$out/$t.replay.log" 2>&1; then
			echo "fuzz: FAILED replaying $dir with $t" >&2
			tail -n 40 "$out/$t.replay.log" >&2
			fail=$((fail + 1))
		fi
	done
	echo "fuzz: replayed $n inputs of $(echo $targets | wc -w) corpora, $fail target(s) failed"
	[ "$fail" -eq 0 ]
	exit
fi

for t in $targets; do
	if [ ! -x "$out/$t" ]; then
		sh tests/fuzz/build.sh || exit 1
		break
	fi
done

fail=0
for t in $targets; do
	name=${t#fuzz_}
	mkdir -p "$out/corpus/$name" "$out/artifacts/$name"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	echo "fuzz: $t for ${secs}s"
	# shellcheck disable=SC2086
	if ! "$out/$t" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name/" \
		"$out/corpus/$name" "tests/fuzz/corpus/$name" >"$out/$t.log" 2>&1; then
		echo "fuzz: FAILED $t (see $out/$t.log and $out/artifacts/$name/)" >&2
		tail -n 40 "$out/$t.log" >&2
		fail=$((fail + 1))
	else
		grep -E '^stat::number_of_executed_units' "$out/$t.log" | sed "s/^/fuzz: $t /"
	fi
done
echo "fuzz: $fail target(s) failed"
[ "$fail" -eq 0 ]
