# The one harness of every tier.  A script starts with
#   . "$(dirname "$0")/lib.sh" TIER
# and gets the prologue (paths, the interpreter, a scratch directory W
# removed at exit, with what the script's own cleanup() undoes), TAP-like
# results, and one way to compare with python -m trace: same_as_trace.
set -u
TIER=${1:?lib.sh: name the tier}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3.11}
CORPUS=$HERE/corpus
ROOTS=${ROOTS:-$HERE/../build/roots}
CMP="$PYTHON $HERE/compare.py"
[ "$TIER" = unit ] || CTRACE=${CTRACE:?$TIER: CTRACE names the ctrace-bpf binary}
W=$(mktemp -d "/tmp/ctrace-$TIER.XXXXXX")
PASS=0 FAIL=0 SKIP=0
BG= PIDS=

# at exit: the script's cleanup(), held targets killed, the scratch gone
lib_exit() {
	declare -F cleanup > /dev/null && cleanup
	[ -n "$BG$PIDS" ] && kill $BG $PIDS 2>/dev/null
	rm -rf "$W"
}
trap lib_exit EXIT

# need_root: BPF needs root; say so and stop otherwise
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "$TIER: needs root for BPF" >&2
		exit 1
	fi
}

# diff that cannot pass by accident: a file that is not there is a
# difference, not an empty diff on stdout and a complaint on stderr
diff() {
	local a
	for a in "$@"; do
		case $a in
		-) ;;
		-*) ;;
		*) [ -e "$a" ] || { echo "missing: $a"; return 2; } ;;
		esac
	done
	command diff "$@"
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

# ended_well NAME FILE LINE: the background target reaped; ok if its
# status is 0 and LINE is a line of its output FILE
ended_well() {
	wait $BG
	local rc=$?
	BG=
	[ $rc = 0 ] && grep -qx "$3" "$2" && ok "$1" || not_ok "$1 (status $rc)" "$2"
}

# stop_bg FD: tell the background target on fifo FD to finish, and reap it
stop_bg() {
	echo bye >&"$1"
	eval "exec $1>&-"
	wait $BG 2>/dev/null
	BG=
}

# same_lists NAME OURS REF: two extracted lists, identical, and trace's
# not empty (an empty one proves nothing)
same_lists() {
	diff "$2" "$3" > "$W/lists.diff"
	[ -s "$3" ] || echo "trace printed nothing to compare" >> "$W/lists.diff"
	check "$1" "$W/lists.diff"
}

# compared TAG KIND DIR OURS REF [MAIN]: what compare.py KIND extracts for
# DIR from each output goes to $W/TAG.o and $W/TAG.r, their diff to
# $W/TAG.diff, with a line there when trace's is empty
compared() {
	local tag=$1 kind=$2 dir=$3
	$CMP $kind "$4" "$dir" ${6:+"$6"} > "$W/$tag.o"
	$CMP $kind "$5" "$dir" ${6:+"$6"} > "$W/$tag.r"
	diff "$W/$tag.o" "$W/$tag.r" > "$W/$tag.diff"
	[ -s "$W/$tag.r" ] || echo "trace printed nothing to compare" >> "$W/$tag.diff"
}

# same_as_trace NAME TAG KIND DIR OURS REF [MAIN]: the one verdict of a
# report against trace's for the same program
same_as_trace() {
	local name=$1
	shift
	compared "$@"
	check "$name" "$W/$1.diff"
}

# same_covers NAME OURS_DIR TRACE_DIR [REGEX]: the covers named like REGEX
# (the corpus's own by default): trace wrote some, we wrote the same
# ones, each byte-identical
same_covers() {
	local re=${4:-'^(prog|pkg\..*|stress|serial)\.cover$'} b
	: > "$W/cover.diff"
	ls "$3" 2>/dev/null | grep -E "$re" > "$W/cover.r"
	ls "$2" 2>/dev/null | grep -E "$re" > "$W/cover.o"
	[ -s "$W/cover.r" ] || echo "trace wrote no covers like $re" >> "$W/cover.diff"
	diff "$W/cover.o" "$W/cover.r" | sed 's/^/files: /' >> "$W/cover.diff"
	while read -r b; do
		[ -f "$2/$b" ] && diff "$2/$b" "$3/$b" >> "$W/cover.diff"
	done < "$W/cover.r"
	check "$1" "$W/cover.diff"
}

