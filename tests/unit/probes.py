"""What CPython 3.11's USDT probes hand over for a program, without BPF.

    probes.py OUT PROG [ARG...]

Runs PROG as python -m trace runs it (as __main__, from its directory) and
writes to OUT, in order, the events the line, function__entry and
function__return probes would fire, with each string once, as the BPF side
would name it:

    S <TAB> id <TAB> string
    L <TAB> file <TAB> line
    E <TAB> file <TAB> func <TAB> line <TAB> kind
    R <TAB> file <TAB> func <TAB> line <TAB> firstlineno <TAB> caller

L is python:line, E python:function__entry (line: co_firstlineno; kind:
how the frame was entered, from its RESUME's oparg), R python:function__return
(line: where it returned; caller: "file func firstlineno" ids of the frame
below, or -).  The probes' own quirk is kept: 3.11's line probe fires where an
instruction's line differs from the previous instruction's, so at a frame's
start it does not fire for a first line that is its RESUME's own line
(one-line functions, lambdas, comprehensions, class bodies: see
CPYTHON-PROBES.md); the naming under test repairs that from the entries.
"""
import os
import sys
import threading

RESUME = 151
THROW = 4

ids = {}
out = []


def sid(s):
    if s not in ids:
        ids[s] = len(ids) + 1
        out.append('S\t%d\t%s' % (ids[s], s))
    return ids[s]


# frames started and not yet at their first line: the line of their RESUME
fresh = {}


def line_at(code, offset):
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line
    return None


def local(frame, event, arg):
    code = frame.f_code
    if event == 'line':
        resume_line = fresh.pop(id(frame), None)
        # the probe fires where an instruction's line differs from the one
        # before it, and before a frame's first line there is its RESUME
        if frame.f_lineno != resume_line:
            out.append('L\t%d\t%d' % (sid(code.co_filename), frame.f_lineno))
    elif event == 'return':
        back = frame.f_back
        caller = '-'
        # the bottom frame has no Python caller for the probe: ours is not
        if back is not None and back.f_code.co_filename != __file__:
            b = back.f_code
            caller = '%d %d %d' % (sid(b.co_filename), sid(b.co_name),
                                   b.co_firstlineno)
        fresh.pop(id(frame), None)
        out.append('R\t%d\t%d\t%d\t%d\t%s' % (
            sid(code.co_filename), sid(code.co_name), frame.f_lineno,
            code.co_firstlineno, caller))
    return local


def call(frame, event, arg):
    code = frame.f_code
    # a throw into a suspended generator (close(), throw()) resumes it at
    # its YIELD_VALUE, with no RESUME: the probes call that kind THROW
    kind = THROW
    if code.co_code[frame.f_lasti] == RESUME:
        kind = code.co_code[frame.f_lasti + 1]
    if kind == 0:
        fresh[id(frame)] = line_at(code, frame.f_lasti)
    out.append('E\t%d\t%d\t%d\t%d' % (sid(code.co_filename), sid(code.co_name),
                                     code.co_firstlineno, kind))
    return local


def main():
    dest, prog = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path[0] = os.path.dirname(prog)
    with open(prog, 'rb') as f:
        code = compile(f.read(), prog, 'exec')
    globs = {'__file__': prog, '__name__': '__main__', '__package__': None,
             '__cached__': None}
    # the probes fire in every thread, as trace's threading.settrace sees
    threading.settrace(call)
    sys.settrace(call)
    try:
        exec(code, globs)
    finally:
        sys.settrace(None)
        with open(dest, 'w') as f:
            f.write('\n'.join(out) + '\n')


main()
