#!/bin/bash
# Faults and hostile input: the tracer killed, the target dying, forking or
# exec'ing under it, two tracers at once, a reused PID, a root that lies
# with symlinks, planted links in the output directory, control bytes in
# names.  Where a count is checked, the reference is the arithmetic of a
# target that fires known probes, or python -m trace on the same program.
. "$(dirname "$0")/lib.sh" faults
SDT_TARGET=${SDT_TARGET:?}
SEMS="$PYTHON $HERE/semaphores.py"
cleanup() {
	[ -n "${MOUNTED:-}" ] && umount "$MOUNTED" 2>/dev/null
	rm -f /etc/ctrace-test-secret.py
}
need_root
cd "$W" || exit 1
printf 'a = 1\nb = 2\nc = 3\n' > "$W/fake.py"
printf '%s\n' '200000: a = 1' '200000: b = 2' '200000: c = 3' > "$W/fake.want"

stop_bg() {
	echo bye >&7
	exec 7>&-
	wait $BG 2>/dev/null
	BG=
}

# exact_cover NAME DIR: DIR/fake.cover has 2 threads x 100000 hits a line
exact_cover() {
	diff "$2/fake.cover" "$W/fake.want" > "$W/exact.diff" 2>&1
	check "$1" "$W/exact.diff"
}

# time_exit PID SECONDS: wait for PID to end, at most SECONDS; its status,
# or 254 if it is still running
time_exit() {
	for _ in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
		sleep 0.05
	done
	return 254
}

# counted_run TAG DIR: a held C target (2 threads x 100000 hits a line)
# with ctrace-bpf -c -C DIR attached as CT, and the hits fired; false if
# the tracer never attached
counted_run() {
	hold "$1" "$SDT_TARGET" "$W/fake.py" 2 100000
	"$CTRACE" -c -C "$2" -p $BG > /dev/null 2> "$W/$1.err" &
	CT=$!
	if ! wait_ready "$W/$1.err"; then
		attach_failed "attach for $1" "$W/$1.err"
		return 1
	fi
	echo go >&7
	wait_for done "$W/$1.out"
}

echo "# SIGINT and SIGTERM: a clean detach and the report"
for sig in INT TERM; do
	if counted_run s$sig "$W/$sig"; then
		kill -$sig $CT
		wait $CT
		rc=$?
		exact_cover "SIG$sig: the report counts every hit" "$W/$sig"
		[ $rc = 0 ] && ok "SIG$sig: exit 0" || not_ok "SIG$sig: exit 0 (got $rc)" "$W/s$sig.err"
		[ "$($SEMS $BG)" = 0 ] && ok "SIG$sig: semaphores back to 0" ||
			not_ok "SIG$sig: semaphores back to 0"
	fi
	stop_bg
done

echo "# a second Ctrl-C ends the tracer at once, leaving no partial file"
hold big "$SDT_TARGET" "$W/fake.py" 1 1 1000000
"$CTRACE" -c -C "$W/big" -p $BG > /dev/null 2> "$W/big.err" &
CT=$!
if wait_ready "$W/big.err"; then
	echo go >&7
	wait_for done "$W/big.out"
	kill -INT $CT
	sleep 0.1
	kill -INT $CT
	time_exit $CT 1
	rc=$?
	[ $rc = 130 ] && ok "second SIGINT: killed by it within a second" ||
		not_ok "second SIGINT: killed by it within a second (status $rc)" "$W/big.err"
	left=$(find "$W/big" -name '*.tmp-*' 2>/dev/null | wc -l)
	whole=yes
	[ -f "$W/big/fake.cover" ] && [ "$(wc -l < "$W/big/fake.cover")" != 3 ] && whole=no
	[ "$left" = 0 ] && [ $whole = yes ] && ok "second SIGINT: no temporary or partial file left" ||
		not_ok "second SIGINT: $left temporary files, whole=$whole"
else
	attach_failed "attach for the double Ctrl-C" "$W/big.err"
fi
stop_bg

echo "# SIGKILL while attached: the target runs on, semaphores back to 0"
"$PYTHON" -c '
import sys, time
print("ready", flush=True)
n = 0
while True:
    n += 1
    if n % 100000 == 0:
        print(n, flush=True)