# both_tools TAG MODE KIND DIR PROG [ARG...]: PROG launched under ctrace-bpf
# MODE and under python -m trace MODE, then compared (see compared)
both_tools() {
	local tag=$1 mode=$2 kind=$3 dir=$4
	shift 4
	"$CTRACE" $mode -- "$PYTHON" "$@" > "$W/$tag.out" 2> "$W/$tag.err"
	"$PYTHON" -m trace $mode "$@" > "$W/$tag.ref"
	compared "$tag" "$kind" "$dir" "$W/$tag.out" "$W/$tag.ref"
}

# finish: the tier's verdict; a tier in which nothing passed failed
finish() {
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	if [ $PASS = 0 ]; then
		echo "$TIER: no test passed (all skipped?)" >&2
		return 1
	fi
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
# it run, end with Ctrl-C; the tracer's status, or 255 if it never attached.
# Every failure is reported here: a caller's "if trace_held" needs no else.
trace_held() {
	local tag=$1 out=$2 rc
	shift 2
	"$CTRACE" "$@" -p $BG > "$out" 2> "$W/$tag.err" &
	CT=$!
	if wait_ready "$W/$tag.err"; then
		run_attached 7 "$W/$tag.out"
		rc=$?
		[ $rc = 0 ] || not_ok "the $tag trace ended with status $rc" "$W/$tag.err"
		return $rc
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

# anonymous executable mappings (ours would be one), and nothing else
exec_anon() { awk '$2 ~ /x/ && $6 == "" { print $1 }' "/proc/$1/maps"; }

# holds PID ADDR: does PID still map our pages at ADDR (hex)?  A mapping
# that holds ADDR with no swap reserved (smaps' nr), as ours are mapped:
# the range freed may be the target's own again (its allocator's arena)
holds() {
	"$PYTHON" -c 'import sys
a, mine = int(sys.argv[2], 16), False
for line in open("/proc/%s/smaps" % sys.argv[1]):
    f = line.split()
    if "-" in f[0] and len(f[0]) > 8 and ":" not in f[0]:
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        mine = lo <= a < hi
    elif f[0] == "VmFlags:" and mine:
        sys.exit(0 if "nr" in f[1:] else 1)
sys.exit(1)' "$1" "$2"
}

# pages_of ERR: the address of our pages, from ctrace-bpf -v's ptrace line
pages_of() { sed -n 's/.*our pages at \(0x[0-9a-f]*\).*/\1/p' "$1" | tail -1; }

# spin_report TAG PID GO FLAG PY...: ctrace-bpf $TOPTS -v FLAG -p PID
# (-T, -l, -t or -c) while spinrun.py (its output in $W/TAG.out) runs the
# corpus once GO appears; for -T, -l and -t, $W/TAG.p gets its pairs,
# functions or lines as trace sees full.py (or $REF) and $W/TAG.ref those of
# PY... -m trace FLAG; for -c, the covers go to $W/TAG.c and trace's to $W/TAG.rc.
# $W/TAG.err is our stderr.  1 if the attach failed.
spin_report() {
	local tag=$1 pid=$2 go=$3 flag=$4 kind=funcs covers=
	shift 4
	[ "$flag" = -T ] && kind=pairs
	[ "$flag" = -t ] && kind=trace
	[ "$flag" = -c ] && covers="-C $W/$tag.c"
	rm -rf "$W/$tag.c" "$W/$tag.rc"
	"$CTRACE" ${TOPTS:-} -v $flag $covers -p "$pid" > "$W/$tag.T" 2> "$W/$tag.err" &
	CT=$!
	wait_ready "$W/$tag.err" || return 1
	touch "$go"
	wait_for done "$W/$tag.out" 60
	kill -INT $CT
	wait $CT
	if [ "$flag" = -c ]; then
		"$@" -m trace -c -C "$W/$tag.rc" "$IN/full.py" > /dev/null
		return 0
	fi
	$CMP $kind "$W/$tag.T" "$IN" | grep -v spinrun > "$W/$tag.p"
	"$@" -m trace $flag "$IN/${REF:-full.py}" > "$W/$tag.full"
	$CMP $kind "$W/$tag.full" "$IN" | grep -v full.py > "$W/$tag.ref"
}
