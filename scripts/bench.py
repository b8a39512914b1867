"""make bench: what ctrace-bpf costs a live process, as ratios.

For each case one target process runs rounds of a workload, side by side:
plain, under the floor (an empty BPF program on the same probes: the trap
alone), under ctrace-bpf attached by PID, and plain again after detach.
The floor and ctrace-bpf take turns in BLOCKS blocks of ROUNDS rounds, so a
slow spell of the VM falls on both; plain rounds, short and noisier, are run
three times as often.  Medians.  "added" is ctrace-bpf's cost over plain divided
by the floor's: 1.00 means nothing on top of the kernel's trap.  The same
workload also runs under that interpreter's python -m trace.
"""
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PYTHON = os.environ.get('PYTHON', '/usr/bin/python3.11')
CTRACE = os.environ['CTRACE']
FLOOR = os.environ['FLOOR']
ROOTS = os.environ.get('ROOTS', '')
SDT = os.environ.get('SDT_TARGET', '')
HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = int(os.environ.get('ROUNDS', '3'))
BLOCKS = int(os.environ.get('BLOCKS', '3'))
SIZES = {'line': 1000000, 'call': 300000}
IN_ROOT = '/tmp/ctrace-bench'

# interpreter, ctrace-bpf mode, floor probes, workload, limit on "added"
CASES = [
    ('3.11', '--count', ['line'], 'line', 1.20),
    ('3.11', '--listfuncs', ['function__return'], 'call', None),
    ('3.11', '--trackcalls', ['function__return'], 'call', None),
    ('3.15', '--listfuncs', ['function__entry'], 'call', 1.20),
    ('3.15', '--trackcalls', ['function__entry', 'function__return'],
     'call', 1.20),
]


def interpreter(ver):
    """argv prefix and bench_target path for an interpreter, or None."""
    if ver == '3.11':
        return [PYTHON], os.path.join(HERE, 'bench_target.py')
    root = os.path.join(ROOTS, 'sid')
    if not os.path.exists(os.path.join(root, 'usr/bin/python' + ver)):
        return None
    os.makedirs(root + IN_ROOT, exist_ok=True)
    shutil.copy(os.path.join(HERE, 'bench_target.py'), root + IN_ROOT)
    return (['chroot', root, 'python' + ver],
            IN_ROOT + '/bench_target.py')


