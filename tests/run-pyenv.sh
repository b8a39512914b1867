#!/bin/bash
# The collector delivered by ptrace into the pyenv CPythons the machine
# carries (no probes, no PEP 768): every mode, launched and by PID,
# against that interpreter's own python -m trace; and what is left in the
# target after (nothing: no page, no tool id, no trace function, no file).
. "$(dirname "$0")/lib.sh" pyenv
need_root
IN=$CORPUS
VERSIONS=${PYENV_VERSIONS:-3.8 3.9 3.10 3.11 3.12 3.13}

# launched MODE KIND TAG PROG V PY: the program under both tools
# launched MODE KIND TAG PROG V PY [DIR]: launched by both tools, what
# compare.py KIND extracts for DIR (the corpus) compared
launched() {
	local mode=$1 kind=$2 tag=$3.$5 prog=$4 v=$5 py=$6 dir=${7:-$IN}
	# the program's own output would split our lines: it goes elsewhere
	"$CTRACE" ${FORCE:-} $mode -- sh -c 'exec "$0" "$@" > /dev/null' "$py" "$IN/$prog" \
		> "$W/$tag.out" 2> "$W/$tag.err"
	"$py" -m trace $mode "$IN/$prog" > "$W/$tag.ref" 2> /dev/null
	# every file: but trace's own runctx is the README's known difference
	[ -z "${7:-}" ] || sed -i '/ trace\.Trace\.runctx -> /d' "$W/$tag.ref"
	same_as_trace "$v: launched $mode $prog identical${7:+ (every file)}" "$tag" "$kind" "$dir" \
		"$W/$tag.out" "$W/$tag.ref"
}


# the collector's sys.monitoring tool id, or settrace (3.8-3.11), from -v
tool_of() { sed -n 's/.*collector: sys.monitoring tool \([0-5]\) .*/\1/p; s/.*collector: sys.\(settrace\) .*/\1/p' "$1"; }

# by_pid V PY: the corpus run while attached, as trace sees full.py;
# then what is left, after a detach and after the tracer's SIGKILL
by_pid() {
	local v=$1 py=$2 tag=p$1 t1 t2
	rm -f "$W/$tag.go"
	"$py" "$IN/spinrun.py" "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	wait_for ready "$W/$tag.out"
	exec_anon $BG > "$W/$tag.maps0"
	if TOPTS=${FORCE:-} spin_report $tag $BG "$W/$tag.go" -T "$py"; then
		same_lists "$v: by PID, --trackcalls identical" "$W/$tag.p" "$W/$tag.ref"
		grep -q "Tracing PID $BG .*delivered by ptrace" "$W/$tag.err" &&
			grep -q "longest thread stop" "$W/$tag.err" &&
			ok "$v: the Tracing line names the ptrace delivery; -v its longest stop ($(sed -n 's/.*longest thread stop //p' "$W/$tag.err"))" ||
			not_ok "$v: the Tracing line names the ptrace delivery" "$W/$tag.err"
	else
		attach_failed "$v: attach by PID" "$W/$tag.err"
	fi
	t1=$(tool_of "$W/$tag.err")
	# detached: no page of ours, the tool id free again, no file
	sleep 0.3
	exec_anon $BG > "$W/$tag.maps1"
	diff "$W/$tag.maps0" "$W/$tag.maps1" > "$W/$tag.left"
	"$CTRACE" ${FORCE:-} -v -l -d 0.3 -p $BG > /dev/null 2> "$W/$tag.2.err"
	t2=$(tool_of "$W/$tag.2.err")
	[ -n "$t1" ] && [ "$t1" = "$t2" ] || echo "tool ids '$t1' then '$t2'" >> "$W/$tag.left"
	ls /tmp | grep '^ctrace-bpf\.' >> "$W/$tag.left"
	check "$v: after detach: no mapping of ours, the tool id free, no file" "$W/$tag.left"
	# the tracer SIGKILLed: the collector sees its FIFO's end and leaves
	"$CTRACE" ${FORCE:-} -v -l -p $BG > /dev/null 2> "$W/$tag.3.err" &
	CT=$!
	if wait_ready "$W/$tag.3.err"; then
		kill -9 $CT
		wait $CT 2>/dev/null
		sleep 1
		exec_anon $BG > "$W/$tag.maps2"
		diff "$W/$tag.maps0" "$W/$tag.maps2" > "$W/$tag.kill"
		"$CTRACE" ${FORCE:-} -v -l -d 0.3 -p $BG > /dev/null 2> "$W/$tag.4.err"
		[ "$(tool_of "$W/$tag.4.err")" = "$t1" ] ||
			echo "after SIGKILL: tool id '$(tool_of "$W/$tag.4.err")', not '$t1'" >> "$W/$tag.kill"
		ls /tmp | grep '^ctrace-bpf\.' >> "$W/$tag.kill"
		check "$v: tracer SIGKILLed: no mapping, tool or file of ours within 1 s" "$W/$tag.kill"
	else
		attach_failed "$v: attach for the SIGKILL test" "$W/$tag.3.err"
	fi
	rm -f "$W/$tag.go"
	wait $BG
	BG=
}