' > "$W/tick.out" &
BG=$!
wait_for ready "$W/tick.out"
"$CTRACE" -c -p $BG > /dev/null 2> "$W/kill.err" &
CT=$!
if wait_ready "$W/kill.err"; then
	during=$($SEMS $BG)
	kill -KILL $CT
	wait $CT 2>/dev/null
	sleep 0.3
	after=$($SEMS $BG)
	n1=$(wc -l < "$W/tick.out")
	sleep 1
	n2=$(wc -l < "$W/tick.out")
	if [ "$during" -gt 0 ] && [ "$after" = 0 ] && [ "$n2" -gt "$n1" ] && kill -0 $BG; then
		ok "SIGKILL: semaphores $during -> 0, the target still running"
	else
		echo "during=$during after=$after ticks $n1 -> $n2" > "$W/kill.diff"
		not_ok "SIGKILL: semaphores back to 0, target running" "$W/kill.diff"
	fi
else
	attach_failed "attach for SIGKILL" "$W/kill.err"
fi
kill $BG
wait $BG 2>/dev/null
BG=

echo "# the target exits, or is killed, mid-trace: the trace ends by itself"
for how in exits killed; do
	if counted_run t$how "$W/$how"; then
		if [ $how = exits ]; then stop_bg; else kill -KILL $BG; wait $BG 2>/dev/null; BG=; exec 7>&-; fi
		time_exit $CT 2
		rc=$?
		[ $rc = 0 ] && ok "target $how: the trace ends within 2 s, exit 0" ||
			not_ok "target $how: trace ends within 2 s with exit 0 (status $rc)" "$W/t$how.err"
		[ $rc = 254 ] && kill -INT $CT
		exact_cover "target $how: what was counted is reported" "$W/$how"
	else
		stop_bg
	fi
done

echo "# two tracers on one target at once"
hold two "$SDT_TARGET" "$W/fake.py" 2 100000
"$CTRACE" -c -C "$W/one" -p $BG > /dev/null 2> "$W/one.err" &
CT1=$!
"$CTRACE" -c -C "$W/other" -p $BG > /dev/null 2> "$W/other.err" &
CT2=$!
if wait_ready "$W/one.err" && wait_ready "$W/other.err"; then
	both=$($SEMS $BG)
	echo go >&7
	wait_for done "$W/two.out"
	kill -INT $CT1
	wait $CT1
	one_left=$($SEMS $BG)
	kill -INT $CT2
	wait $CT2
	none_left=$($SEMS $BG)
	exact_cover "two tracers: the first counts every hit" "$W/one"
	exact_cover "two tracers: the second counts every hit" "$W/other"
	# the kernel counts a probe site once per process, however many
	# tracers share it: on while either is attached, 0 after both
	[ "$both" -gt 0 ] && [ "$one_left" -gt 0 ] && [ "$none_left" = 0 ] &&
		ok "two tracers: semaphores $both -> $one_left -> 0" ||
		not_ok "two tracers: semaphores $both -> $one_left -> $none_left"
else
	attach_failed "attach two tracers" "$W/one.err"
	kill $CT2 2>/dev/null
fi
stop_bg

echo "# fork: the child is not traced, and is left as fast as before"
cat > "$W/forker.py" <<'EOF'
import os, sys
def in_parent(i):
    return i + 1
def in_child(i):
    return i - 1
print("ready", flush=True)
sys.stdin.readline()
pid = os.fork()
if pid == 0:
    for i in range(500):
        in_child(i)
    print("child", os.getpid(), flush=True)
    sys.stdin.readline()
    os._exit(0)
for i in range(300):
    in_parent(i)
print("done", flush=True)
sys.stdin.readline()
os.kill(pid, 9)
EOF
hold fork "$PYTHON" "$W/forker.py"
"$CTRACE" -c -C "$W/fork" -p $BG > /dev/null 2> "$W/fork.err" &
CT=$!
if wait_ready "$W/fork.err"; then
	echo go >&7
	wait_for done "$W/fork.out" && wait_for child "$W/fork.out"
	kill -INT $CT
	wait $CT
	child=$(sed -n 's/^child //p' "$W/fork.out")
	grep -q '^  300:     return i + 1$' "$W/fork/forker.cover" &&
		grep -q '^       *    return i - 1$' "$W/fork/forker.cover" &&
		ok "fork: the parent's 300 calls counted, none of the child's 500" ||
		not_ok "fork: parent counted, child not" "$W/fork/forker.cover"
	# the kernel takes the child's semaphores back as it removes the
	# uprobes, which may finish a moment after our exit
	for _ in $(seq 40); do
		[ -n "$child" ] && [ "$($SEMS "$child")" = 0 ] && break
		sleep 0.05
	done
	[ -n "$child" ] && [ "$($SEMS "$child")" = 0 ] && ok "fork: the child's semaphores are 0 after detach" ||
		not_ok "fork: the child's semaphores are 0 after detach"
