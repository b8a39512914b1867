# Reference for pidtarget.py: what ran before the tracer attached.
import prog