# by_pid_modes V PY: --count, --listfuncs and --trace by PID, the corpus
# run while attached: its covers and functions as trace's of full.py, its
# lines as trace's of serial.py (the corpus without threads, imported)
by_pid_modes() {
	local v=$1 py=$2 flag tag mod ref
	for flag in -c -l -t; do
		tag=pm$v$flag mod= ref=
		[ $flag = -t ] && mod=serial ref=serial.py
		rm -f "$W/$tag.go"
		"$py" "$IN/spinrun.py" "$W/$tag.go" $mod > "$W/$tag.out" 2>&1 &
		BG=$!
		wait_for ready "$W/$tag.out"
		if ! REF=$ref TOPTS=${FORCE:-} spin_report $tag $BG "$W/$tag.go" $flag "$py"; then
			attach_failed "$v: $flag by PID" "$W/$tag.err"
		elif [ $flag = -c ]; then
			same_covers "$v: by PID, --count's covers of the corpus identical" "$W/$tag.c" "$W/$tag.rc"
		else
			same_lists "$v: by PID, $flag identical" "$W/$tag.p" "$W/$tag.ref"
		fi
		rm -f "$W/$tag.go"
		wait $BG
		BG=
	done
}

# server V PY: a threaded HTTP server attached by PID while a client in
# its main thread keeps it busy: the handler's functions listed, each
# function named as trace names it in a run of the same program
server() {
	local v=$1 py=$2 tag=sv$1
	rm -f "$W/$tag.go" "$W/$tag.rgo"
	"$py" "$IN/server.py" "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	wait_for ready "$W/$tag.out"
	"$CTRACE" ${FORCE:-} -l -p $BG > "$W/$tag.l" 2> "$W/$tag.err" &
	CT=$!
	if wait_ready "$W/$tag.err"; then
		sleep 1
		touch "$W/$tag.go"
		wait_for done "$W/$tag.out" 20
		kill -INT $CT
		wait $CT
		# trace's run serves a while too, however slowly it starts
		( wait_for served "$W/$tag.ref" 60; sleep 1; touch "$W/$tag.rgo" ) &
		"$py" -m trace -l "$IN/server.py" "$W/$tag.rgo" > "$W/$tag.ref" 2> /dev/null
		wait
		# the server's own code and the stdlib's serving modules; threading's
		# bootstrap and shutdown, which trace never sees on 3.12+, are
		# issue 22's
		grep -E '^filename: .*/(server|socketserver)\.py,' "$W/$tag.l" | sort -u > "$W/$tag.o"
		grep -E '^filename: .*/(server|socketserver)\.py,' "$W/$tag.ref" | sort -u > "$W/$tag.r"
		{ grep -q "funcname: Handler.do_GET$" "$W/$tag.o" || echo "Handler.do_GET not listed"
		  grep -q "funcname: answer$" "$W/$tag.o" || echo "answer not listed"
		  comm -23 "$W/$tag.o" "$W/$tag.r" | sed 's/^/not as trace: /'
		  ! grep -q '/ctypes/' "$W/$tag.l" || echo "the collector's own ctypes listed"; } > "$W/$tag.diff"
		check "$v: a threaded server by PID while it serves: its handlers listed, each named as trace names it" "$W/$tag.diff"
	else
		attach_failed "$v: a threaded server by PID" "$W/$tag.err"
	fi
	touch "$W/$tag.go"
	wait $BG
	BG=
}