else
	attach_failed "attach for fork" "$W/fork.err"
fi
stop_bg

echo "# exec: the trace ends at the exec, with what was counted before it"
cat > "$W/execer.py" <<'EOF'
import os, sys
def before(i):
    return i * 2
print("ready", flush=True)
sys.stdin.readline()
for i in range(200):
    before(i)
os.execv(sys.executable, [sys.executable, sys.argv[1]])
EOF
cat > "$W/after.py" <<'EOF'
import sys
def after_exec(i):
    return i * 3
for i in range(100):
    after_exec(i)
print("done", flush=True)
sys.stdin.readline()
EOF
hold exec "$PYTHON" "$W/execer.py" "$W/after.py"
"$CTRACE" -c -C "$W/exec" -p $BG > /dev/null 2> "$W/exec.err" &
CT=$!
if wait_ready "$W/exec.err"; then
	echo go >&7
	wait_for done "$W/exec.out"
	time_exit $CT 2
	rc=$?
	[ $rc = 0 ] && grep -q "exec'd a new program: the trace ends at the exec" "$W/exec.err" &&
		ok "exec: the trace ends by itself, exit 0, with a note" ||
		not_ok "exec: the trace ends by itself (status $rc)" "$W/exec.err"
	[ $rc = 254 ] && kill -INT $CT
	grep -q '^  200:     return i \* 2$' "$W/exec/execer.cover" && [ ! -e "$W/exec/after.cover" ] &&
		ok "exec: 200 calls before it counted, nothing of the new program" ||
		not_ok "exec: counts before the exec only" "$W/exec.err"
	[ "$($SEMS $BG)" = 0 ] && ok "exec: the new program's semaphores are 0" ||
		not_ok "exec: the new program's semaphores are 0"
else
	attach_failed "attach for exec" "$W/exec.err"
fi
stop_bg

echo "# PID reuse: never attach to a newcomer with the target's number"
# In a PID namespace of its own, ns_last_pid hands the dead target's
# number to the next process.  The tracer pauses between examining the
# target and attaching (a hook for this test), and the swap happens there.
unshare -pf --mount-proc bash -c '
	"$1" -c "import time; time.sleep(60)" & A=$!
	CTRACE_TEST_DELAY_ATTACH=1500 "$2" -c -p $A > /dev/null 2> "$3/reuse.err" & CT=$!
	sleep 0.7
	kill -KILL $A; wait $A 2>/dev/null
	echo $((A - 1)) > /proc/sys/kernel/ns_last_pid
	"$1" -c "import time; time.sleep(60)" & B=$!
	wait $CT; echo "rc=$? reused=$([ $A = $B ] && echo yes || echo no) sems=$("$1" "$4" $B)"
	kill $B
' reuse "$PYTHON" "$CTRACE" "$W" "$HERE/semaphores.py" > "$W/reuse.out" 2>&1
if grep -q 'reused=yes' "$W/reuse.out"; then
	grep -q 'rc=1 .*sems=0' "$W/reuse.out" &&
		grep -q 'exited before the probes were attached' "$W/reuse.err" &&
		ok "PID reuse: refused, and the newcomer left untouched" ||
		not_ok "PID reuse refused" "$W/reuse.err"
else
	not_ok "PID reuse: the test could not make the PID be reused" "$W/reuse.out"
fi

echo "# a root whose source is an absolute symlink: read inside the root"
R=$W/root
mkdir -p "$R/usr" "$R/etc" "$R/app" "$R/tmp"
for d in bin lib lib64 sbin; do [ -L /$d ] && ln -s "$(readlink /$d)" "$R/$d"; done
mount --bind /usr "$R/usr" && MOUNTED=$R/usr
printf 'x = 1\ny = 2\n' > "$R/etc/ctrace-test-secret.py"
printf 'HOST SECRET 1\nHOST SECRET 2\n' > /etc/ctrace-test-secret.py
ln -s /etc/ctrace-test-secret.py "$R/app/prog.py"
"$CTRACE" -c -C "$W/sym" -- chroot "$R" "$PYTHON" /app/prog.py > /dev/null 2> "$W/sym.err"
if grep -q 'x = 1' "$W/sym/prog.cover" 2>/dev/null && ! grep -rq 'HOST SECRET' "$W/sym"; then
	ok "symlink to /etc in a chroot: the root's file is reported, not the host's"
