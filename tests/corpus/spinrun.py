# Like waitrun.py, but it waits in Python, not blocked in a read: the
# monitoring backend's request is taken at the next bytecode boundary.
# argv[1] appears: run the corpus (or import module argv[2]: serial, the
# corpus without threads); argv[1] goes: exit.
import os
import sys
import time
go = sys.argv[1]
import seccomp_on  # noqa: F401 (CTRACE_TEST_FILTER)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
if len(sys.argv) > 2:
    __import__(sys.argv[2])
else:
    import prog
    prog.main()
print("done", flush=True)
while os.path.exists(go):
    time.sleep(0.01)