# threads: a main thread in a tight loop, others asleep in select(), in
# read() of a pipe and in a lock's futex wait, attached while they wait;
# each resumes and does its work; the select() sleep is not stretched
threads() {
	local v=$1 py=$2 tag=th$1
	"$py" - "$W/$tag.go" > "$W/$tag.out" 2>&1 <<'EOF' &
import os, select, sys, threading, time
r, w = os.pipe()
lock = threading.Lock()
lock.acquire()
out = []
def sel():
    t = time.monotonic()
    select.select([], [], [], 2.0)
    out.append("select %.2f" % (time.monotonic() - t))
def rd():
    out.append("read %r" % os.read(r, 5))
def fut():
    lock.acquire()
    out.append("lock taken")
def work(i):
    return i + 1
old = threading.Event()
def older():
    old.wait()
    hooks["old"] = sys.gettrace()
olds = threading.Thread(target=older)
olds.start()
ts = [threading.Thread(target=f) for f in (sel, rd, fut)]
for t in ts:
    t.start()
print("ready", flush=True)
n = 0
while not os.path.exists(sys.argv[1]):
    n = work(n)
os.write(w, b"hello")
lock.release()
for t in ts:
    t.join()
print(" | ".join(sorted(out)), flush=True)
print("done", flush=True)
while not os.path.exists(sys.argv[1] + ".end"):
    n = work(n)
hooks = {"main": sys.gettrace()}
def new():
    hooks["new"] = sys.gettrace()
t = threading.Thread(target=new)
t.start()
t.join()
old.set()
olds.join()
print("hooks", " ".join("%s=%r" % kv for kv in sorted(hooks.items())), flush=True)
EOF
	BG=$!
	wait_for ready "$W/$tag.out"
	"$CTRACE" ${FORCE:-} -l -p $BG > "$W/$tag.l" 2> "$W/$tag.err" &
	CT=$!
	if wait_ready "$W/$tag.err"; then
		sleep 0.3
		touch "$W/$tag.go"
		wait_for done "$W/$tag.out" 20
		# it ends with the target, or now
		kill -INT $CT
		wait $CT
		grep -q "^lock taken | read b'hello' | select 2.0[0-9]$" "$W/$tag.out" &&
			grep -q "funcname: work$" "$W/$tag.l" &&
			ok "$v: threads in select(), read() and a futex wait, main in a loop: all resume, the select() not stretched ($(grep select "$W/$tag.out"))" ||
			not_ok "$v: threads interrupted in their waits" "$W/$tag.out"
		# detached: no trace function left in any thread
		touch "$W/$tag.go.end"
		wait_for hooks "$W/$tag.out" 10
		grep -qx "hooks main=None new=None old=None" "$W/$tag.out" &&
			ok "$v: after detach, sys.gettrace() is None in the main thread, one from before and a new one" ||
			not_ok "$v: trace functions left after detach" "$W/$tag.out"
	else
		attach_failed "$v: attach to the threaded target" "$W/$tag.err"
	fi
	wait $BG
	BG=
}

check_one() {
	local v=$1 py=$2 tag
	tag=c$v
	rm -rf "$W/$tag" "$W/$tag.rc"
	"$CTRACE" ${FORCE:-} -c -m -s -C "$W/$tag" -- "$py" "$IN/prog.py" > "$W/$tag.out" 2> "$W/$tag.err"
	"$py" -m trace -c -m -s -C "$W/$tag.rc" "$IN/prog.py" > "$W/$tag.ref" 2> /dev/null
	same_as_trace "$v: launched --count --missing --summary rows identical" \
		"$tag" summary "$IN" "$W/$tag.out" "$W/$tag.ref"
	same_covers "$v: cover files identical (module names from its own sys.path)" \
		"$W/$tag" "$W/$tag.rc"
	launched -l funcs l prog.py "$v" "$py"
	launched -T pairs T prog.py "$v" "$py"
	launched -l funcs ln names.py "$v" "$py"
	launched -T pairs Tn names.py "$v" "$py"
	launched -t trace t serial.py "$v" "$py"
	# compiling a latin-1 script runs Python code (its codec, unicodedata)
	# before the main module; threading's _shutdown runs after it
	launched -l funcs l1 latin1.py "$v" "$py" /
	# equal code objects in two files: trace's cache by equality names both
	launched -l funcs eq eqcode.py "$v" "$py"
	launched -l funcs bc bodycalls.py "$v" "$py"
	launched -T pairs T1 latin1.py "$v" "$py" /
	launched -t trace t1 latin1.py "$v" "$py" /
	by_pid "$v" "$py"
	by_pid_modes "$v" "$py"
	server "$v" "$py"
	threads "$v" "$py"
	# -c code (sys.path's '' is the cwd), and code compiled with the file
	# name '': the collector's reply carries both
	(cd "$IN" && "$CTRACE" ${FORCE:-} -c -s -C "$W/e$v" -- "$py" -c \
		"exec(compile('x = 1', '', 'exec')); import pkg.util; pkg.util.note('x')") \
		> "$W/e$v.out" 2> "$W/e$v.err"
	rc=$?
	[ $rc = 0 ] && grep -q "  pkg\.util  " "$W/e$v.out" && ! grep -q malformed "$W/e$v.err" &&
		ok "$v: -c code, and a code object of file name '', counted" ||
		not_ok "$v: -c code and a file name '' (status $rc)" "$W/e$v.err"
	if [ -n "${FORCE:-}" ]; then
		grep -q "Tracing PID .*collector inside it (delivered by ptrace)" "$W/t.$v.err" &&
			! grep -q "note: " "$W/t.$v.err" &&
			ok "$v: $FORCE takes the collector where the probes are, by ptrace, without a note" ||
			not_ok "$v: $FORCE takes the collector where the probes are" "$W/t.$v.err"
		return
	fi
	grep -q "delivered by ptrace" "$W/t.$v.err" &&
		grep -q "note: .*delivered by ptrace; --backend=usdt forbids that" "$W/t.$v.err" &&
		ok "$v: auto chose the ptrace delivery and said so in one note" ||
		not_ok "$v: auto chose the ptrace delivery and said so" "$W/t.$v.err"
	# --backend=usdt forbids code in the target: a refusal, nothing run
	expect_fail "$v: --backend=usdt refuses a probe-less build" 1 \
		"built without --with-dtrace\|no function__entry" \
		"$CTRACE" ${FORCE:-} --backend=usdt -l -- "$py" -c pass
}

