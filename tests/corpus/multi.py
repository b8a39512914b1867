# A process among several: prints "ready", waits (for a line on stdin with
# ARGV[2], else two seconds, so that -a has picked it up), then defines and
# runs a few functions every 10 ms for ARGV[1] rounds, and exits.  At the
# exit, Py_FinalizeEx runs an atexit function of this file, which trace
# never sees: its counting has stopped by then, and ours must have too.
import atexit
import sys
import time
print("ready", flush=True)
if len(sys.argv) > 2:
    sys.stdin.readline()
else:
    time.sleep(2)
def tick(i):
    return i
def at_exit():
    return tick(-1)
atexit.register(at_exit)
class Ticker:
    def tock(self):
        return tick(1)
for i in range(int(sys.argv[1])):
    tick(i)
    Ticker().tock()
    time.sleep(0.01)
