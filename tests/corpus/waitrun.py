# Waits for a line on stdin, then imports and runs the corpus: attached in
# between, a tracer sees the whole program, as trace does with full.py.
import sys
print("ready", flush=True)
sys.stdin.readline()
import prog
prog.main()
print("done", flush=True)
sys.stdin.readline()