# old_threads V PY: --count by PID of threads that were there before the
# attach, one running (its calls counted exactly, from its running frame
# on), one blocked in a lock all along (no trace function left in it when
# it wakes after the detach)
old_threads() {
	local v=$1 py=$2 tag=ot$1
	rm -rf "$W/$tag.go" "$W/$tag.go.end" "$W/$tag"
	"$py" "$IN/oldthreads.py" "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	wait_for ready "$W/$tag.out"
	"$CTRACE" ${FORCE:-} -c -C "$W/$tag" -p $BG > /dev/null 2> "$W/$tag.err" &
	CT=$!
	if wait_ready "$W/$tag.err"; then
		touch "$W/$tag.go"
		wait_for done "$W/$tag.out" 20
		kill -INT $CT
		wait $CT
		touch "$W/$tag.go.end"
		wait_for "main trace" "$W/$tag.out" 10
		{ grep -Eq "^ +1000: +return 2$" "$W/$tag/oldthreads.cover" &&
		  grep -Eq "^ +1000: +twice\(\)$" "$W/$tag/oldthreads.cover" ||
			cat "$W/$tag/oldthreads.cover" "$W/$tag.err"
		  grep -qx "blocked thread woke, trace None" "$W/$tag.out" &&
		  grep -qx "main trace None" "$W/$tag.out" || cat "$W/$tag.out"; } > "$W/$tag.diff" 2>&1
		check "$v: threads from before the attach: 1000 calls counted exactly; none keeps a trace function" "$W/$tag.diff"
	else
		attach_failed "$v: threads from before the attach" "$W/$tag.err"
	fi
	touch "$W/$tag.go.end"
	wait $BG
	BG=
}

# what the target says of itself at its end: no trace function in any
# thread, no sys.monitoring tool id (3.12+)
CLEAN='import sys, threading
mon = getattr(sys, "monitoring", None)
tools = [i for i in range(6) if mon and mon.get_tool(i)]
print("clean" if sys.gettrace() is None and not tools else "left %r %r" % (sys.gettrace(), tools), flush=True)'

# wx V PY: a process that refuses executable pages (prctl PR_SET_MDWE, as
# systemd's MemoryDenyWriteExecute): the collector queued as
# PyRun_SimpleString of its code, the note said, -T as trace's, the
# page gone at the end
wx() {
	local v=$1 py=$2 tag=wx$1 page
	rm -f "$W/$tag.go"
	"$py" -c 'import ctypes, os, runpy, sys
assert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(sys.argv[0])
runpy.run_path(sys.argv[0], run_name="__main__")' "$IN/spinrun.py" "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	wait_for ready "$W/$tag.out"
	if spin_report $tag $BG "$W/$tag.go" -T "$py"; then
		same_lists "$v: W^X (PR_SET_MDWE): by PID, --trackcalls identical" "$W/$tag.p" "$W/$tag.ref"
		{ grep -q "refuses executable pages (W^X)" "$W/$tag.err" || echo "no W^X note"
		  page=$(pages_of "$W/$tag.err")
		  [ -n "$page" ] || echo "no pages named"
		  ! holds $BG "$page" || echo "our page left at $page"
		  [ -z "$(exec_anon $BG)" ] || echo "an executable page left"; } > "$W/$tag.left"
		check "$v: W^X: the code queued without a stub, said in a note; its page gone at the end" "$W/$tag.left"
	else
		attach_failed "$v: W^X by PID" "$W/$tag.err"
	fi
	rm -f "$W/$tag.go"
	wait $BG
	BG=
}

