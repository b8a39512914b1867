#!/bin/bash
# The ptrace delivery's first bricks, on every pyenv CPython 3.8-3.13 the
# machine has (they have neither the probes nor PEP 768): one thread
# stopped, made to mmap, write, read and munmap a page of its own, or to
# call functions that return into a page of ours, or to run Python code
# at its next safe point, and let go.  The target must go on exactly as it
# was: a sleep not stretched by more than the stop, a blocked read still reading, a pure-Python loop
# still looping, its memory map as before, and the tracer's SIGKILL while
# the thread is stopped harmless.
. "$(dirname "$0")/lib.sh" ptrace
PTCALL=${PTCALL:?}
need_root
cd "$W" || exit 1

# summing PY: a pure-Python loop, "ready" first and its sum at its end;
# exec, so that $! of "summing PY &" is the Python
summing() {
	exec "$1" -c 'print("ready", flush=True)
n = 0
for i in range(30000000):
    n += i
print("sum", n, flush=True)'
}
SUM=449999985000000

# check_one NAME PY: every case on one interpreter
check_one() {
	local v=$1 py=$2 t0 ms out

	# a main thread asleep in time.sleep (select() on 3.8-3.10)
	"$py" -c 'import time, sys; print("ready", flush=True); t = time.monotonic(); time.sleep(2); print("slept %.3f" % (time.monotonic() - t))' > "$W/s.$v" &
	BG=$!
	wait_for ready "$W/s.$v"
	cat /proc/$BG/maps > "$W/maps1.$v"
	out=$("$PTCALL" $BG 2> "$W/err.$v")
	cat /proc/$BG/maps > "$W/maps2.$v"
	wait $BG
	BG=
	ms=$(sed -n 's/.*stopped_us \([0-9]*\)/\1/p' <<< "$out")
	if [ -n "$ms" ] && diff "$W/maps1.$v" "$W/maps2.$v" > "$W/maps.$v.diff" &&
		awk -v s="$(sed -n 's/slept //p' "$W/s.$v")" -v us="$ms" \
			'BEGIN { exit !(s >= 2 && s < 2 + us / 1e6 + 0.3) }'; then
		ok "$v: asleep, stopped ${ms} us for mmap/munmap; the sleep $(sed -n 's/slept //p' "$W/s.$v") s, the map as before"
	else
		cat "$W/err.$v" "$W/s.$v" "$W/maps.$v.diff" > "$W/f.$v" 2>/dev/null
		not_ok "$v: asleep: stopped, mapped, unmapped, let go" "$W/f.$v"
	fi

	# a main thread blocked in a read of its stdin: it still reads it
	mkfifo "$W/in.$v"
	"$py" -c 'import sys; print("ready", flush=True); print("got " + sys.stdin.readline().strip(), flush=True)' < "$W/in.$v" > "$W/r.$v" &
	BG=$!
	exec 7> "$W/in.$v"
	wait_for ready "$W/r.$v"
	"$PTCALL" $BG > /dev/null 2> "$W/err.$v"
	rc=$?
	echo hello >&7
	exec 7>&-
	wait $BG
	BG=
	[ $rc = 0 ] && grep -qx "got hello" "$W/r.$v" &&
		ok "$v: blocked in read(): the read goes on and gets its line" ||
		not_ok "$v: blocked in read()" "$W/err.$v"

	# a pure-Python loop: it goes on to its end
	summing "$py" > "$W/l.$v" &
	BG=$!
	wait_for ready "$W/l.$v"
	"$PTCALL" $BG > /dev/null 2> "$W/err.$v"
	rc=$?
	wait $BG
	BG=
	[ $rc = 0 ] && grep -qx "sum $SUM" "$W/l.$v" &&
		ok "$v: in a tight loop: it runs on to the right sum" ||
		not_ok "$v: in a tight loop" "$W/err.$v"

	# functions called in a thread running Python, returning into a page
	# of ours (int3s, read and execute only), which goes after
	summing "$py" > "$W/c.$v" &
	BG=$!
	wait_for ready "$W/c.$v"
	out=$("$PTCALL" $BG call 2> "$W/err.$v")
	rc=$?
	page=$(sed -n 's/^page //p' <<< "$out")
	left=$(grep -c "^$page-" /proc/$BG/maps)
	wait $BG
	BG=
	if [ $rc = 0 ] && [ -n "$page" ] && [ "$left" = 0 ] &&
		grep -qx "sum $SUM" "$W/c.$v"; then
		ok "$v: getpid() and Py_IsInitialized() called in a running loop ($(tr '\n' ' ' <<< "$out")), the page gone after, the sum right"
	else
		echo "$out" >> "$W/err.$v"
		not_ok "$v: functions called in a running loop" "$W/err.$v"
	fi

	# Python code run at the interpreter's next safe point: a pending call
	# of a stub of ours that runs it and returns 0; then code that raises
	"$py" -c 'import time
print("ready", flush=True)
t = time.time()
n = 0
while time.time() - t < 2.5:
    n += 1
print("loop done", flush=True)' > "$W/p.$v" 2> "$W/p.$v.err" &
	BG=$!
	P=$BG
	wait_for ready "$W/p.$v"
	t0=$(date +%s%N)
	out=$("$PTCALL" $BG run "open('$W/ran.$v', 'w').write('ran in %d' % __import__('os').getpid())" 2> "$W/err.$v")
	rc=$?
	for _ in $(seq 100); do [ -s "$W/ran.$v" ] && break; sleep 0.01; done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	set -- $out
	sleep 0.05	# the stub returns right after the code's last write
	left=$(grep -c "^${2:-none}-" /proc/$BG/maps)
	out=$("$PTCALL" $BG run "1/0" 2>> "$W/err.$v")
	set -- $out
	sleep 0.2
	kept=$(grep -c "^${2:-none}-" /proc/$BG/maps)
	wait $BG
	prc=$?
	BG=
	if [ $rc = 0 ] && grep -qx "ran in $P" "$W/ran.$v" 2>/dev/null; then
		[ "$left" = 0 ] && ok "$v: Python code run through a pending call within $ms ms, our pages gone with the call (ptcall_unmap not used)" ||
			not_ok "$v: our pages left after the pending call ($left)" "$W/err.$v"
	else
		not_ok "$v: Python code run through a pending call" "$W/err.$v"
	fi
	[ $prc = 0 ] && grep -qx "loop done" "$W/p.$v" && grep -q ZeroDivisionError "$W/p.$v.err" &&
		[ "$kept" = 0 ] &&
		ok "$v: code that raises: its traceback on the target's stderr, our pages gone, the target runs on to its end" ||
		not_ok "$v: code that raises (target status $prc)" "$W/p.$v.err"

	# the tracer SIGKILLed while the thread is stopped: the kernel lets it go
	"$py" -c 'import time; print("ready", flush=True); time.sleep(1.5); print("alive", flush=True)' > "$W/k.$v" &
	BG=$!
	wait_for ready "$W/k.$v"
	PTCALL_HOLD_MS=2000 "$PTCALL" $BG > /dev/null 2>&1 &
	K=$!
	sleep 0.3
	kill -KILL $K
	wait $K 2> /dev/null
	ended_well "$v: the tracer SIGKILLed while the thread was stopped: it runs on" "$W/k.$v" alive
}

