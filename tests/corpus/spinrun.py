# Like waitrun.py, but it waits in Python, not blocked in a read: the
# monitoring backend's request is taken at the next bytecode boundary.
# argv[1] appears: run the corpus; argv[1] goes: exit.
import os
import sys
import time
go = sys.argv[1]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
import prog
prog.main()
print("done", flush=True)
while os.path.exists(go):
    time.sleep(0.01)
