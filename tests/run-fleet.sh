#!/bin/bash
# -a across many processes: one attachment per interpreter binary, shared
# by every process that maps it, those started later included.  Each
# process's report is compared with python -m trace of the same program;
# --merge with the union of the per-process reports; --comm and --cgroup
# must select exactly the processes meant; every semaphore is 0 after the
# end, and after the tracer is killed.
. "$(dirname "$0")/lib.sh" fleet
N=${FLEET_N:-300}
CG=
RDIRS=
cleanup() {
	touch "$W/stop" 2>/dev/null
	cleanup_roots 2>/dev/null
	kill $PIDS 2>/dev/null
	wait 2>/dev/null
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	rm -rf $RDIRS
}
need_root
cd "$W" || exit 1

cp "$HERE/corpus/fleet.py" "$W/fleet.py"
# a second binary, with a comm of its own
cp "$PYTHON" "$W/fleetpy"
for k in even odd; do
	"$PYTHON" -m trace -l "$W/fleet.py" $k once > "$W/$k.ref" 2>&1
	"$PYTHON" -m trace -T "$W/fleet.py" $k once > "$W/$k.T.ref" 2>&1
done

# the chrooted interpreters: a 3.9 and a 3.15 among the processes
RTAG=ctrace-fleet-$$
for r in "bullseye python3.9" "sid python3.15"; do
	set -- $r
	R=$ROOTS/$1
	if [ ! -x "$R/usr/bin/$2" ]; then
		skip "-a: the $2 processes" "no $R/usr/bin/$2 (make roots builds it)"
		continue
	fi
	mkdir -p "$R/tmp/$RTAG"
	RDIRS="$RDIRS $R/tmp/$RTAG"
	cp "$W/fleet.py" "$R/tmp/$RTAG/fleet.py"
	for k in even odd; do
		chroot "$R" "$2" -m trace -l "/tmp/$RTAG/fleet.py" $k once > "$W/$2.$k.ref" 2>&1
	done
done
cleanup_roots() { for d in $RDIRS; do touch "$d/stop"; done; }

# start_in ROOT PY KIND TAG: one process in a root, listed in TAG.PY
SEQ=0
start_in() {
	SEQ=$((SEQ + 1))
	chroot "$1" "$2" "/tmp/$RTAG/fleet.py" "$3" "/tmp/$RTAG/stop" > "$W/out.$4.$2.$SEQ" &
	PIDS="$PIDS $!"
	echo "$! $3" >> "$W/$4.$2"
}

# start PY KIND TAG: one process, its pid appended to the list TAG
# each its own output file: "ready" lines are counted over them
start() {
	SEQ=$((SEQ + 1))
	"$1" "$W/fleet.py" "$2" "$W/stop" > "$W/out.$3.$SEQ" &
	PIDS="$PIDS $!"
	echo "$! $2" >> "$W/$3"
}

