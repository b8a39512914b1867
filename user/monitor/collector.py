# ctrace-bpf's collector, run inside a traced process by CPython's remote
# debugger interface (PEP 768), or by a pending call that ctrace-bpf queued
# with ptrace (3.8-3.13).  ctrace-bpf writes the settings above this
# line.  It counts with sys.monitoring (PEP 669), or before 3.12 with
# sys.settrace as trace itself does, and sends its tables back
# over OUT when CTL reaches its end: the tracer stopped, or died.  At the
# process's own exit the tables go first.  Then it removes itself.
#
# Only modules every interpreter has loaded are used (and ctypes, before
# 3.12, to reach the threads already running), and nothing of the
# target's is called while it counts.


def _ctrace_bpf(MAIN):
    import sys
    try:
        import os
    except ImportError:
        # --startup: run before the path importers, builtins alone work
        import posix as os
    import _thread
    from _collections import defaultdict
    from _functools import partial
    import atexit

    # 3.12+: sys.monitoring; 3.8-3.11: sys.settrace, as trace itself
    mon = getattr(sys, 'monitoring', None)
    ev = mon.events if mon else None
    DISABLE = mon.DISABLE if mon else None
    getframe = sys._getframe
    me = object()
    key = '_ctrace_bpf_' + TOKEN
    # every thread the request reached may run this file: one goes on
    if sys.__dict__.setdefault(key, me) is not me:
        return
    here = getframe(0).f_code.co_filename

    def is_main(code, g):
        # the main module's code, not other code run in __main__'s dict
        # before it (ours: a second delivery that finds us there)
        return (code.co_name == '<module>' and g.get('__name__') == '__main__'
                and code.co_filename != here
                and code.co_filename == g.get('__file__', code.co_filename))
    try:
        out = os.open(OUT, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        sys.__dict__.pop(key, None)
        return
    os.set_blocking(out, True)

    def send(text):
        data = text.encode('utf-8', 'surrogateescape')
        while data:
            data = data[os.write(out, data):]

    tool = None
    if not mon:
        try:
            import threading
        except ImportError:
            threading = None	# hooked once it is imported: glob_late
        # a debugger's or coverage's trace function is not ours to replace
        if sys.gettrace() is None and \
           getattr(threading, '_trace_hook', None) is None:
            tool = 6
    for i in (3, 4, 0, 1, 2, 5) if mon else ():
        if mon.get_tool(i) is None:
            try:
                mon.use_tool_id(i, 'ctrace-bpf')
            except ValueError:
                continue
            tool = i
            break
    if tool is None:
        send('R busy\n' if mon else 'R traced\n')
        os.close(out)
        sys.__dict__.pop(key, None)
        return
    try:
        ctl = os.open(CTL, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        # the channel half gone: the tracer gave up meanwhile
        if mon:
            mon.free_tool_id(tool)
        os.close(out)
        sys.__dict__.pop(key, None)
        return
    os.set_blocking(ctl, True)

    tables = []		# one per thread: a shared dict loses counts
    main_code = []
    lock = _thread.allocate_lock()
    done = []		# set at the end: hooks still called go
    local = _thread._local()
    keep = {}		# id -> code: ids stay unique while kept
    jumps = {}		# id(code) -> (code, {offset: line})

    def table():
        try:
            return local.d
        except AttributeError:
            d = local.d = {}
            tables.append(d)
            return d

    # One table for all threads: under the GIL the body below runs without
    # an eval-breaker check (no call, no backward jump), so no other thread
    # can come between the read and the write of a count.  (d.get() would
    # be a call: a shared dict so counted loses 11-14% with two threads.)
    # A new key is made in C (defaultdict, partial, int), not by Python code
    # or an exception, whose allocation could run a collection, finalizers,
    # and a thread switch.
    # Keyed by file, then line: no tuple to make and hash per event.
    counts = defaultdict(partial(defaultdict, int))

    def on_line(code, line):
        counts[code.co_filename][line] += 1

    def lines_of(code):
        m = {}
        for start, end, line in code.co_lines():
            for off in range(start, end, 2):
                m[off] = line
        return m

    # settrace reports a line again on a backward jump that stays on it;
    # @line_cb gets that line, other jumps are disabled where they are
    def jumper(line_cb):
        def on_jump(code, src, dst):
            if dst > src:
                return DISABLE
            j = jumps.get(id(code))
            if j is None:
                j = jumps[id(code)] = (code, lines_of(code))
            line = j[1].get(dst)
            if line is None or line != j[1].get(src):
                return DISABLE
            return line_cb(code, line)
        return on_jump

    # trace names a code at its first call: called by the class body that
    # defines it, no class holds it yet, and its name stays plain
    early = set()

    def first_seen(code, caller):
        keep[id(code)] = code
        if caller is not None and not caller.f_code.co_flags & 3 and \
           caller.f_locals is not caller.f_globals:
            early.add(id(code))

    def on_first(code, off):
        first_seen(code, getframe(1).f_back)
        return DISABLE

    def on_call(code, off, depth=1):
        note_call(code, getframe(depth).f_back)

    def note_call(code, f):
        c = f.f_code if f is not None else None
        k = (id(c), id(code))
        try:
            d = local.d
        except AttributeError:
            d = table()
        try:
            d[k] += 1
        except KeyError:
            d[k] = 1
            if id(code) not in keep:
                first_seen(code, f)
            if c is not None:
                keep[id(c)] = c

    # --trace: every line and call, streamed as it happens
    pending = []
    ids = {}
    slock = _thread.allocate_lock()
    flock = _thread.allocate_lock()
    ident = _thread.get_ident
    clock = None
    if MODE == 'trace':
        import time
        clock = time.monotonic_ns

    def sid(text):
        n = ids.get(text)
        if n is None:
            with slock:
                n = ids.get(text)
                if n is None:
                    n = len(ids)
                    pending.append('S %s\n' % text.encode(
                        'utf-8', 'surrogateescape').hex())
                    ids[text] = n
        return n

    def flush():
        with flock:
            chunk = pending[:]
            del pending[:len(chunk)]
            if chunk:
                send(''.join(chunk))

    def t_line(code, line):
        f = code.co_filename
        if f is here:
            return DISABLE
        pending.append('V %d %d %d %d\n' % (ident(), clock(), sid(f), line))
        if COUNT:
            on_line(code, line)
        if len(pending) > 512:
            flush()


    def t_call(code, off, kind=0):
        f = code.co_filename
        if f is here:
            return DISABLE
        pending.append('W %d %d %d %d %d %d\n' % (
            ident(), clock(), sid(f), sid(code.co_name), code.co_firstlineno,
            kind))

    def t_resume(code, off):
        return t_call(code, off, 1)

    # close() or throw() into a suspended generator: settrace's 'call' too
    def t_throw(code, off, exc):
        if code.co_filename is not here:
            t_call(code, off, 1)

    # PY_THROW cannot be disabled: these return None
    def first_throw(code, off, exc):
        if id(code) not in keep:
            first_seen(code, getframe(1).f_back)

    def call_throw(code, off, exc):
        on_call(code, off, 2)

    # 3.8-3.11: trace's own hooks.  Line counts go to one table per
    # thread (a trace function can be switched out between its read and
    # its write of a count); the trace functions are made per thread.
    line_tables = []
    tl = _thread._local()
    settrace = sys.settrace

    def off(frame):
        # detached: each thread drops its hooks at its next event
        if frame is not None:
            frame.f_trace = None
        settrace(None)

    def make_local(bind=True):
        d = defaultdict(partial(defaultdict, int))
        line_tables.append(d)
        if MODE == 'trace':
            def loc(frame, why, arg):
                if done:
                    return off(frame)
                if why == 'line':
                    f = frame.f_code.co_filename
                    pending.append('V %d %d %d %d\n' % (
                        ident(), clock(), sid(f), frame.f_lineno))
                    if COUNT:
                        d[f][frame.f_lineno] += 1
                    if len(pending) > 512:
                        flush()
                return loc
        else:
            def loc(frame, why, arg):
                if done:
                    return off(frame)
                if why == 'line':
                    d[frame.f_code.co_filename][frame.f_lineno] += 1
                return loc
        if bind:
            tl.loc = loc
        return loc

    def local_trace():
        try:
            return tl.loc
        except AttributeError:
            return make_local()

    # globaltrace_lt: only frames whose globals name a __file__
    def glob_lines(frame, why, arg):
        if done:
            return off(None)
        code = frame.f_code
        if code.co_filename == here or not frame.f_globals.get('__file__'):
            return None
        if MODE == 'trace':
            pending.append('W %d %d %d %d %d 1\n' % (
                ident(), clock(), sid(code.co_filename), sid(code.co_name),
                code.co_firstlineno))
        return local_trace()

    # globaltrace_countfuncs and _trackcallers: every frame, no __file__ test
    def glob_funcs(frame, why, arg):
        if done:
            return off(None)
        code = frame.f_code
        if id(code) not in keep and code.co_filename != here:
            first_seen(code, frame.f_back)

    def glob_calls(frame, why, arg):
        if done:
            return off(None)
        code = frame.f_code
        if code.co_filename != here:
            note_call(code, frame.f_back)

    glob = glob_lines if MODE in ('count', 'trace') else \
        glob_funcs if MODE == 'funcs' else glob_calls

    # threading came after us (--startup): new threads get the hook once
    # it exists; until then, this thread is the only one
    def glob_late(frame, why, arg):
        nonlocal threading
        th = sys.modules.get('threading')
        if th is not None and hasattr(th, 'settrace') and \
           hasattr(th, '_trace_hook'):
            threading = th
            th.settrace(glob)
            settrace(glob)
        return glob(frame, why, arg)

    def hook(fn):
        # threading's first: its settrace() would be a call we see
        if threading is not None:
            threading.settrace(fn)
        settrace(fn)

    # trace's runctx ends with the main module's exec: sys.settrace(None)
    # and threading's too, so threading's _shutdown and atexit are not its
    def main_end(loc):
        def at_main(frame, why, arg):
            r = loc(frame, why, arg) if loc is not None else at_main
            if why == 'return':
                if threading is not None and threading._trace_hook is glob:
                    threading.settrace(None)
                if sys.gettrace() is glob:
                    settrace(None)
                return None
            return at_main if r is not None else None
        return at_main

    def begin_main(frame):
        code = frame.f_code
        main_code.append(code)
        keep[id(code)] = code
        if MODE == 'calls':
            table()[(id(None), id(code))] = 1
        loc = glob(frame, 'call', None) if MODE in ('count', 'trace') else None
        frame.f_trace = main_end(loc)

    # python -m: from the main module's first bytecode, as trace's runctx
    def gate_settrace(frame, why, arg):
        if done:
            return off(None)
        if not is_main(frame.f_code, frame.f_globals):
            return None
        hook(glob)
        main_code.append(frame.f_code)
        if MODE == 'calls':
            table()[(id(None), id(frame.f_code))] = 1
            return main_end(None)
        return main_end(glob(frame, why, arg))

    # The threads that were there before us: sys.settrace reaches the
    # caller's alone, so each gets the C trace function (sysmodule's, as
    # settrace left it in ours) by _PyEval_SetTrace, or by its fields on
    # 3.8, through ctypes; fn None takes ours off again.  Their running
    # frames get f_trace, each thread its own line table.  Should any
    # thread have a trace function of its own, none is touched.  Returns
    # how many it could not reach.
    tsl = {}
    locs = {}		# id -> the line trace functions it gave them

    ct = {}

    # ctypes' Python-level parts run before our hooks, not seen by them:
    # after, only its C calls
    def ct_prepare():
        try:
            import ctypes
        except ImportError:
            return
        api = ctypes.pythonapi
        vp = ctypes.c_void_p
        for name, res, args in (('PyThreadState_Get', vp, []),
                                ('PyInterpreterState_Head', vp, []),
                                ('PyInterpreterState_ThreadHead', vp, [vp]),
                                ('PyThreadState_Next', vp, [vp]),
                                ('Py_IncRef', None, [ctypes.py_object]),
                                ('Py_DecRef', None, [vp])):
            f = getattr(api, name)
            f.restype, f.argtypes = res, args
            ct[name] = f
        setter = getattr(api, '_PyEval_SetTrace', None)
        if setter is not None:
            setter.argtypes = [vp, vp, ctypes.py_object]
        ct.update(setter=setter, words=vp * 64, py_object=ctypes.py_object,
                  c_int=ctypes.c_int, word=ctypes.sizeof(vp))

    def other_threads(fn):
        me = _thread.get_ident()
        others = [f for i, f in sys._current_frames().items() if i != me]
        if not others:
            return 0
        if not ct:
            return len(others)
        words = ct['words']
        cur = ct['PyThreadState_Get']()
        if not tsl:
            # c_profilefunc, c_tracefunc, c_profileobj, c_traceobj: 3.8-3.11
            w = words.from_address(cur)
            at = [k for k in range(3, 64) if w[k] == id(sys.gettrace())]
            if fn is None or not at or not w[at[0] - 2]:
                return len(others)
            tsl.update(k=at[0], tramp=w[at[0] - 2])
        k = tsl['k']
        ours = (id(glob), id(gate_settrace), id(glob_late))
        states = []
        ts = ct['PyInterpreterState_ThreadHead'](ct['PyInterpreterState_Head']())
        while ts:
            if ts != cur:
                states.append(ts)
            ts = ct['PyThreadState_Next'](ts)
        theirs = [words.from_address(t)[k] for t in states]
        if fn is not None and any(theirs):
            return len(others)
        setter = ct['setter']
        for t, had in zip(states, theirs):
            if fn is None and had not in ours:
                continue
            if setter is not None:
                setter(t, tsl['tramp'] if fn is not None else None, fn)
                continue
            # 3.8: no setter; use_tracing is the int before c_profilefunc
            w = words.from_address(t)
            if fn is not None:
                ct['Py_IncRef'](ct['py_object'](fn))
                w[k - 2], w[k] = tsl['tramp'], id(fn)
            else:
                w[k - 2] = w[k] = None
                ct['Py_DecRef'](had)
            ct['c_int'].from_address(t + (k - 3) * ct['word'] - 8).value = \
                1 if fn is not None or w[k - 3] else 0
        for f in others:
            loc = make_local(False) if fn is not None and \
                MODE in ('count', 'trace') else None
            if loc is not None:
                locs[id(loc)] = loc
            while f is not None:
                if fn is None and id(f.f_trace) in locs or loc is not None and \
                   f.f_code.co_filename != here and f.f_globals.get('__file__'):
                    f.f_trace = loc
                f = f.f_back
        return 0

    def install_settrace():
        nonlocal MAIN
        try:
            # one frame deeper than the monitoring path's: this function's
            start = getframe(UP + 1)
        except ValueError:
            start = None
            MAIN = 2 if MAIN else 0
        if MAIN == 1 and not is_main(start.f_code, start.f_globals):
            MAIN = 2
        if MAIN == 2:
            hook(gate_settrace)
            return
        if MAIN == 0:
            ct_prepare()
        hook(glob if threading is not None else glob_late)
        if MAIN == 1:
            begin_main(start)
            return
        missed = other_threads(glob if threading is not None else glob_late)
        if missed:
            send('N %d\n' % missed)
        if MODE in ('count', 'trace'):
            # frames already running count from now on (pdb's way)
            f = start
            while f is not None:
                if f.f_code.co_filename != here and \
                   f.f_globals.get('__file__'):
                    f.f_trace = local_trace()
                f = f.f_back

    if mon:
        if MODE == 'trace':
            cbs = {ev.LINE: t_line, ev.JUMP: jumper(t_line), ev.PY_START: t_call,
                   ev.PY_RESUME: t_resume, ev.PY_THROW: t_throw}
        elif MODE == 'count':
            # CPython reports a frame's first line only when PY_START is on
            # (a one-line def, a class body): settrace has it on, so must we.
            # slice takes two arguments and fails never: a callback in C.
            cbs = {ev.LINE: on_line, ev.JUMP: jumper(on_line), ev.PY_START: slice,
                   ev.PY_RESUME: slice, ev.PY_THROW: slice}
        elif MODE == 'funcs':
            cbs = {ev.PY_START: on_first, ev.PY_RESUME: on_first,
                   ev.PY_THROW: first_throw}
        else:
            cbs = {ev.PY_START: on_call, ev.PY_RESUME: on_call,
                   ev.PY_THROW: call_throw}
        # settrace has PY_UNWIND on, and with it a generator closed at a yield
        # is thrown into (a 'call' for trace) rather than just dropped
        cbs[ev.PY_UNWIND] = slice
        events = 0
        for e in cbs:
            events |= e

        def begin():
            for e, cb in cbs.items():
                mon.register_callback(tool, e, cb)
            mon.set_events(tool, events)

        # python -m: from the main module's first bytecode, as trace's runctx
        def gate(code, off):
            f = getframe(1)
            if not is_main(code, f.f_globals):
                return DISABLE
            main_code.append(code)
            mon.register_callback(tool, ev.PY_START, None)
            begin()
            mon.restart_events()
            cb = cbs.get(ev.PY_START)
            if cb is not None and cb is not on_call:
                cb(code, off)
            elif cb is on_call:
                table()[(id(None), id(code))] = 1
                keep[id(code)] = code

        # a launched program: this file runs at its first eval-breaker check,
        # which is the main module's first bytecode unless something ran first
        try:
            start = getframe(UP) if MAIN else None
        except ValueError:
            start, MAIN = None, 2
        if MAIN == 1 and not is_main(start.f_code, start.f_globals):
            MAIN = 2
        if MAIN == 2:
            mon.register_callback(tool, ev.PY_START, gate)
            mon.set_events(tool, ev.PY_START)
        else:
            begin()
            if MAIN == 1:
                code = start.f_code
                main_code.append(code)
                keep[id(code)] = code
                if MODE == 'calls':
                    table()[(id(None), id(code))] = 1
                elif MODE == 'trace':
                    t_call(code, 0)
    else:
        install_settrace()

    def strs():
        ids = {}

        def s(text):
            n = ids.get(text)
            if n is None:
                n = ids[text] = len(ids)
                send('S %s\n' % text.encode('utf-8',
                                            'surrogateescape').hex())
            return n
        return s

    def clsname(codes):
        # trace's answer (file_module_function_of), for all codes at once
        import gc
        ft = type(clsname)
        funcs = {}
        for f in gc.get_referrers(*codes):
            if type(f) is ft or isinstance(f, ft):
                funcs.setdefault(id(f.__code__), []).append(f)
        one = {}
        for c in codes:
            fs = funcs.get(id(c), ())
            if len(fs) == 1:
                one[id(fs[0])] = c
        dicts = {}
        if one:
            for d in gc.get_referrers(*[keep_f for fs in funcs.values()
                                        for keep_f in fs
                                        if id(keep_f) in one]):
                if not isinstance(d, dict):
                    continue
                held = set()
                for k, v in list(d.items()):
                    for x in (k, v):
                        if id(x) in one:
                            held.add(id(x))
                for h in held:
                    dicts.setdefault(h, []).append(d)
        owner = {}	# id(dict) -> the codes whose one function it alone holds
        for fid, ds in dicts.items():
            if len(ds) == 1:
                owner.setdefault(id(ds[0]), []).append(one[fid])
        names = {}
        classes = {}
        if owner:
            for c in gc.get_referrers(*[d for ds in dicts.values()
                                        for d in ds if id(d) in owner]):
                if not hasattr(c, '__bases__'):
                    continue
                for r in gc.get_referents(c):
                    if id(r) in owner:
                        classes.setdefault(id(r), []).append(c)
        for did, cs in classes.items():
            if len(cs) == 1:
                for c in owner[did]:
                    if id(c) not in early:
                        names[id(c)] = cs[0].__name__
        return names

    def code_lines(c):
        if hasattr(c, 'co_lines'):
            return [line for _, _, line in c.co_lines()]
        import dis
        return [line for _, line in dis.findlinestarts(c)]

    def executable(files, s, emit):
        # trace's _find_executable_linenos, by this interpreter's compiler
        tokenize = sys.modules.get('tokenize') or __import__('tokenize')
        token = sys.modules.get('token') or __import__('token')
        for name in files:
            try:
                with tokenize.open(name) as f:
                    prog = f.read()
                    enc = f.encoding
                code = compile(prog, name, 'exec', dont_inherit=True)
                strs = set()
                prev = token.INDENT
                with open(name, encoding=enc) as f:
                    for t in tokenize.generate_tokens(f.readline):
                        if t[0] == token.STRING and prev == token.INDENT:
                            strs.update(range(t[2][0], t[3][0] + 1))
                        prev = t[0]
            except Exception:
                continue
            lines = set()
            todo = [code]
            while todo:
                c = todo.pop()
                for line in code_lines(c):
                    if line is not None and line not in strs:
                        lines.add(line)
                todo.extend(x for x in c.co_consts if type(x) is type(c))
            emit('X %d %s\n' % (s(name), ' '.join(map(str, sorted(lines)))))

    def ours(code):
        return code is None or code.co_filename == here or \
            (code.co_filename == '__init__' and code.co_name == '__init__')

    def dump():
        if MODE == 'trace':
            # its strings are numbered already: on the same stream
            s, emit = sid, pending.append
        else:
            s, emit = strs(), send
        for d in list(line_tables) if not mon else ():
            for f, lines in list(d.items()):
                for line, n in list(lines.items()):
                    counts[f][line] += n
        if MODE == 'count' or COUNT:
            files = set()
            for f, lines in list(counts.items()):
                if f == here:
                    continue
                files.add(f)
                for line, n in list(lines.items()):
                    emit('L %d %d %d\n' % (s(f), line, n))
            if EXEC:
                executable(sorted(files), s, emit)
            # trace names modules by the sys.path of its end
            for d in list(sys.path):
                if type(d) is str:
                    try:
                        d = d or os.getcwd()	# '' of -c: the cwd
                    except OSError:
                        continue
                    emit('P %d\n' % s(d))
        if MODE == 'trace':
            flush()
        if MODE in ('count', 'trace'):
            return
        codes = [c for c in list(keep.values()) if not ours(c)]
        names = clsname(codes) if codes else {}
        # trace's _caller_cache is a dict of code objects: an equal code
        # (equality ignores co_filename) takes the answer of the one
        # called first, as keep's order has them
        cache = {}
        for c in codes:
            if c not in cache:
                cache[c] = names.get(id(c))
            elif cache[c] is None:
                names.pop(id(c), None)
            else:
                names[id(c)] = cache[c]

        def code(c):
            return '%d %d %d' % (s(c.co_filename), s(c.co_name),
                                 c.co_firstlineno)
        for c in codes:
            cls = names.get(id(c))
            send('K %s %d\n' % (code(c), -1 if cls is None else s(cls)))
        if MODE == 'funcs':
            for c in codes:
                send('F %s\n' % code(c))
            return
        total = {}
        for d in tables:
            for k, n in list(d.items()):
                total[k] = total.get(k, 0) + n
        for (a, b), n in total.items():
            ca, cb = keep.get(a), keep.get(b)
            if cb is None or ours(cb) or (ca is not None and ours(ca)):
                continue
            if cb in main_code:
                ca = None	# runctx's frame, which trace leaves out
            send('C %s %s %d\n' % (code(ca) if ca is not None else '- - -',
                                   code(cb), n))

    def finish():
        with lock:
            if done:
                return
            done.append(1)
        try:
            if mon:
                mon.set_events(tool, 0)
                for e in cbs:
                    mon.register_callback(tool, e, None)
                mon.register_callback(tool, ev.PY_START, None)
                mon.free_tool_id(tool)
            else:
                if threading is not None and \
                   threading._trace_hook in (glob, gate_settrace):
                    threading.settrace(None)
                if sys.gettrace() in (glob, gate_settrace, glob_late):
                    settrace(None)
                if tsl:
                    other_threads(None)
        except Exception:
            pass
        try:
            atexit.unregister(finish)
        except Exception:
            pass
        try:
            dump()
            send('E\n')
        except Exception:
            pass
        for fd in (out, ctl):
            try:
                os.close(fd)
            except OSError:
                pass
        # the directory is ours once the tracer let go of the script
        for path in (OUT, CTL):
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(OUT.rsplit('/', 1)[0])
        except OSError:
            pass
        sys.__dict__.pop(key, None)

    def watch():
        try:
            while os.read(ctl, 64):
                pass
        except OSError:
            pass
        finish()

    def flusher():
        while not done:
            time.sleep(0.05)
            if not done:
                flush()

    atexit.register(finish)
    _thread.start_new_thread(watch, ())
    if MODE == 'trace':
        _thread.start_new_thread(flusher, ())
    send('H %d\n' % tool)


_ctrace_bpf(MAIN)
del _ctrace_bpf
