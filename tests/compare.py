"""Extract the parts of python -m trace reports that concern one directory.

Both tools' outputs go through the same extraction, so the comparison is of
trace's own output against ours, never against a hand-written expectation.

    compare.py funcs|pairs|summary|trace REPORT DIR [MAIN_MODULE]
    compare.py pidcheck OURS_COVERDIR - FULL_COVERDIR BEFORE_COVERDIR
"""
import os
import re
import sys


def _ours(path, root):
    # a file name that is no path at all (3.13+'s init shim is "__init__")
    # is no one else's, so it is compared too
    return path.startswith(root) or not path.startswith(('/', '<'))


def funcs(text, root):
    return [l for l in text.splitlines()
            if l.startswith('filename: ') and _ours(l[10:], root)]


def _modname(path):
    return os.path.splitext(os.path.basename(path))[0]


def pairs(text, root):
    out, pfile, cfile = [], None, None
    for line in text.splitlines():
        m = re.match(r'^\*\*\* (.*) \*\*\*$', line)
        if m:
            pfile = cfile = m.group(1)
            continue
        m = re.match(r'^  --> (.*)$', line)
        if m:
            cfile = m.group(1)
            continue
        m = re.match(r'^    (.*) -> (.*)$', line)
        if not m:
            continue
        # trace prints no "-->" for a callee in the caller's own file, even
        # after a group of another file's: the callee's module tells
        callee = cfile
        if not m.group(2).startswith(_modname(cfile) + '.') and \
                m.group(2).startswith(_modname(pfile) + '.'):
            callee = pfile
        if _ours(pfile, root) and _ours(callee, root):
            out.append('%s %s -> %s %s' % (pfile, m.group(1), callee,
                                           m.group(2)))
    return sorted(out)


def summary(text, root):
    return [l for l in text.splitlines()
            if re.match(r'^ *\d+ +\d+% ', l) and l.endswith('(%s' % root)
            or ('   (' + root) in l]


def trace(text, root, start=None):
    # Records are " --- modulename: M, funcname: F" and "[T ]base(N): text";
    # a line whose source trace could not read runs into the next record.
    mods, bases = set(), set()
    import os
    for dirpath, _, files in os.walk(root):
        for f in files:
            # every package has one: the name alone cannot say whose it is
            if f.endswith('.py') and f != '__init__.py':
                bases.add(f)
                mods.add(f[:-3])
    # "<frozen ...>(N): " has no source text, so the next record follows it
    # on the same line.
    rec = re.compile(r'( --- modulename: [^\n]*\n|'
                     r'(?:\d+\.\d\d )?<[^>\n]*>\(\d+\): |'
                     r'(?:\d+\.\d\d )?[^\s()]+\(\d+\): '
                     r'(?:(?! --- modulename: )[^\n])*'
                     r'(?:\n|$|(?= --- modulename: )))')
    out = []
    records = rec.findall(text)
    if start:
        # what ran before the main module (interpreter start-up) is not ours
        first = ' --- modulename: %s, funcname: <module>\n' % start
        records = records[records.index(first):] if first in records else []
    for r in records:
        m = re.match(r' --- modulename: (.*?), funcname', r)
        if m and m.group(1) in mods:
            out.append(r.rstrip('\n'))
            continue
        m = re.match(r'(?:(\d+\.\d\d) )?([^\s()]+)\((\d+)\): (.*)', r)
        if m and m.group(2) in bases:
            stamp = 'T ' if m.group(1) else ''
            out.append('%s%s(%s): %s' % (stamp, m.group(2), m.group(3),
                                         m.group(4).rstrip('\n')))
    return out


def _cover_counts(path):
    counts = {}
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'^ *(\d+): ', line)
            if m:
                counts[n] = int(m.group(1))
    return counts


def pidcheck(ours, root, full, before):
    """Attached mid-run, each line counts what trace counts for the whole
    run less what trace counts for the part before attach."""
    import os
    out = []
    for name in sorted(os.listdir(full)):
        if not name.endswith('.cover'):
            continue
        fc = _cover_counts(os.path.join(full, name))
        bp = os.path.join(before, name)
        bc = _cover_counts(bp) if os.path.exists(bp) else {}
        op = os.path.join(ours, name)
        oc = _cover_counts(op) if os.path.exists(op) else {}
        for line in sorted(set(fc) | set(oc)):
            want = fc.get(line, 0) - bc.get(line, 0)
            got = oc.get(line, 0)
            if want != got:
                out.append('%s:%d: ctrace-bpf %d, trace %d - %d' % (
                    name, line, got, fc.get(line, 0), bc.get(line, 0)))
    return out


def main():
    kind, path, root = sys.argv[1:4]
    extra = sys.argv[4:]
    if kind == 'pidcheck':
        lines = pidcheck(path, root, *extra)
        for line in lines:
            print(line)
        sys.exit(1 if lines else 0)
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        text = f.read()
    for line in globals()[kind](text, root, *extra):
        print(line)


if __name__ == '__main__':
    main()