# stress V PY: 200 deliveries (the ptrace steps alone, not the collector)
# into a process that calls Py_AddPendingCall itself from a thread (ctypes,
# the GIL held), allocates in a tight loop on
# two more, and spins in its main thread, which pops their calls, lock in
# hand, all the time: none deadlocks, every call queued runs once
stress() {
	local v=$1 py=$2 tag=st$1 queued=0 i
	"$py" -c 'import ctypes, os, sys, threading
CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
theirs = [0]
@CB
def cb(arg):
    theirs[0] += 1
    return 0
# with the GIL held: with a second adder without it (CDLL), the GIL of 3.13
# condition variable was seen to hang in glibc (__condvar_quiesce_and_switch_g1)
lib = ctypes.PyDLL(None)
add = lib.Py_AddPendingCall
add.argtypes = [CB, ctypes.c_void_p]
stop = False
def adder():
    while not stop:
        add(cb, None)
def allocator():
    while not stop:
        b = [bytearray(600) for _ in range(50)]
ts = [threading.Thread(target=adder)]
ts += [threading.Thread(target=allocator) for _ in range(2)]
list(map(threading.Thread.start, ts))
print("ready", flush=True)
spins = 0
while not os.path.exists(sys.argv[1]):
    spins += 1
stop = True
for t in ts:
    t.join()
import builtins
print("ours", getattr(builtins, "_ctrace_n", 0), "theirs", theirs[0] > 0, flush=True)' "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	wait_for ready "$W/$tag.out"
	for i in $(seq 200); do
		# their calls may fill the queue: a full one is said, and tried again
		# a 3.13 main thread waits for the GIL most of the time here
		for _ in $(seq 400); do
			timeout 10 "$PTCALL" $BG run "import builtins; builtins._ctrace_n = getattr(builtins, '_ctrace_n', 0) + 1" \
				> /dev/null 2> "$W/$tag.err" && { queued=$((queued + 1)); break; }
			cat "$W/$tag.err" >> "$W/$tag.log"
			grep -Eq "pending calls are (full|busy)|waits for the GIL" "$W/$tag.err" || break
			sleep 0.01
		done
	done
	sleep 0.5
	touch "$W/$tag.go"
	timeout 30 tail --pid=$BG -f /dev/null || kill -9 $BG
	wait $BG
	local rc=$?
	BG=
	rm -f "$W/$tag.go"
	# what went wrong first, not a page of "full"
	{ grep -Ev "pending calls are (full|busy)|waits for the GIL" "$W/$tag.log"
	  echo "$(grep -c "are full" "$W/$tag.log") full, $(grep -c "are busy" "$W/$tag.log") busy, $(grep -c "waits for the GIL" "$W/$tag.log") in a GIL wait"
	  cat "$W/$tag.out"; } > "$W/$tag.why" 2>/dev/null
	[ $rc = 0 ] && [ $queued = 200 ] && grep -qx "ours 200 theirs True" "$W/$tag.out" &&
		ok "$v: 200 deliveries beside Py_AddPendingCall from ctypes and malloc loops: no deadlock, each run once" ||
		not_ok "$v: 200 deliveries beside their own pending calls ($queued queued, status $rc)" "$W/$tag.why"
}

# queue_until TAG WHILE: ptcall_check's run of one more _ctrace_n into $BG,
# tried again every 10 ms (3 s at most) while it fails saying WHILE; the
# tries in $TRIES, anything else said on stdout
queue_until() {
	TRIES=0
	until timeout 10 "$PTCALL" $BG run "import builtins; builtins._ctrace_n = getattr(builtins, '_ctrace_n', 0) + 1" \
		> /dev/null 2> "$W/$1.err"; do
		grep -q "$2" "$W/$1.err" || { cat "$W/$1.err"; return; }
		TRIES=$((TRIES + 1))
		[ $TRIES -lt 300 ] || { echo "still '$2' after 3 s"; return; }
		sleep 0.01
	done
}

# gil_wait V PY: the main thread waits for the GIL (another thread holds it
# in C, sleeping): from 3.13 on, where the queue's PyMutex may be handed
# to a thread that then waits on the GIL's condition variable, whose
# signallers wait for our stopped waiter, the call is not made there
# ("waits for the GIL") and is once the GIL is free; before 3.13 the
# queue's semaphore is never held across a wait, and it is made at once
gil_wait() {
	local v=$1 py=$2 tag=gw$1 first
	"$py" -c 'import builtins, ctypes, os, sys, threading, time
hold = ctypes.PyDLL(None).usleep
def holder():
    print("held", flush=True)
    hold(1500000)
t = threading.Thread(target=holder)
t.start()
n = 0
while t.is_alive():
    n += 1
print("freed", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
print("ours", getattr(builtins, "_ctrace_n", 0), flush=True)' "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	{ wait_for held "$W/$tag.out" || echo "never held"
	  sleep 0.2
	  queue_until $tag "waits for the GIL"
	  first=before; grep -q freed "$W/$tag.out" && first=after
	  case $v in
	  3.8|3.9|3.10|3.11|3.12) [ $first = before ] || echo "not queued at once, in the GIL wait ($TRIES tries)" ;;
	  *) [ $first = after ] && [ $TRIES -gt 0 ] || echo "queued in the GIL wait" ;;
	  esac
	  touch "$W/$tag.go"
	  timeout 10 tail --pid=$BG -f /dev/null || { echo "the target hung"; kill -9 $BG; }
	  grep -qx "ours 1" "$W/$tag.out" || { echo "the code did not run once:"; cat "$W/$tag.out"; }; } > "$W/$tag.diff" 2>&1
	wait $BG
	BG=
	rm -f "$W/$tag.go"
	check "$v: main thread waiting for the GIL: queued $( case $v in 3.8|3.9|3.10|3.11|3.12) echo at once ;; *) echo "once the GIL is free, not in the wait" ;; esac), run once" "$W/$tag.diff"
}

