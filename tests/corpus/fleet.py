# One of many small processes for -a: fleet.py KIND STOP.  Calls the same
# functions every 50 ms (and one that depends on KIND, even or odd) until
# the file STOP exists; with STOP "once", one round.  Prints "ready" first.
import os
import sys
import time


def helper(n):
    return n * 2


def even_only():
    return 0


def odd_only():
    return 1


class Worker:
    def step(self, n):
        return helper(n) + 1


def main(kind, stop):
    w = Worker()
    print("ready", flush=True)
    while True:
        w.step(1)
        (even_only if kind == "even" else odd_only)()
        if stop == "once" or os.path.exists(stop):
            break
        time.sleep(0.05)


main(sys.argv[1], sys.argv[2])
