"""Strings freed and made again at the one same address, with new contents.

    readdress.py [DIR]: 100 functions of 101-character names compiled under one
    file name, each called once from one caller (DIR/caller.py); then 100 modules of
    100-character file names, each run once.  Each is collected before the
    next is made, so the next one's names land where the last one's were: a
    name known by its address alone would be the last one's.  DIR defaults
    to readdr beside this file.
"""
import gc
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "readdr")
os.makedirs(d, exist_ok=True)
gen = os.path.join(d, "gen.py")
with open(gen, "w") as f:
    f.write("def f():\n    return 1\n")
caller = os.path.join(d, "caller.py")
with open(caller, "w") as f:
    f.write("def call(f):\n    return f()\n")
with open(caller) as f:
    ns = {"__file__": caller}
    exec(compile(f.read(), caller, "exec"), ns)
call = ns["call"]

for i in range(100):
    name = "g%0100d" % i
    ns = {"__file__": gen}
    exec(compile("def %s():\n    return 1\n" % name, gen, "exec"), ns)
    fn = ns.pop(name)
    call(fn)
    del ns, fn
    gc.collect()
for i in range(100):
    p = os.path.join(d, "l" * 93 + "%03d.py" % i)
    with open(p, "w") as f:
        # a one-line def, called twice: its line is counted from its
        # entries on 3.11, and its second start goes through a slot
        h = "h%0100d" % i
        f.write("x = %d\nif x %% 2:\n    y = 1\ndef %s(): return x\n%s()\n%s()\n"
                % (i, h, h, h))
    with open(p) as f:
        src = f.read()
    exec(compile(src, p, "exec"), {"__file__": p})
    del p, src, f  # f.name holds p too
    gc.collect()
