"""A real program for `make bench`, held until a line on stdin.

    bench_real_target.py [--spin] MODULE ARG...

prints "ready", waits for a line (a tracer attaches meanwhile), runs
MODULE as python -m MODULE ARG... would, and prints its CPU seconds on
stderr; the program's own output goes wherever stdout goes.  With --spin
a thread runs Python while the main one waits, so that the monitoring
backend's request (taken at a bytecode boundary) is taken at once.
"""
import runpy
import sys
import time

if sys.argv[1] == '--spin':
    import threading

    def spin():
        while True:
            time.sleep(0.005)

    threading.Thread(target=spin, daemon=True).start()
    del sys.argv[1]
mod = sys.argv[1]
args = sys.argv[2:]
print('ready', file=sys.stderr, flush=True)
sys.stdin.readline()
sys.argv = [mod] + args
start = time.process_time()
try:
    runpy.run_module(mod, run_name='__main__', alter_sys=True)
except SystemExit:
    pass
print('%.6f' % (time.process_time() - start), file=sys.stderr, flush=True)