# the kB of our pages in PID with permissions PERMS (rw-p, r-xp):
# anonymous mappings with no swap reserved (smaps' nr), as the delivery
# maps them (adjacent ones merge, so sizes, not mappings)
ours() {
	awk -v p="$2" '/^[0-9a-f]+-[0-9a-f]+ / { mine = $6 == "" && $2 == p }
	     /^Size:/ { size = $2 }
	     /^VmFlags:/ && mine && / nr( |$)/ { kb += size } END { print kb + 0 }' "/proc/$1/smaps"
}

# kill_steps NAME PY KIND: the delivery's test build SIGKILLed at each of
# its steps in turn, against a main thread that spins (KIND loop) or is
# blocked in read() (KIND read), another thread asleep in a loop beside it.  The
# target must run on to the right end; the calls queued run once it is
# free, and take their pages; the one page that may stay is the mmap's,
# if we died while it was being made (readable and writable only).
kill_steps() {
	local v=$1 py=$2 kind=$3 n m base leaks= bad= ran in
	in=$W/in.$v.$kind
	mkfifo "$in"
	"$py" -c 'import os, sys, threading, time
kind, path = sys.argv[1:3]
sys.path.insert(0, sys.argv[3])
import seccomp_on
stop = False
def sleeper():
    while not stop:
        time.sleep(0.05)
th = threading.Thread(target=sleeper); th.start()
f = open(path)
print("ready", flush=True)
if kind == "read":
    line = f.readline().strip()
else:
    x, n = 0.0, 0
    while not os.path.exists(path + ".stop"):
        for i in range(20000):
            x += 0.5; n += 1
    line = str(x == n * 0.5)
stop = True; th.join()
print("got", line)
time.sleep(0.3)
print("done", flush=True)
f.readline()' "$kind" "$in" "$CORPUS" > "$W/ks.$v.$kind" 2>&1 &
	BG=$!
	exec 7> "$in"
	wait_for ready "$W/ks.$v.$kind"
	[ -z "${CTRACE_TEST_FILTER:-}" ] || grep -q "^Seccomp:.2" /proc/$BG/status ||
		bad="no seccomp filter on the target"
	PTCALL_COUNT=1 "$PTCALL" $BG run "pass" 2> "$W/steps.$v" > /dev/null
	n=$(grep -c '^step' "$W/steps.$v")
	# the steps before "mapped", and the interrupt that follows it
	m=$(sed -n '/^mapped/=' "$W/steps.$v")
	base=$(ours $BG rw-p)
	for i in $(seq 1 "$n"); do
		[ -z "$bad" ] || break
		PTCALL_KILL_AT=$i "$PTCALL" $BG run "open('$W/ran.$v.$kind.$i', 'w').close()" > /dev/null 2>&1
		kill -0 $BG 2> /dev/null || { bad="the target died at step $i"; break; }
		# after the mmap, the thread removes our page itself once it is
		# let go by our death: give it the moment that takes
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ "$(ours $BG rw-p)" -le "$base" ] || [ "$i" -le "$m" ] || { sleep 0.05; continue; }
			break
		done
		[ "$(ours $BG rw-p)" -le "$base" ] && continue
		[ "$i" -le "$m" ] || { bad="a page left at step $i (the mmap's end is at $m)"; break; }
		leaks="$leaks $i"
		base=$(ours $BG rw-p)
	done
	[ "$kind" = read ] && echo "line" >&7
	touch "$in.stop"
	wait_for done "$W/ks.$v.$kind"
	[ -z "$bad" ] && [ -n "$(exec_anon $BG)" ] && bad="an executable page of ours left after the calls ran"
	echo >&7
	exec 7>&-
	wait $BG
	rc=$?
	BG=
	ran=$(ls "$W" | grep -c "^ran\.$v\.$kind\.")
	rm -f "$in" "$in.stop"
	if [ -z "$bad" ] && [ $rc = 0 ] && grep -Eqx "got (line|True)" "$W/ks.$v.$kind"; then
		ok "$v: the delivery killed at each of its $n steps, main thread $( [ "$kind" = read ] && echo "blocked in read()" || echo "in a loop"): it runs on to its end, its code run $ran times, a page left only when killed inside the mmap (at steps:${leaks:- none}), $(sed -n 's/^worst //p' "$W/ks.$v.$kind")"
	else
		not_ok "$v: the delivery killed at each of its steps ($kind): ${bad:-status $rc}" "$W/ks.$v.$kind"
	fi
}

for v in ${PTRACE_VERSIONS:-3.8 3.9 3.10 3.11 3.12 3.13}; do
	py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | tail -1)
	echo "# pyenv CPython $v"
	if [ -z "$py" ]; then
		skip "pyenv $v" "no ~/.pyenv/versions/$v.*"
		continue
	fi
	check_one "$v" "$py"
	kill_steps "$v" "$py" loop
	kill_steps "$v" "$py" read
done

# the same under a seccomp filter of Docker's default shape (built by
# libseccomp: an allow list, EPERM for the rest): our death's way back
# (munmap, rt_sigreturn) is let through by it, as ptrace.c reckoned
mkdir -p "$W/filters"
py=$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -1)
echo "# under a seccomp filter"
if ! /usr/bin/python3.11 "$HERE/seccomp_filters.py" "$W/filters" 2> "$W/filters.err"; then
	not_ok "seccomp filters built by libseccomp (python3-seccomp)" "$W/filters.err"
elif [ -n "$py" ]; then
	CTRACE_TEST_FILTER=$W/filters/docker.bpf kill_steps 3.12-seccomp "$py" read
else
	skip "the delivery killed at each step under seccomp" "no pyenv 3.12"
fi
finish