# pending_table V PY: the version table's Py_AddPendingCall queue against
# the internal headers this build was made from; where it is found by its
# shape (3.13), the place found in a live process against them too
pending_table() {
	local v=$1 py=$2 inc bin=$W/pl$1 line at rt want=
	inc=$(dirname "$(dirname "$py")")/include/python$v
	if ! cc -std=gnu11 -D_GNU_SOURCE -Wall -Werror -I"$HERE/../bpf" -I"$HERE/../user" \
		-I"$inc" -I"$inc/internal" "$HERE/pending_layout.c" "$HERE/../user/target/pyversion.c" \
		-o "$bin" > "$W/pl$v.cc" 2>&1; then
		not_ok "$v: the pending-calls table's check builds against $inc" "$W/pl$v.cc"
		return
	fi
	"$bin" > "$W/pl$v.out"
	while read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		"# queue "*) want=${line#\# queue } ;;
		esac
	done < "$W/pl$v.out"
	[ -n "$want" ] || return 0
	"$py" -c 'import ctypes, time
print("runtime", hex(ctypes.addressof(ctypes.c_char.in_dll(ctypes.PyDLL(None), "_PyRuntime"))), flush=True)
time.sleep(5)' > "$W/pl$v.rt" &
	BG=$!
	wait_for runtime "$W/pl$v.rt"
	at=$("$PTCALL" $BG lock | cut -d' ' -f2)
	rt=$(cut -d' ' -f2 "$W/pl$v.rt")
	kill $BG; wait $BG
	BG=
	[ -n "$at" ] && [ $((at - rt - 8)) = "$want" ] &&
		ok "$v: the queue found in a live process where the headers put it ($want)" ||
		not_ok "$v: the queue found at ${at:-nothing} - ${rt:-?} - 8, the headers say $want"
}

