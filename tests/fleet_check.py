"""fleet_check.py OUT DIR EXPECT...: the -a report OUT, per process.

Each EXPECT is PID=REF: the functions of DIR's files under "pid PID:" must
be those of trace's output REF, less the class bodies when REF is given as
PID=~REF (a process already running before the attach: its class bodies
ran before).  Prints one line per difference; nothing when all agree.
"""
import re
import sys


def funcs(lines, d):
    out = set()
    for l in lines:
        m = re.match(r'filename: (\S+), modulename: \S+, funcname: (\S+)$', l)
        if m and m.group(1).startswith(d):
            out.add((m.group(1), m.group(2)))
    return out


def sections(path):
    secs, cur = {}, None
    for l in open(path, errors='replace'):
        l = l.rstrip('\n')
        m = re.match(r'pid (\d+): ', l)
        if m:
            cur = secs.setdefault(m.group(1), [])
            continue
        if cur is not None:
            cur.append(l)
    return secs


def main():
    out, d = sys.argv[1], sys.argv[2]
    secs = sections(out)
    refs = {}
    for e in sys.argv[3:]:
        pid, ref = e.split('=', 1)
        before = ref.startswith('~')
        ref = ref.lstrip('~')
        if ref not in refs:
            refs[ref] = funcs(open(ref, errors='replace'), d)
        want = refs[ref]
        if before:
            # its class body ran at import, before the attach
            want = {f for f in want if f[1] != 'Worker'}
        if pid not in secs:
            print('pid %s: no report' % pid)
            continue
        got = funcs(secs[pid], d)
        for f in sorted(want - got):
            print('pid %s: missing %s %s' % (pid, f[0], f[1]))
        for f in sorted(got - want):
            print('pid %s: extra %s %s' % (pid, f[0], f[1]))


main()
