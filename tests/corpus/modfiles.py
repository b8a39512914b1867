"""Print the file of every module loaded so far, one per line."""
import sys

for f in sorted(getattr(m, "__file__", None) or "" for m in list(sys.modules.values())):
    if f:
        print(f)