# held_lock V PY: the main thread stopped while it holds Py_AddPendingCall's
# lock (taken with ctypes where ptcall_check finds it), as it does for a
# moment each time it pops a call: the queueing call, which would wait
# for that thread forever, is not made; said "busy", and made once the
# lock is free; the code runs once, the target ends
held_lock() {
	local v=$1 py=$2 tag=hl$1 lock
	mkfifo "$W/$tag.in"
	"$py" -c 'import builtins, ctypes, os, sys, time
print("up", flush=True)
kind, at = open(sys.argv[1]).readline().split()
at = int(at, 16)
libc = ctypes.CDLL(None)
if kind == "sem":
    libc.sem_wait(ctypes.c_void_p(at))
else:
    ctypes.c_uint8.from_address(at).value = 1
print("held", flush=True)
time.sleep(1.5)
if kind == "sem":
    libc.sem_post(ctypes.c_void_p(at))
else:
    ctypes.c_uint8.from_address(at).value = 0
print("freed", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
print("ours", getattr(builtins, "_ctrace_n", 0), flush=True)' "$W/$tag.in" "$W/$tag.go" > "$W/$tag.out" 2>&1 &
	BG=$!
	# its interpreter up, not the exec's first moment
	wait_for up "$W/$tag.out"
	lock=$("$PTCALL" $BG lock 2> "$W/$tag.err")
	echo "$lock" > "$W/$tag.in"
	{ [ -n "$lock" ] || cat "$W/$tag.err"
	  wait_for held "$W/$tag.out" || echo "never held"
	  timeout 10 "$PTCALL" $BG run "import builtins; builtins._ctrace_n = 1" > /dev/null 2> "$W/$tag.err" &&
		echo "queued while the lock was held"
	  grep -q "pending calls are busy" "$W/$tag.err" || { echo "not said busy:"; cat "$W/$tag.err"; }
	  queue_until $tag "pending calls are busy"
	  grep -q freed "$W/$tag.out" || echo "queued before the lock was freed"
	  touch "$W/$tag.go"
	  timeout 10 tail --pid=$BG -f /dev/null || { echo "the target hung"; kill -9 $BG; }
	  grep -qx "ours 1" "$W/$tag.out" || { echo "the code did not run once:"; cat "$W/$tag.out"; }; } > "$W/$tag.diff" 2>&1
	wait $BG
	BG=
	rm -f "$W/$tag.go" "$W/$tag.in"
	check "$v: main thread stopped holding the pending-calls lock ($(echo $lock | cut -d' ' -f1)): said busy, queued once it is free, run once" "$W/$tag.diff"
}

# direct V PY: the main thread blocked in C without the GIL (a read): the
# collector run on it at once; -l lists what runs after, as trace would;
# nothing of ours left once the call queued before has run (and found
# the collector there)
direct() {
	local v=$1 py=$2 tag=di$1 page
	mkfifo "$W/$tag.in"
	"$py" -c 'import sys, time
f = open(sys.argv[1])
print("ready", flush=True)
f.readline()
def after_read():
    return 1
after_read()
time.sleep(0.2)
print("called", flush=True)
f.readline()
'"$CLEAN"'
f.readline()' "$W/$tag.in" > "$W/$tag.out" 2> "$W/$tag.stderr" &
	BG=$!
	exec 7> "$W/$tag.in"
	wait_for ready "$W/$tag.out"
	"$CTRACE" -v -l -p $BG > "$W/$tag.l" 2> "$W/$tag.err" &
	CT=$!
	if wait_ready "$W/$tag.err"; then
		echo >&7
		wait_for called "$W/$tag.out"
		kill -INT $CT
		wait $CT
		echo >&7
		wait_for "clean\|left" "$W/$tag.out"
		{ grep -q "run on it directly" "$W/$tag.err" || echo "not run directly"
		  grep -q "funcname: after_read$" "$W/$tag.l" || cat "$W/$tag.l"
		  grep -qx clean "$W/$tag.out" || cat "$W/$tag.out"
		  [ ! -s "$W/$tag.stderr" ] || cat "$W/$tag.stderr"
		  page=$(pages_of "$W/$tag.err")
		  ! holds $BG "$page" || echo "our pages left at $page"; } > "$W/$tag.diff" 2>&1
		check "$v: main thread blocked in C without the GIL: the collector run on it directly, counting from there; nothing left" "$W/$tag.diff"
	else
		attach_failed "$v: main thread blocked in C" "$W/$tag.err"
	fi
	echo >&7
	exec 7>&-
	wait $BG
	BG=
	rm -f "$W/$tag.in"
}

# gave_up V PY: the main thread blocked in C holding the GIL (a read
# through ctypes.PyDLL) never reaches a safe point, nor lets the
# collector run on it: a note, Ctrl-C ends the trace in one line; when
# the main thread runs Python again, the call still queued finds no
# channel and goes; and when the channel's second half is gone as the
# collector starts (ctl), it frees what it took: nothing is left either way
gave_up() {
	local v=$1 py=$2 tag=gu$1 how page
	for how in ctrl-c no-ctl; do
		mkfifo "$W/$tag.in"
		"$py" -c 'import ctypes, sys
f = open(sys.argv[1])
print("ready", flush=True)
ctypes.PyDLL(None).read(f.fileno(), ctypes.create_string_buffer(8), 1)
def after():
    return 1
after()
import time
time.sleep(0.3)
'"$CLEAN"'
f.readline()' "$W/$tag.in" > "$W/$tag.out" 2> "$W/$tag.stderr" &
		BG=$!
		exec 7> "$W/$tag.in"
		wait_for ready "$W/$tag.out"
		"$CTRACE" -v -l -p $BG > /dev/null 2> "$W/$tag.err" &
		CT=$!
		if [ $how = ctrl-c ]; then
			wait_for "waiting for process $BG's main thread" "$W/$tag.err"
			kill -INT $CT
			wait $CT
			local rc=$?
			echo >&7
		else
			sleep 0.5
			rm -f /tmp/ctrace-bpf.*/ctl
			echo >&7
			wait $CT
			local rc=$?
		fi
		wait_for "clean\|left" "$W/$tag.out"
		{ [ $rc != 0 ] || echo "ctrace-bpf exited 0"
		  [ "$(grep -v '^ctrace-bpf: \(note\|ptrace\|peak RSS\)' "$W/$tag.err" | grep -c .)" = 1 ] || echo "not the notes and one line"
		  grep -qx clean "$W/$tag.out" || cat "$W/$tag.out"
		  [ ! -s "$W/$tag.stderr" ] || cat "$W/$tag.stderr"
		  page=$(pages_of "$W/$tag.err")
		  [ -n "$page" ] || echo "no pages named"
		  ! holds $BG "$page" || echo "our pages left at $page"
		  ls /tmp | grep '^ctrace-bpf\.'; } > "$W/$tag.$how" 2>&1
		echo >&7
		exec 7>&-
		wait $BG
		BG=
		rm -f "$W/$tag.in"
		[ $how = ctrl-c ] &&
			check "$v: main thread blocked in C: a note, Ctrl-C ends it in one line, the call run later finds nobody; nothing left" "$W/$tag.$how" ||
			check "$v: the channel half gone as the collector starts: it takes nothing, leaves nothing" "$W/$tag.$how"
	done
}

for v in $VERSIONS; do
	py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | tail -1)
	echo "# pyenv CPython $v"
	if [ -z "$py" ]; then
		skip "pyenv $v" "no ~/.pyenv/versions/$v.*"
		continue
	fi
	[ -n "${PYENV_HARD_ONLY:-}" ] || check_one "$v" "$py"
	old_threads "$v" "$py"
	wx "$v" "$py"
	stress "$v" "$py"
	pending_table "$v" "$py"
	held_lock "$v" "$py"
	gil_wait "$v" "$py"
	gave_up "$v" "$py"
	direct "$v" "$py"
