#!/bin/bash
# make fuzz: each libFuzzer harness for FUZZ_SECONDS, from its seeds and
# corpus in tests/fuzz/corpus/NAME.  New inputs that reach new code are
# merged back there; a crash fails the run and leaves its input in
# build/fuzz/artifacts.
set -u
BIN=${1:?}
SECONDS_EACH=${FUZZ_SECONDS:-180}
HERE=$(cd "$(dirname "$0")" && pwd)
ART=$BIN/artifacts
mkdir -p "$ART"
fail=0
for name in pickle elf source analysis reply; do
	work=$BIN/corpus-$name
	keep=$HERE/corpus/$name
	mkdir -p "$work" "$keep"
	opts=(-max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=4096
	      -artifact_prefix="$ART/$name-" -print_final_stats=1)
	# the embedded CPython is never finalized: its arenas are not leaks
	asan=detect_leaks=1
	[ $name = analysis ] && asan=detect_leaks=0 && opts+=(-detect_leaks=0)
	echo "# fuzz_$name for ${SECONDS_EACH}s"
	# the test corpus's Python files seed the source harnesses as well
	seeds=()
	case $name in source|analysis) seeds=("$HERE/../corpus") ;; esac
	if ! ASAN_OPTIONS=$asan "$BIN/fuzz_$name" "${opts[@]}" "$work" "$keep" "${seeds[@]}" > "$BIN/$name.log" 2>&1; then
		echo "not ok - fuzz_$name found a crash:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$BIN/$name.log" | head -5
		fail=1
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BIN/$name.log")
	# keep a minimal corpus: only inputs that add coverage go back to tests/
	ASAN_OPTIONS=$asan "$BIN/fuzz_$name" -merge=1 "${opts[@]:2}" "$keep" "$work" > "$BIN/$name.merge.log" 2>&1
	echo "ok - fuzz_$name: $runs inputs in ${SECONDS_EACH}s, no crash; corpus $(ls "$keep" | wc -l) files"
done
exit $fail
