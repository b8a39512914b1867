"""make bench: the cost of ctrace-bpf on a live process, as ratios.

One target process runs rounds of a workload: plain, then with ctrace-bpf
attached by PID in each mode, then plain again after detach.  The same
workloads also run under python -m trace.  Medians of ROUNDS rounds.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

PYTHON = os.environ.get('PYTHON', '/usr/bin/python3.11')
CTRACE = os.environ['CTRACE']
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, 'bench_target.py')
ROUNDS = int(os.environ.get('ROUNDS', '5'))
SIZES = {'line': 2000000, 'call': 500000}
MODES = [('count', '--count'), ('listfuncs', '--listfuncs'),
         ('trackcalls', '--trackcalls'), ('trace', '--trace')]


class Target:
    def __init__(self):
        self.p = subprocess.Popen([PYTHON, TARGET, 'serve'],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == 'ready'

    def rounds(self, name):
        times = []
        for _ in range(ROUNDS):
            self.p.stdin.write('%s %d\n' % (name, SIZES[name]))
            self.p.stdin.flush()
            times.append(float(self.p.stdout.readline()))
        return statistics.median(times)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def attach(pid, flag):
    err = open('/tmp/ctrace-bench.err', 'w+')
    p = subprocess.Popen([CTRACE, flag, '-v', '-C', '/tmp/ctrace-bench-cov',
                          '-p', str(pid)], stdout=subprocess.DEVNULL,
                         stderr=err)
    for _ in range(400):
        err.seek(0)
        if re.search(r'^Tracing', err.read(), re.M):
            return p, err
        time.sleep(0.025)
    raise SystemExit('ctrace-bpf did not attach: ' + err.read())


def detach(p, err):
    p.send_signal(signal.SIGINT)
    p.wait()
    err.seek(0)
    m = re.search(r'probe hits: (\d+) line, (\d+) function__entry, '
                  r'(\d+) function__return', err.read())
    return sum(int(x) for x in m.groups()) if m else 0


def under_trace(name, flag):
    times = []
    for _ in range(max(1, ROUNDS // 2)):
        out = subprocess.run([PYTHON, '-m', 'trace', flag, '-R', '-C',
                              '/tmp/ctrace-bench-cov', TARGET, 'once', name,
                              str(SIZES[name])],
                             capture_output=True, text=True).stdout
        # --trace prints every line too; the time is the bare number
        nums = [l for l in out.splitlines() if re.fullmatch(r'\d+\.\d+', l)]
        times.append(float(nums[-1]))
    return statistics.median(times)


def main():
    print('ctrace-bpf bench: %s, %d rounds, medians; x = time / plain time'
          % (PYTHON, ROUNDS))
    print('%-6s %-11s %9s %8s %10s %8s %11s %12s %8s' % (
        'work', 'mode', 'plain s', 'trace x', 'ctrace x', 'detach x',
        'probe hits', 'added ns/hit', 'vs trace'))
    for name in SIZES:
        for mode, flag in MODES:
            t = Target()
            plain = t.rounds(name)
            p, err = attach(t.p.pid, flag)
            traced = t.rounds(name)
            hits = detach(p, err) / ROUNDS
            after = t.rounds(name)
            t.close()
            ref = under_trace(name, flag)
            # too few hits to divide by: the mode's probe barely fires here
            per_hit = ('%12.0f' % ((traced - plain) / hits * 1e9)
                       if hits >= 1000 else '%12s' % '-')
            print('%-6s %-11s %9.4f %8.1f %10.1f %8.2f %11d %s %7.2fx' % (
                name, mode, plain, ref / plain, traced / plain,
                after / plain, hits, per_hit, traced / ref))
            sys.stdout.flush()


if __name__ == '__main__':
    main()