# wait_all TAG: until every process of TAG has printed ready
wait_all() {
	local n
	n=$(cat "$W/$1" "$W/$1".python* 2>/dev/null | wc -l)
	for _ in $(seq 600); do
		[ "$(cat "$W"/out.$1.* 2>/dev/null | grep -c ready)" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# expect TAG MARK [PY]: PID=[MARK][PY.]KIND.ref for each process of TAG
expect() {
	awk -v w="$W" -v m="$2" -v py="${3:+$3.}" \
		'{ printf "%s=%s%s/%s%s.ref\n", $1, m, w, py, $2 }' "$W/$1${3:+.$3}"
}

# in_roots TAG: start an even and an odd process in each root
in_roots() {
	local tag=$1 r
	for r in "bullseye python3.9" "sid python3.15"; do
		set -- $r
		[ -x "$ROOTS/$1/usr/bin/$2" ] || continue
		: >> "$W/$tag.$2"
		start_in "$ROOTS/$1" "$2" even "$tag"
		start_in "$ROOTS/$1" "$2" odd "$tag"
	done
}

# check_roots OUT: each chrooted process's report against its trace
check_roots() {
	for py in python3.9 python3.15; do
		[ -s "$W/before.$py" ] || continue
		"$PYTHON" "$HERE/fleet_check.py" "$1" "/tmp/$RTAG/" \
			$(expect before '~' $py) $(expect after '' $py)
	done
}

sem_of() { "$PYTHON" "$HERE/semaphores.py" "$1" function__return; }

echo "# -a -l over $N processes: half running before, half started after"
: > "$W/before"; : > "$W/after"
for i in $(seq $((N / 2))); do
	[ $((i % 2)) = 0 ] && k=even || k=odd
	[ $((i % 3)) = 0 ] && py=$W/fleetpy || py=$PYTHON
	start "$py" $k before
done
in_roots before
wait_all before || not_ok "the first $((N / 2)) processes did not start"
# one that stays, for its semaphores after the end
"$PYTHON" "$W/fleet.py" even "$W/stop.keep" > "$W/keep.out" & KEEP=$!
PIDS="$PIDS $KEEP"
wait_for ready "$W/keep.out"
"$CTRACE" -a -l -v > "$W/all.out" 2> "$W/all.err" &
CT=$!
if wait_ready "$W/all.err" 60; then
	for i in $(seq $((N / 2))); do
		[ $((i % 2)) = 0 ] && k=even || k=odd
		[ $((i % 3)) = 0 ] && py=$W/fleetpy || py=$PYTHON
		start "$py" $k after
	done
	in_roots after
	wait_all after || not_ok "the last $((N / 2)) processes did not start"
	during=$(sem_of $KEEP)
	sleep 0.5
	touch "$W/stop"
	cleanup_roots
	for p in $(cat "$W/before" "$W/after" "$W"/before.python* "$W"/after.python* 2>/dev/null | awk '{ print $1 }'); do
		wait $p 2>/dev/null
	done
	sleep 0.3
	kill -INT $CT
	wait $CT
	after_end=$(sem_of $KEEP)
	"$PYTHON" "$HERE/fleet_check.py" "$W/all.out" "$W/" \
		$(expect before '~') $(expect after '') > "$W/all.diff"
	check "-a -l: each of $N processes reported as its own trace (less what ran before the attach)" "$W/all.diff"
	if [ -n "$RDIRS" ]; then
		check_roots "$W/all.out" > "$W/roots.diff"
		for r in $RDIRS; do
			case $r in
			*/bullseye/*) [ -s "$W/before.python3.9" ] || echo "no 3.9 processes ran" >> "$W/roots.diff" ;;
			*/sid/*) [ -s "$W/before.python3.15" ] || echo "no 3.15 processes ran" >> "$W/roots.diff" ;;
			esac
		done
		check "-a -l: the chrooted interpreters, before and after the attach, each as its own trace" "$W/roots.diff"
	fi
	n=$(grep -c "for every process that runs it" "$W/all.err")
	[ "$n" -ge 2 ] && [ "$n" -le 6 ] &&
		ok "-a: one attachment per binary, not per process ($n for $((N + 1)) processes)" ||
		not_ok "-a: $n attachments" "$W/all.err"
	[ "$during" -gt 0 ] && [ "$after_end" = 0 ] &&
		ok "-a: a running process's semaphore raised while traced ($during), 0 after the end" ||
		not_ok "-a: semaphores while traced ($during) and after ($after_end)" "$W/all.err"
else
	not_ok "-a: the Tracing line" "$W/all.err"
	kill $CT 2>/dev/null
fi
rm -f "$W/stop" "$W"/out.*

echo "# the tracer killed: the kernel lowers the semaphores"
"$CTRACE" -a -l > /dev/null 2> "$W/kill.err" &
CT=$!
if wait_ready "$W/kill.err" 60; then
	during=$(sem_of $KEEP)
	kill -KILL $CT
	wait $CT 2>/dev/null
	sleep 0.5
	after_kill=$(sem_of $KEEP)
	[ "$during" -gt 0 ] && [ "$after_kill" = 0 ] &&
		ok "-a, SIGKILL: semaphore $during while traced, 0 after" ||
		not_ok "-a, SIGKILL: semaphore $during, then $after_kill" "$W/kill.err"
else
	not_ok "-a (to be killed): the Tracing line" "$W/kill.err"
fi

echo "# -p keeps an attachment of its own: others of the binary pay nothing"
"$PYTHON" "$W/fleet.py" even "$W/stop.p" > "$W/pa.out" & PA=$!
"$PYTHON" "$W/fleet.py" odd "$W/stop.p" > "$W/pb.out" & PB=$!
PIDS="$PIDS $PA $PB"
wait_for ready "$W/pa.out"; wait_for ready "$W/pb.out"
"$CTRACE" -l -p $PA > /dev/null 2> "$W/p.err" &
CT=$!
if wait_ready "$W/p.err" 60; then
	sa=$(sem_of $PA); sb=$(sem_of $PB)
	kill -INT $CT
	wait $CT
	[ "$sa" -gt 0 ] && [ "$sb" = 0 ] &&
		ok "-p A: A's semaphore $sa, B's (the same binary) 0" ||
		not_ok "-p A: semaphores A=$sa B=$sb" "$W/p.err"
else
	not_ok "-p: the Tracing line" "$W/p.err"
	kill $CT 2>/dev/null
fi
touch "$W/stop.p"
wait $PA $PB 2>/dev/null

echo "# --merge and --comm: one list for a service"
: > "$W/svc"; : > "$W/other"
# a binary is attached when its first process is found: one runs already,
# so the others are counted from their first bytecode
"$W/fleetpy" "$W/fleet.py" odd "$W/stop.anchor" > "$W/anchor.out" & ANCHOR=$!
PIDS="$PIDS $ANCHOR"
wait_for ready "$W/anchor.out"
"$CTRACE" -a -l --comm fleetpy > "$W/each.out" 2> "$W/each.err" &
CE=$!
"$CTRACE" -a -l --merge --comm fleetpy --json "$W/merged.json" > "$W/merged.out" 2> "$W/merged.err" &
CM=$!
"$CTRACE" -a -l --exe "$W/fleetpy" > "$W/exe.out" 2> "$W/exe.err" &
CX=$!
"$CTRACE" -a -T --comm fleetpy > "$W/calls.out" 2> "$W/calls.err" &
CC=$!
if wait_ready "$W/each.err" 60 && wait_ready "$W/merged.err" 60 &&
	wait_ready "$W/exe.err" 60 && wait_ready "$W/calls.err" 60; then
	for i in $(seq 10); do
		[ $((i % 2)) = 0 ] && k=even || k=odd
		start "$W/fleetpy" $k svc
		start "$PYTHON" $k other
	done
	wait_all svc; wait_all other
	sleep 0.3
	touch "$W/stop"
	touch "$W/stop.anchor"
	for p in $ANCHOR $(awk '{ print $1 }' "$W/svc" "$W/other"); do wait $p 2>/dev/null; done
	sleep 0.3
	kill -INT $CE $CM $CX $CC
	wait $CE $CM $CX $CC
	"$PYTHON" "$HERE/fleet_check.py" "$W/each.out" "$W/" $(expect svc '') > "$W/each.diff"
	for p in $(awk '{ print $1 }' "$W/other"); do
		grep -q "^pid $p: " "$W/each.out" && echo "pid $p (python3.11) reported under --comm fleetpy" >> "$W/each.diff"
	done
	check "--comm fleetpy: its 10 processes, each as its trace; none of the 10 python3.11" "$W/each.diff"
	grep '^filename: ' "$W/each.out" | sort -u > "$W/union"
	grep '^filename: ' "$W/merged.out" | sort > "$W/merged"
	grep -c '^pid ' "$W/merged.out" > "$W/merged.heads"
	diff "$W/merged" "$W/union" > "$W/merge.diff"
	[ "$(cat "$W/merged.heads")" = 0 ] || echo "headings in the merged report" >> "$W/merge.diff"
	grep -q 'funcname: even_only' "$W/merged" && grep -q 'funcname: odd_only' "$W/merged" ||
		echo "the merged list lacks one kind" >> "$W/merge.diff"
	check "--merge: one list, the union of the per-process lists" "$W/merge.diff"
	"$PYTHON" -c 'import json, sys
for f in json.load(open(sys.argv[1]))["functions_called"]:
    print("filename: %s, modulename: %s, funcname: %s" % (f["file"], f["module"], f["function"]))' \
		"$W/merged.json" > "$W/merged.json.txt" 2>&1
	sort "$W/merged.json.txt" | diff - "$W/merged" > "$W/mj.diff"
	check "-a --merge --json: the merged list, in one JSON document" "$W/mj.diff"
	grep '^pid ' "$W/each.out" | sort > "$W/each.heads"
	grep '^pid ' "$W/exe.out" | sort > "$W/exe.heads"
	diff "$W/exe.heads" "$W/each.heads" > "$W/exe.diff"
	[ -s "$W/exe.heads" ] || echo "no process under --exe" >> "$W/exe.diff"
	check "--exe PATH: the processes of that interpreter, as --comm chose them" "$W/exe.diff"
	: > "$W/calls.diff"
	for k in even odd; do
		"$PYTHON" "$HERE/compare.py" pairs "$W/$k.T.ref" "$W/" > "$W/$k.T.want"
	done
	while read -r p k; do
		awk -v h="pid $p:" 'index($0, h) == 1 { on = 1; next } /^pid [0-9]+: / { on = 0 } on' \
			"$W/calls.out" > "$W/calls.$p"
		"$PYTHON" "$HERE/compare.py" pairs "$W/calls.$p" "$W/" > "$W/calls.$p.got"
		diff "$W/calls.$p.got" "$W/$k.T.want" | sed "s/^/pid $p: /" >> "$W/calls.diff"
	done < "$W/svc"
	[ -s "$W/even.T.want" ] || echo "trace listed no pairs" >> "$W/calls.diff"
	check "-a -T --comm fleetpy: each process's pairs, as its trace's" "$W/calls.diff"
else
	not_ok "--merge/--comm/--exe/-T: the Tracing lines" "$W/merged.err"
	kill $CE $CM $CX $CC 2>/dev/null
fi
rm -f "$W/stop" "$W"/out.*

echo "# -a --gc --comm: the other probes, once per binary too"
"$W/fleetpy" "$W/fleet.py" odd "$W/stop.anchor2" > "$W/anchor2.out" & ANCHOR=$!
PIDS="$PIDS $ANCHOR"
wait_for ready "$W/anchor2.out"
"$CTRACE" -a --gc --comm fleetpy > "$W/gc.out" 2> "$W/gc.err" &
CT=$!
if wait_ready "$W/gc.err" 60; then
	: > "$W/gcmine"; : > "$W/gcother"
	for i in $(seq 30); do
		"$W/fleetpy" "$HERE/corpus/events.py" sleep > /dev/null & echo $! >> "$W/gcmine"
	done
	for i in $(seq 3); do
		"$PYTHON" "$HERE/corpus/events.py" sleep > /dev/null & echo $! >> "$W/gcother"
	done
	for p in $(cat "$W/gcmine" "$W/gcother"); do wait $p 2>/dev/null; done
	sleep 0.3
	kill -INT $CT
	wait $CT
	: > "$W/gc.diff"
	for p in $(cat "$W/gcmine"); do
		got=$(awk -v h="pid $p:" 'index($0, h) == 1 { on = 1; next } /^pid [0-9]+: / { on = 0 }
			on && $1 == "1" && NF == 5 { print $2, $3 }' "$W/gc.out")
		[ "$got" = "7 70" ] || echo "pid $p: generation 1: '$got', not '7 70'" >> "$W/gc.diff"
	done
	for p in $(cat "$W/gcother"); do
		grep -q "^pid $p: " "$W/gc.out" && echo "pid $p (python3.11) reported" >> "$W/gc.diff"
	done
	n=$(grep -c "^pid " "$W/gc.out")
	[ "$n" = 31 ] || echo "$n headings, not 31 (30 and the anchor)" >> "$W/gc.diff"
	check "-a --gc --comm fleetpy: 30 processes started during the trace, each 7 collections; no python3.11" "$W/gc.diff"
else
	not_ok "-a --gc: the Tracing line" "$W/gc.err"
	kill $CT 2>/dev/null
fi
touch "$W/stop.anchor2"
wait $ANCHOR 2>/dev/null

echo "# --cgroup: the processes of one cgroup"
CGROOT=
for r in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ "$(stat -fc %T "$r" 2>/dev/null)" = cgroup2fs ] && CGROOT=$r && break
done
if [ -z "$CGROOT" ]; then
	not_ok "--cgroup: no cgroup v2 mount on this machine"
else
	CG=$CGROOT/ctrace-fleet-$$
	mkdir "$CG"
	: > "$W/in"; : > "$W/out"
	start "$PYTHON" even in; start "$PYTHON" odd in
	start "$PYTHON" even out; start "$PYTHON" odd out
	wait_all in; wait_all out
	for p in $(awk '{ print $1 }' "$W/in"); do echo $p > "$CG/cgroup.procs"; done
	"$CTRACE" -a -l --cgroup "ctrace-fleet-$$" > "$W/cg.out" 2> "$W/cg.err" &
	CT=$!
	if wait_ready "$W/cg.err" 60; then
		sleep 0.5
		touch "$W/stop"
		for p in $(awk '{ print $1 }' "$W/in" "$W/out"); do wait $p 2>/dev/null; done
		sleep 0.3
		kill -INT $CT
		wait $CT
		"$PYTHON" "$HERE/fleet_check.py" "$W/cg.out" "$W/" $(expect in '~') > "$W/cg.diff"
		for p in $(awk '{ print $1 }' "$W/out"); do
			grep -q "^pid $p: " "$W/cg.out" && echo "pid $p (outside) reported" >> "$W/cg.diff"
		done
		check "--cgroup: its two processes reported, the two outside not" "$W/cg.diff"
	else
		not_ok "--cgroup: the Tracing line" "$W/cg.err"
		kill $CT 2>/dev/null
	fi
	rmdir "$CG" 2>/dev/null && CG=
fi

touch "$W/stop.keep"
wait $KEEP 2>/dev/null
finish