else
	not_ok "symlink resolved inside the root" "$W/sym.err"
fi
umount "$R/usr" && MOUNTED=
rm -f /etc/ctrace-test-secret.py

echo "# links planted in the output directory are replaced, never followed"
mkdir -p "$W/plant"
printf 'def f():\n    return 1\nf()\n' > "$W/planted.py"
printf 'victim\n' > "$W/victim1"
printf 'victim\n' > "$W/victim2"
ln -s "$W/victim1" "$W/plant/planted.cover"
"$CTRACE" -c -C "$W/plant" -- "$PYTHON" "$W/planted.py" > /dev/null 2> "$W/plant.err"
ln -f "$W/victim2" "$W/plant/planted.cover"
"$CTRACE" -c -C "$W/plant" -- "$PYTHON" "$W/planted.py" > /dev/null 2>> "$W/plant.err"
if [ "$(cat "$W/victim1" "$W/victim2")" = "$(printf 'victim\nvictim')" ] &&
	[ ! -L "$W/plant/planted.cover" ] && grep -q 'return 1' "$W/plant/planted.cover"; then
	ok "planted symlink and hard link: replaced, their targets untouched"
else
	not_ok "planted links not followed" "$W/plant.err"
fi

echo "# .cover names from target strings stay inside the output directory"
mkdir -p "$W/names/sub"
printf 'x = 1\n' > "$W/names/sub/..py"
printf 'x = 1\n' > "$W/names/.hidden.py"
(cd "$W/names" && "$CTRACE" -c -C "$W/nc" -- "$PYTHON" -c '
import runpy
runpy.run_path("sub/..py")
runpy.run_path(".hidden.py")' > /dev/null 2> "$W/names.err")
bad=$(find "$W/nc" -mindepth 1 \( -name '.*' -o -name '..*' \) | head -3)
[ -z "$bad" ] && ! find "$W" -maxdepth 1 -name '*.cover' | grep -q . &&
	ok "hidden and dot-dot module names: no file outside or hidden" ||
	not_ok "names stay inside: $bad" "$W/names.err"

echo "# control bytes in names never reach a terminal raw"
ESC=$(printf '\033')
F="$W/esc${ESC}]0;pwned${ESC}\\x.py"
printf 'def f():\n    return 1\nf()\n' > "$F"
SHELL=/bin/bash script -qec "$(printf '%q ' "$CTRACE" -l -- "$PYTHON" "$F")" "$W/tty.log" > /dev/null 2>&1
sed 1d "$W/tty.log" > "$W/tty.out"
if grep -q 'funcname: f' "$W/tty.out" && ! grep -q "$ESC" "$W/tty.out"; then
	ok "on a terminal: escape bytes shown as \\x1b"
else
	cat -v "$W/tty.out" > "$W/tty.diff"
	not_ok "on a terminal: no raw escape bytes" "$W/tty.diff"
fi
"$CTRACE" -l -- "$PYTHON" "$F" > "$W/pipe.out" 2> /dev/null
(cd "$W" && "$PYTHON" -m trace -l "$F") > "$W/pipe.ref"
same_as_trace "into a pipe: names as trace prints them" pipe funcs "$W" "$W/pipe.out" "$W/pipe.ref"

echo "# the target's binaries are read, never run"
"$PYTHON" -c 'import time; print("ready", flush=True); time.sleep(30)' > "$W/ex.out" &
BG=$!
wait_for ready "$W/ex.out"
strace -f -qq -e trace=execve,execveat -o "$W/strace.log" "$CTRACE" -c -d 1 -p $BG > /dev/null 2> "$W/ex.err"
n=$(grep -c 'execve' "$W/strace.log")
[ "$n" = 1 ] && ok "by PID: one execve, our own" ||
	not_ok "by PID: no execve but our own ($n)" "$W/strace.log"
kill $BG
wait $BG 2>/dev/null
BG=

finish
