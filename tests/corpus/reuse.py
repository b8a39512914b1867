"""Code objects freed and made again, so their strings' addresses are reused.

    reuse.py DIR: 300 functions of 8-character names compiled from one file
    name, then 200 modules written to DIR, each run once, calling its own function,
    and collected after.
"""
import gc
import os
import sys

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
gen = os.path.join(d, "gen.py")
with open(gen, "w") as f:
    f.write("def f():\n    return 1\n")
for i in range(300):
    name = "f%07d" % i
    ns = {"__file__": gen}
    exec(compile("def %s():\n    return 1\n" % name, gen, "exec"), ns)
    ns[name]()
for i in range(200):
    p = os.path.join(d, "m%03d.py" % i)
    with open(p, "w") as f:
        f.write("x = %d\nif x %% 2:\n    y = 1\n"
                "def _process():\n    return x\n_process()\n" % i)
    with open(p) as f:
        src = f.read()
    exec(compile(src, p, "exec"), {"__file__": p})
    gc.collect()
