"""Workloads for `make bench`.

    bench_target.py serve         read "WORKLOAD N" lines, answer seconds
    bench_target.py serve-spin    the same, with a thread that runs Python
                                  every 5 ms while the main one reads: the
                                  monitoring backend's request is taken by
                                  a thread at a bytecode boundary
    bench_target.py serve-poll    the same, its main thread back in Python
                                  every 5 ms (select): a pending call, the
                                  ptrace delivery's, runs on it alone
    bench_target.py once WORKLOAD N   run once, print seconds (under trace)
"""
import sys
import time


def line_heavy(n):
    x = 0
    for i in range(n):
        x += i
    return x


def leaf(i):
    return i


def call_heavy(n):
    for i in range(n):
        leaf(i)


# a function of another file: every line event changes file, the worst case
# for the per-thread string cache (each change hashes the file name)
_other = {}
exec(compile("def other(i):\n    return i\n", "bench_other.py", "exec"), _other)


def cross_file(n):
    other = _other["other"]
    for i in range(n):
        other(i)


WORKLOADS = {'line': line_heavy, 'call': call_heavy, 'cross': cross_file}


def timed(name, n):
    # CPU time, not wall time: the trap is charged to this thread, and a
    # busy neighbour on a 2-core VM stretches wall time but not this
    start = time.thread_time()
    WORKLOADS[name](n)
    return time.thread_time() - start


def spin():
    while True:
        time.sleep(0.005)


def main():
    if sys.argv[1] == 'once':
        print('%.6f' % timed(sys.argv[2], int(sys.argv[3])), flush=True)
        return
    if sys.argv[1] == 'serve-spin':
        import threading
        threading.Thread(target=spin, daemon=True).start()
    print('ready', flush=True)
    if sys.argv[1] == 'serve-poll':
        import select
        while True:
            if not select.select([sys.stdin], [], [], 0.005)[0]:
                continue
            line = sys.stdin.readline()
            if not line:
                return
            name, n = line.split()
            print('%.6f' % timed(name, int(n)), flush=True)
    for line in sys.stdin:
        name, n = line.split()
        print('%.6f' % timed(name, int(n)), flush=True)


if __name__ == '__main__':
    main()