class Target:
    def __init__(self, prefix, script):
        self.p = subprocess.Popen(prefix + [script, 'serve'],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == 'ready'

    def rounds(self, name, n=ROUNDS):
        times = []
        for _ in range(n):
            self.p.stdin.write('%s %d\n' % (name, SIZES[name]))
            self.p.stdin.flush()
            times.append(float(self.p.stdout.readline()))
        return times

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def start(argv, ready):
    err = tempfile.TemporaryFile(mode='w+')
    out = tempfile.TemporaryFile(mode='w+')
    p = subprocess.Popen(argv, stdout=out, stderr=err)
    for _ in range(400):
        for f in (err, out):
            f.seek(0)
            if re.search(ready, f.read(), re.M):
                return p, err
        time.sleep(0.025)
    raise SystemExit('%s did not attach: %s' % (argv[0], err.read()))


def stop(p, err):
    p.send_signal(signal.SIGINT)
    p.wait()
    err.seek(0)
    m = re.search(r'probe hits: (\d+) line, (\d+) function__entry, '
                  r'(\d+) function__return', err.read())
    return sum(int(x) for x in m.groups()) if m else 0


def under_trace(prefix, script, name, flag):
    times = []
    for _ in range(3):
        out = subprocess.run(prefix + ['-m', 'trace', flag, '-R', '-C',
                                       '/tmp/ctrace-bench-cov', script,
                                       'once', name, str(SIZES[name])],
                             capture_output=True, text=True).stdout
        nums = [l for l in out.splitlines() if re.fullmatch(r'\d+\.\d+', l)]
        times.append(float(nums[-1]))
    return statistics.median(times)


def run_case(ver, flag, probes, name, limit):
    found = interpreter(ver)
    if not found:
        print('%-5s %-12s skipped: no python%s (make roots builds it)'
              % (ver, flag, ver))
        return True
    prefix, script = found
    t = Target(prefix, script)
    t.rounds(name)	# warm-up: the first rounds specialize the bytecode
    plain = t.rounds(name, 3 * ROUNDS)
    floor, traced, after, hits = [], [], [], 0
    for _ in range(BLOCKS):
        p, err = start([FLOOR, '-p', str(t.p.pid)] + probes, r'^Attached')
        floor += t.rounds(name)
        stop(p, err)
        p, err = start([CTRACE, flag, '-R', '-v', '-p', str(t.p.pid)],
                       r'^Tracing')
        traced += t.rounds(name)
        hits += stop(p, err)
        after += t.rounds(name, 3 * ROUNDS)
    t.close()
    plain, floor, traced, after = (statistics.median(x) for x in
                                   (plain, floor, traced, after))
    hits /= ROUNDS * BLOCKS
    ref = under_trace(prefix, script, name, flag)
    added = (traced - plain) / (floor - plain) if floor > plain else 0
    per_hit = (traced - plain) / hits * 1e9 if hits else 0
    verdict = ''
    if limit:
        verdict = 'ok' if added <= limit else 'OVER %.2f' % limit
    print('%-5s %-12s %-5s %8.4f %7.2f %8.2f %7.2f %8.2f %9.1f %7.0f %8.2f  %s'
          % (ver, flag, name, plain, floor / plain, traced / plain,
             after / plain, added, ref / plain, per_hit, traced / ref,
             verdict))
    sys.stdout.flush()
    return not verdict.startswith('OVER') and after / plain <= 1.05 + 0.10


def big_map():
    """Read and report 1M distinct line keys: time after Ctrl-C, peak RSS."""
    if not SDT:
        return
    d = tempfile.mkdtemp()
    src = os.path.join(d, 'big.py')
    n = 1000000
    with open(src, 'w') as f:
        f.write('x = 1\n' * n)
    tp = subprocess.Popen([SDT, src, '1', '1', str(n)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    tp.stdout.readline()
    p, err = start([CTRACE, '-c', '-s', '-v', '-C', d, '-p', str(tp.pid)],
                   r'^Tracing')
    tp.stdin.write('go\n')
    tp.stdin.flush()
    tp.stdout.readline()
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, _, ru = os.wait4(p.pid, 0)
    took = time.monotonic() - t0
    tp.stdin.write('bye\n')
    tp.stdin.flush()
    tp.wait()
    ok = os.path.exists(os.path.join(d, 'big.cover'))
    shutil.rmtree(d)
    err.seek(0)
    m = re.search(r'peak RSS:\s*(\d+) kB', err.read())
    print('1M distinct line keys: read, analysed and reported in %.2f s; '
          'peak RSS %d MB for ctrace-bpf, %d MB with its analyser%s'
          % (took, int(m.group(1)) // 1024 if m else -1,
             ru.ru_maxrss // 1024, '' if ok else ' (NO .cover written)'))


def launch_startup():
    def best(argv):
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            subprocess.run(argv, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            times.append(time.monotonic() - t0)
        return statistics.median(times)
    plain = best([PYTHON, '-c', 'pass'])
    traced = best([CTRACE, '--count', '-R', '--', PYTHON, '-c', 'pass'])
    print('launch mode start-up: python3.11 -c pass %.3f s, under '
          'ctrace-bpf --count %.3f s: +%.3f s' % (plain, traced,
                                                  traced - plain))


def main():
    print('ctrace-bpf bench: %d blocks of %d rounds, medians; '
          'x = time / plain time' % (BLOCKS, ROUNDS))
    print('%-5s %-12s %-5s %8s %7s %8s %7s %8s %9s %7s %8s'
          % ('py', 'mode', 'work', 'plain s', 'floor x', 'ctrace x',
             'after x', 'added', 'trace x', 'ns/hit', 'vs trace'))
    for case in CASES:
        run_case(*case)
    big_map()
    launch_startup()


if __name__ == '__main__':
    main()
