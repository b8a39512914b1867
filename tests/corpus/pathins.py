"""A directory put on sys.path at run time, and a module imported from it.

    pathins.py DIR: writes DIR/lateadd/mod.py, inserts DIR, imports it, and
    stays a second so that the tracer reads the new sys.path.
"""
import os
import sys
import time

d = sys.argv[1]
os.makedirs(os.path.join(d, "lateadd"), exist_ok=True)
with open(os.path.join(d, "lateadd", "__init__.py"), "w") as f:
    f.write("def hello():\n    return 1\n")
sys.path.insert(0, d)
import lateadd  # noqa: E402

lateadd.hello()
time.sleep(1.2)
