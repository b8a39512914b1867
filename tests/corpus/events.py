# Known events for --gc, --imports and --audit: exactly 7 gc.collect(1)
# calls that each find 10 cycles (after one full collection), imports of known modules (one that does
# not exist), one open of /etc/hostname and one compile.
import gc
import sys
import time
gc.disable()
if len(sys.argv) > 1 and sys.argv[1] == 'sleep':
    time.sleep(2)   # for -a to pick it up first
elif len(sys.argv) > 1:
    print("ready", flush=True)
    sys.stdin.readline()
# whatever start-up left (a .pth's imports make cycles) goes first, in a
# collection of generation 2: generation 1's seven see only our own cycles
gc.collect()
for i in range(7):
    for j in range(10):
        a = []
        a.append(a)
    del a
    gc.collect(1)
import json
import email.mime.text
try:
    import nosuchmodule_xyz
except ImportError:
    pass
open('/etc/hostname').close()
compile('x = 1', '<ctrace-events>', 'exec')
if len(sys.argv) > 1 and sys.argv[1] != 'sleep':
    print("done", flush=True)
    sys.stdin.readline()
