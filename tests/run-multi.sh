#!/bin/bash
# Several processes at once: -p repeated, and -a for every Python on the
# host, including interpreters started after the trace began (a 3.9 from
# the bullseye root among them).  Each process's report, under its own
# "pid PID: COMMAND" heading, is compared with python -m trace run on the
# same program; a process that exits early keeps its report; -a must not
# turn on the line probe anywhere for modes that do not need it.
. "$(dirname "$0")/lib.sh" multi
need_root
cd "$W" || exit 1

# section OUT PID: the report under "pid PID:" in OUT, up to the next heading
section() {
	awk -v p="pid $2:" 'index($0, p) == 1 { on = 1; next } /^pid [0-9]+: / { on = 0 } on' "$1"
}

# section_as_trace NAME OUT PID KIND REF: PID's section against trace's output
section_as_trace() {
	section "$2" "$3" > "$W/sec"
	same_as_trace "$1" sec "$4" "$(dirname "$5")" "$W/sec" "$5.ref"
}

cp "$CORPUS/multi.py" "$W/multi.py"
# trace runs each program the way the traced processes run it
echo go | "$PYTHON" -m trace -l "$W/multi.py" 30 hold > "$W/multi.py.l.ref" 2>&1
echo go | "$PYTHON" -m trace -T "$W/multi.py" 30 hold > "$W/multi.py.T.ref" 2>&1
"$PYTHON" -m trace -l "$W/multi.py" 30 > "$W/multi.py.a.ref" 2>&1

for mode in l T; do
	echo "# -$mode on two processes given by -p, one exiting early"
	mkfifo "$W/a$mode.in" "$W/b$mode.in"
	"$PYTHON" "$W/multi.py" 30 hold < "$W/a$mode.in" > "$W/a$mode.out" & A=$!
	"$PYTHON" "$W/multi.py" 30 hold < "$W/b$mode.in" > "$W/b$mode.out" & B=$!
	PIDS="$A $B"
	exec 7> "$W/a$mode.in" 8> "$W/b$mode.in"
	wait_for ready "$W/a$mode.out" && wait_for ready "$W/b$mode.out"
	"$CTRACE" -$mode -p $A -p $B --json "$W/two$mode.json" > "$W/two$mode.out" 2> "$W/two$mode.err" &
	CT=$!
	if wait_ready "$W/two$mode.err"; then
		echo go >&8
		wait $B	# B runs to its end and exits while traced
		echo go >&7
		sleep 0.6
		kill -INT $CT
		wait $CT
		kind=funcs
		[ $mode = T ] && kind=pairs
		cp "$W/multi.py.$mode.ref" "$W/multi.py.ref"
		# A is still in its loop: only its module-level part is missing
		grep -q "^pid $A: .*multi.py 30 hold$" "$W/two$mode.out" &&
			grep -q "^pid $B: .*multi.py 30 hold$" "$W/two$mode.out" &&
			ok "-$mode: a heading for each process" ||
			not_ok "-$mode: headings" "$W/two$mode.out"
		section_as_trace "-$mode: the process that exited keeps its report, equal to trace's" \
			"$W/two$mode.out" $B $kind "$W/multi.py"
		# --json holds both processes' results as one
		"$PYTHON" - "$W/two$mode.json" "$W/two$mode.out" $mode > "$W/j$mode.diff" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
if sys.argv[3] == 'l':
    ours = {(f['file'], f['module'], f['function']) for f in d['functions_called']}
    ref = set(re.findall(r'^filename: (.*), modulename: (.*), funcname: (.*)$', text, re.M))
    if ours != ref or not ref:
        print('--json functions differ from the reports:', sorted(ours ^ ref)[:5])
else:
    if not d['calls'] or any(c['count'] < 1 for c in d['calls']):
        print('no pairs, or a pair counted 0 times')
PY
		check "-$mode --json: both processes' results in one document" "$W/j$mode.diff"
	else
		not_ok "-$mode: attach to two processes" "$W/two$mode.err"
	fi
	exec 7>&- 8>&-
	kill $A 2>/dev/null
	wait $A 2>/dev/null
done

