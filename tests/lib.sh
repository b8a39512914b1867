# Shared by the test scripts: TAP-like results and waiting on targets.
# Expects W (a scratch directory), CMP and CORPUS to be set by the caller.
PASS=0 FAIL=0 SKIP=0

# at exit: a held target is killed and the scratch directory goes
scratch_cleanup() {
	[ -n "${BG:-}" ] && kill $BG 2>/dev/null
	rm -rf "$W"
}

# need_root SCRIPT: BPF needs root; say so and stop otherwise
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "$1: needs root for BPF" >&2
		exit 1
	fi
}

ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
skip() { echo "skip - $1: $2"; SKIP=$((SKIP + 1)); }
not_ok() {
	echo "not ok - $1"
	FAIL=$((FAIL + 1))
	if [ -n "${2:-}" ] && [ -f "$2" ]; then sed 's/^/#   /' "$2" | head -40; fi
}
# check NAME FILE: pass when FILE (a diff) is empty
check() { if [ -s "$2" ]; then not_ok "$1" "$2"; else ok "$1"; fi; }
# wait_for WORD FILE [SECS]: until the target prints WORD (10 s by default)
wait_for() {
	for _ in $(seq $((${3:-10} * 20))); do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_ready FILE: the "Tracing" line says the probes are live
wait_ready() { wait_for '^Tracing' "$1"; }

# run_attached FD OUT: let the target on fifo FD run its workload while
# traced, then end the trace with Ctrl-C; returns the tracer's status
run_attached() {
	echo go >&"$1"
	# a workload of millions of probe hits takes seconds where a hit costs 5 us
	wait_for done "$2" 120
	kill -INT $CT
	wait $CT
}

# attach_failed NAME ERRFILE: the tracer never said "Tracing"
attach_failed() {
	not_ok "$1" "$2"
	kill $CT 2>/dev/null
}

# stop_bg FD: tell the background target on fifo FD to finish, and reap it
stop_bg() {
	echo bye >&"$1"
	eval "exec $1>&-"
	wait $BG 2>/dev/null
	BG=
}

# Each side's covers for the corpus's own files must be byte-identical.
compare_covers() { # NAME OURS_DIR TRACE_DIR
	: > "$W/cover.diff"
	for f in "$3"/*.cover; do
		b=$(basename "$f")
		case $b in prog.cover|pkg.*|stress.cover|serial.cover) ;;
		*) continue ;;
		esac
		if [ ! -f "$2/$b" ]; then
			echo "missing $b" >> "$W/cover.diff"
		else
			diff "$2/$b" "$f" >> "$W/cover.diff"
		fi
	done
	check "$1" "$W/cover.diff"
}

# both_tools TAG MODE KIND DIR PROG [ARG...]: PROG launched under ctrace-bpf
# MODE and under python -m trace MODE; what compare.py KIND extracts for DIR
# from each goes to $W/TAG.o and $W/TAG.r, and their diff to $W/TAG.diff
both_tools() {
	local tag=$1 mode=$2 kind=$3 dir=$4
	shift 4
	"$CTRACE" $mode -- "$PYTHON" "$@" > "$W/$tag.out" 2> "$W/$tag.err"
	"$PYTHON" -m trace $mode "$@" > "$W/$tag.ref"
	$CMP $kind "$W/$tag.out" "$dir" > "$W/$tag.o"
	$CMP $kind "$W/$tag.ref" "$dir" > "$W/$tag.r"
	diff "$W/$tag.o" "$W/$tag.r" > "$W/$tag.diff"
	[ -s "$W/$tag.r" ] || echo "trace printed nothing to compare" >> "$W/$tag.diff"
}

finish() {
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ $FAIL = 0 ]
}

# hold TAG CMD...: start a target that prints "ready" then waits for a line
# on its stdin (fd 7 here), as BG
hold() {
	local tag=$1
	shift
	mkfifo "$W/$tag.in"
	"$@" < "$W/$tag.in" > "$W/$tag.out" &
	BG=$!
	exec 7> "$W/$tag.in"
	wait_for ready "$W/$tag.out"
}

# trace_held TAG OUT ARGS...: attach ctrace-bpf ARGS to the held target, let
# it run, end with Ctrl-C; the tracer's status, or 255 if it never attached
trace_held() {
	local tag=$1 out=$2
	shift 2
	"$CTRACE" "$@" -p $BG > "$out" 2> "$W/$tag.err" &
	CT=$!
	if wait_ready "$W/$tag.err"; then
		run_attached 7 "$W/$tag.out"
		return $?
	fi
	attach_failed "attach to the $tag target" "$W/$tag.err"
	return 255
}

# expect_fail NAME CODE PATTERN CMD...: CMD exits CODE with one line on
# stderr, "ctrace-bpf: ...PATTERN"
expect_fail() { # NAME CODE FILE_PATTERN CMD...
	local name=$1 code=$2 pat=$3
	shift 3
	"$@" > "$W/bad.out" 2> "$W/bad.err" < /dev/null
	local rc=$?
	if [ $rc != "$code" ]; then
		echo "exit $rc, wanted $code" >> "$W/bad.err"
		not_ok "$name" "$W/bad.err"
	elif [ "$(wc -l < "$W/bad.err")" != 1 ] || ! grep -q "^ctrace-bpf: .*$pat" "$W/bad.err"; then
		not_ok "$name" "$W/bad.err"
	else
		ok "$name"
	fi
}
