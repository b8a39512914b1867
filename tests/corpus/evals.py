"""eval in a loop for 1.5 s: a code object made and freed at every turn.

    Tens of thousands of code objects die each second, more than watching
    their deaths is worth: the watch must go, and the names stay right.
"""
import time


def step(x):
    return x + 1


def spin(secs):
    n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        n = step(eval("n"))
    return n


class Loop:
    def run(self):
        return spin(1.5)


Loop().run()