done

# refusals, each in one line, the target left running: a process that
# another tracer holds (its TracerPid named), one under a seccomp filter
refusals() {
	local py=$1
	"$py" -c 'import time; print("ready", flush=True); time.sleep(4)' > "$W/tp.out" &
	BG=$!
	wait_for ready "$W/tp.out"
	PTCALL_HOLD_MS=2500 "$PTCALL" $BG > /dev/null 2>&1 &
	local H=$! i
	# held once its TracerPid is ours (at once, unless the machine is loaded)
	for i in $(seq 300); do
		[ "$(awk '/^TracerPid/ { print $2 }' /proc/$BG/status)" = "$H" ] && break
		sleep 0.01
	done
	expect_fail "a process traced already: refused, its TracerPid named" 1 \
		"is already traced by process $H (its TracerPid)" "$CTRACE" -l -p $BG
	wait $H
	kill $BG; wait $BG 2>/dev/null; BG=
}

# filtered V PY: targets under seccomp filters (tests/seccomp_filters.py,
# built by libseccomp).  Those that let our calls through are delivered:
# Docker's default profile's shape, an allow-all, systemd's
# MemoryDenyWriteExecute (then by the W^X way) and a sandbox's death to
# any tracer's call made by the target, each -l by PID identical
# to trace's; those that would kill, signal or refuse one of our calls
# are refused in one line, naming it, and the target runs on to its end.
filtered() {
	local v=$1 py=$2 f tag want
	for f in allow docker mdwe kill_ptrace kill_sigreturn errno_mmap trap_skipped; do
		tag=sf$v$f
		rm -f "$W/$tag.go"
		CTRACE_TEST_FILTER=$W/filters/$f.bpf "$py" "$IN/spinrun.py" "$W/$tag.go" > "$W/$tag.out" 2>&1 &
		BG=$!
		wait_for ready "$W/$tag.out"
		case $f in
		kill_sigreturn) want="answers kill-process to the rt_sigreturn the delivery" ;;
		errno_mmap) want="answers errno 1 (Operation not permitted) to the mmap" ;;
		trap_skipped) want="answers trap to the skipped rt_sigreturn (syscall -1)" ;;
		*) want= ;;
		esac
		if [ -n "$want" ]; then
			expect_fail "$v: under seccomp ($f): refused in one line" 1 "$want" \
				"$CTRACE" -l -p $BG
			touch "$W/$tag.go"
		elif ! spin_report $tag $BG "$W/$tag.go" -l "$py"; then
			attach_failed "$v: under seccomp ($f): -l by PID" "$W/$tag.err"
		else
			same_lists "$v: under seccomp ($f): -l by PID identical" "$W/$tag.p" "$W/$tag.ref"
			[ $f != mdwe ] || { grep -q "refuses executable pages (W^X)" "$W/$tag.err" &&
				ok "$v: under seccomp ($f): the W^X way taken, and noted" ||
				not_ok "$v: under seccomp ($f): no W^X note" "$W/$tag.err"; }
		fi
		wait_for done "$W/$tag.out" 60
		rm -f "$W/$tag.go"
		ended_well "$v: under seccomp ($f): the target ran on to its end" "$W/$tag.out" done
	done
}

mkdir -p "$W/filters"
if ! /usr/bin/python3.11 "$HERE/seccomp_filters.py" "$W/filters" 2> "$W/filters.err"; then
	not_ok "seccomp filters built by libseccomp (python3-seccomp)" "$W/filters.err"
else
	for v in 3.8 3.12; do
		py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | tail -1)
		echo "# seccomp filters, pyenv $v"
		[ -n "$py" ] && filtered $v "$py" || skip "seccomp filters on $v" "no pyenv $v"
	done
fi

py=$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -1)
echo "# refusals"
# yama's 3 cannot be set back without a reboot; and no free-threaded build
skip "kernel.yama.ptrace_scope=3 refused" "setting 3 is one-way until reboot: not on a shared machine"
ls -d "$HOME"/.pyenv/versions/3.1[3-9]*t >/dev/null 2>&1 ||
	skip "a free-threaded build refused" "no free-threaded CPython (3.13t) on this machine"
if [ -n "$py" ]; then
	refusals "$py"
else
	skip "refusals" "no pyenv 3.12"
fi

# where the probes are, the collector asked for (its cost is lower)
echo "# Debian 12's CPython 3.11, probes and all, with --backend=monitoring"
FORCE=--backend=monitoring check_one 3.11-debian /usr/bin/python3.11
finish