echo "# -a: running processes, and interpreters started later"
mkfifo "$W/old.in"
"$PYTHON" "$W/multi.py" 1 hold < "$W/old.in" > "$W/old.out" & OLD=$!
PIDS=$OLD
exec 7> "$W/old.in"
wait_for ready "$W/old.out"
"$CTRACE" -l -a -v > "$W/all.out" 2> "$W/all.err" &
CT=$!
if wait_ready "$W/all.err"; then
	line_sem=$("$PYTHON" "$HERE/semaphores.py" $OLD line)
	ret_sem=$("$PYTHON" "$HERE/semaphores.py" $OLD function__return)
	"$PYTHON" "$W/multi.py" 30 > /dev/null & NEW=$!
	wait $NEW
	R=$ROOTS/bullseye
	if [ -x "$R/usr/bin/python3.9" ]; then
		cp "$CORPUS/multi.py" "$R/tmp/ctrace-multi.py"
		chroot "$R" python3.9 /tmp/ctrace-multi.py 30 > /dev/null & NEW9=$!
		wait $NEW9
		chroot "$R" python3.9 -m trace -l /tmp/ctrace-multi.py 30 > "$W/m9.ref" 2>&1
	fi
	echo go >&7
	wait $OLD
	sleep 0.3
	kill -INT $CT
	wait $CT
	[ "$line_sem" = 0 ] && [ "$ret_sem" -gt 0 ] &&
		ok "-a -l: the running 3.11 got function__return ($ret_sem), never the line probe" ||
		not_ok "-a -l: no line probe turned on (line=$line_sem return=$ret_sem)" "$W/all.err"
	grep -q "^pid $OLD: " "$W/all.out" && ok "-a: the process running at start is reported" ||
		not_ok "-a: the running process" "$W/all.out"
	cp "$W/multi.py.a.ref" "$W/multi.py.ref"
	section_as_trace "-a: a 3.11 started later, reported as trace reports it" "$W/all.out" $NEW funcs "$W/multi.py"
	if [ -x "$R/usr/bin/python3.9" ]; then
		section "$W/all.out" $NEW9 > "$W/s9"
		same_as_trace "-a: a 3.9 in a chroot, not running when the trace began, as its trace reports it" \
			s9 funcs /tmp "$W/s9" "$W/m9.ref"
	else
		skip "-a: a 3.9 in a chroot" "no $R (make roots builds it)"
	fi
else
	not_ok "-a: the Tracing line" "$W/all.err"
fi
exec 7>&-

echo "# -a --gc --imports --audit=open: the other probes, per process"
"$CTRACE" --gc --imports --audit=open -a > "$W/gca.out" 2> "$W/gca.err" &
CT=$!
if wait_ready "$W/gca.err"; then
	"$PYTHON" "$CORPUS/events.py" sleep > /dev/null & EV=$!
	wait $EV
	sleep 0.3
	kill -INT $CT
	wait $CT
	section "$W/gca.out" $EV > "$W/gca.sec"
	[ "$(awk '$1 == "1" && NF == 5 { print $2, $3 }' "$W/gca.sec")" = "7 70" ] &&
		ok "-a --gc: a process started later, 7 generation-1 collections of 70 objects" ||
		not_ok "-a --gc: the new process's collections" "$W/gca.out"
	grep -qE '^ +[0-9.]+  json$' "$W/gca.sec" && grep -q '  nosuchmodule_xyz  FAILED$' "$W/gca.sec" &&
		ok "-a --imports: its imports under its heading" ||
		not_ok "-a --imports: the new process's imports" "$W/gca.out"
	grep -qE "^[0-9.]+ +$EV +python3.11 +open +\('/etc/hostname'" "$W/gca.out" &&
		ok "-a --audit=open: its open of /etc/hostname, with its PID" ||
		not_ok "-a --audit: the new process's open" "$W/gca.out"
else
	not_ok "-a --gc: the Tracing line" "$W/gca.err"
fi

echo "# --gc on two processes given by -p"
"$PYTHON" "$CORPUS/events.py" sleep > /dev/null & E1=$!
"$PYTHON" "$CORPUS/events.py" sleep > /dev/null & E2=$!
PIDS="$E1 $E2"
sleep 0.3
"$CTRACE" --gc -p $E1 -p $E2 > "$W/gc2.out" 2> "$W/gc2.err"
rc=$?
for e in $E1 $E2; do
	section "$W/gc2.out" $e | awk '$1 == "1" && NF == 5 { print $2, $3 }' > "$W/gc2.$e"
done
[ $rc = 0 ] && [ "$(cat "$W/gc2.$E1")" = "7 70" ] && [ "$(cat "$W/gc2.$E2")" = "7 70" ] &&
	ok "--gc -p A -p B: each process's 7 collections under its own heading; ends when both exit" ||
	not_ok "--gc on two PIDs (status $rc)" "$W/gc2.out"
finish
