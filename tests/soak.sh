#!/bin/bash
# make soak: SOAK_SECONDS (600) of --count, attached by PID, on a busy 3.11
# target: 4 threads calling one function as fast as they can, and a stream
# of short-lived threads calling it 1000 times each.  The target must never
# crash, the count must be exact (the target tallies its own calls), and
# the semaphores must be back to 0 after.
. "$(dirname "$0")/lib.sh" soak
SECS=${SOAK_SECONDS:-600}
need_root
cat > "$W/busy.py" <<'PY'
import sys, threading, time
def work(i):
    return i + 1
def short(n):
    for i in range(n):
        work(i)
stop = False
totals = []
def worker():
    n = 0
    while not stop:
        work(n)
        n += 1
    totals.append(n)
print("ready", flush=True)
sys.stdin.readline()
ts = [threading.Thread(target=worker) for _ in range(4)]
for t in ts:
    t.start()
churn = 0
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    t = threading.Thread(target=short, args=(1000,))
    t.start()
    t.join()
    churn += 1
stop = True
for t in ts:
    t.join()
print("total", sum(totals) + churn * 1000, "threads", churn + 4, flush=True)
print("done", flush=True)
sys.stdin.readline()
PY
hold busy "$PYTHON" "$W/busy.py" "$SECS"
"$CTRACE" -c -C "$W/cov" -p $BG > /dev/null 2> "$W/ct.err" &
CT=$!
wait_ready "$W/ct.err" || { not_ok "attach" "$W/ct.err"; finish; exit 1; }
echo "# soak: ${SECS}s of --count on PID $BG"
start=$(date +%s)
echo go >&7
while ! grep -q done "$W/busy.out"; do
	if ! kill -0 $BG 2>/dev/null; then
		not_ok "the target crashed after $(($(date +%s) - start))s" "$W/busy.out"
		finish
		exit 1
	fi
	sleep 5
done
kill -INT $CT
wait $CT
rc=$?
want=$(sed -n 's/^total \([0-9]*\) .*/\1/p' "$W/busy.out")
got=$(sed -n 's/^ *\([0-9]*\):     return i + 1$/\1/p' "$W/cov/busy.cover")
echo "# $(grep total "$W/busy.out"); counted $got"
[ $rc = 0 ] && ok "tracer exit 0 after $(($(date +%s) - start))s" || not_ok "tracer exit $rc" "$W/ct.err"
[ -n "$want" ] && [ "$got" = "$want" ] && ok "exact: $got calls counted, $want made" ||
	not_ok "exact count: got '$got', want '$want'" "$W/ct.err"
[ "$("$PYTHON" "$HERE/semaphores.py" $BG)" = 0 ] && ok "semaphores back to 0" ||
	not_ok "semaphores back to 0"
kill -0 $BG && ok "the target is still running" || not_ok "the target is still running"
echo bye >&7
wait $BG
finish
