# Source analysis for ctrace-bpf, run inside the tracer's own embedded
# interpreter.  It compiles the target's source (never runs it) and answers
# what python -m trace would compute from the running program: executable
# lines, the name trace gives each code object, and where the probes of this
# interpreter see something other than settrace does.
import dis
import re
import io
import tokenize

CO_NEWLOCALS = 0x0002


def _decode(data):
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith('\ufeff'):
        text = text[1:]
    return text, encoding


_STRING_START = re.compile(r'''[ \t\f]*(?:[rRbBuUfF]{0,2})['"]''')


def _docstring_lines(text, text_lines):
    # trace's rule: a STRING token right after an INDENT (or first in the
    # file) is a docstring, and every line it spans is not executable.  Such
    # a token starts its line: without one, skip the (slow) tokenizer.
    if not any(_STRING_START.match(l) for l in text_lines):
        return set()
    lines = set()
    prev = tokenize.INDENT
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING and prev == tokenize.INDENT:
            lines.update(range(tok.start[0], tok.end[0] + 1))
        prev = tok.type
    return lines


def _decorated(code, text_lines):
    # A decorated function's co_firstlineno is its first decorator's line.
    # The class dict then holds the decorator's result, so trace's gc walk
    # from the code never reaches the class and it prints the plain name.
    n = code.co_firstlineno
    return 0 < n <= len(text_lines) and text_lines[n - 1].lstrip().startswith('@')


def _first_line_missed(code):
    # The line probe fires on a new line only at the first instruction of an
    # address range whose line differs from the previous instruction's.  At a
    # frame start "previous" is the RESUME, so a body whose first instruction
    # sits on the RESUME's own line fires nothing, while settrace does.
    resume_line = None
    for ins in dis.get_instructions(code):
        if resume_line is None:
            if ins.opname == 'RESUME':
                resume_line = ins.positions.lineno
            continue
        line = ins.positions.lineno
        if line is None:
            continue
        return line == resume_line
    return False


_COMPREHENSIONS = ('<listcomp>', '<setcomp>', '<dictcomp>', '<genexpr>')


# type() wraps these in a staticmethod or classmethod: the class dict then
# holds that wrapper, not the function, and trace prints the plain name
_IMPLICIT_DESCRIPTORS = ('__new__', '__init_subclass__', '__class_getitem__')


def _in_class_dict(code, parent):
    # trace names a function Class.name when the class dict holds it: defs
    # and lambdas run in a class body, but not comprehensions or the body of
    # a nested class.
    return (parent is not None and not parent.co_flags & CO_NEWLOCALS
            and parent.co_name != '<module>'
            and code.co_flags & CO_NEWLOCALS
            and code.co_name not in _COMPREHENSIONS)


def _stored(code, parent):
    # A lambda of a class body is in the class dict only when the body
    # stores it as it is (x = lambda: ...), not when it passes it on
    # (staticmethod(lambda: ...)) or calls it there and then.
    ins = list(dis.get_instructions(parent))
    for i, op in enumerate(ins):
        if op.opname == 'LOAD_CONST' and op.argval is code:
            for nxt in ins[i + 1:]:
                if nxt.opname in ('MAKE_FUNCTION', 'SET_FUNCTION_ATTRIBUTE'):
                    continue
                return nxt.opname == 'STORE_NAME'
    return True


def _walk(code, parent, text_lines, strs, out, executable):
    lines = set()
    for _, line in dis.findlinestarts(code):
        if line is not None and line not in strs:
            executable.add(line)
        if line is not None:
            lines.add(line)
    name = code.co_name
    if _in_class_dict(code, parent) and not _decorated(code, text_lines) \
            and name not in _IMPLICIT_DESCRIPTORS \
            and (name != '<lambda>' or _stored(code, parent)):
        name = '%s.%s' % (parent.co_name, name)
    out.append((code.co_name, code.co_firstlineno, name,
                _first_line_missed(code), sorted(lines)))
    for const in code.co_consts:
        if isinstance(const, type(code)):
            _walk(const, code, text_lines, strs, out, executable)


LINES, CODES, EXECUTABLE = 0, 1, 2


class _Pyc39:
    """Code objects of a CPython 3.9 .pyc, read as data: marshal's format,
    not this interpreter's marshal, which knows only its own version."""

    def __init__(self, data):
        self.data, self.pos, self.refs = data, 16, []

    def _take(self, n):
        b = self.data[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError('truncated .pyc')
        self.pos += n
        return b

    def _i32(self):
        return int.from_bytes(self._take(4), 'little', signed=True)

    def obj(self):
        code = self._take(1)[0]
        flag, t = code & 0x80, chr(code & 0x7f)
        slot = None
        if flag:
            slot = len(self.refs)
            self.refs.append(None)
        v = self._value(t)
        if flag:
            self.refs[slot] = v
        return v

    def _seq(self, n):
        return tuple(self.obj() for _ in range(n))

    def _value(self, t):
        simple = {'0': None, 'N': None, 'F': False, 'T': True,
                  'S': StopIteration, '.': Ellipsis}
        if t in simple:
            return simple[t]
        if t == 'i':
            return self._i32()
        if t == 'l':
            n = self._i32()
            digits = [int.from_bytes(self._take(2), 'little')
                      for _ in range(abs(n))]
            v = sum(d << (15 * i) for i, d in enumerate(digits))
            return -v if n < 0 else v
        if t == 'g':
            return self._take(8)
        if t == 'y':
            return self._take(16)
        if t in 'stauAU':
            return self._take(self._i32())
        if t in 'zZ':
            return self._take(self._take(1)[0])
        if t == ')':
            return self._seq(self._take(1)[0])
        if t in '([<>':
            return self._seq(self._i32())
        if t == '{':
            items = []
            while self.data[self.pos:self.pos + 1] != b'0':
                items.append((self.obj(), self.obj()))
            self.pos += 1
            return tuple(items)
        if t == 'r':
            return self.refs[self._i32()]
        if t == 'c':
            for _ in range(6):
                self._i32()   # arg counts, nlocals, stacksize, flags
            co_code = self.obj()
            consts = self.obj()
            for _ in range(6):
                self.obj()    # names, varnames, freevars, cellvars, file, name
            first = self._i32()
            lnotab = self.obj()
            return ('code', len(co_code), consts, first, lnotab)
        raise ValueError('unknown marshal type %r' % t)


def _linestarts39(code):
    # dis.findlinestarts of 3.9, on its co_lnotab
    _, code_len, _, lineno, lnotab = code
    last, addr = None, 0
    for byte_incr, line_incr in zip(lnotab[0::2], lnotab[1::2]):
        if byte_incr:
            if lineno != last:
                yield lineno
                last = lineno
            addr += byte_incr
            if addr >= code_len:
                return
        if line_incr >= 0x80:
            line_incr -= 0x100
        lineno += line_incr
    if lineno != last:
        yield lineno


def _executable39(code, strs, out):
    for line in _linestarts39(code):
        if line not in strs:
            out.add(line)
    for const in code[2] or ():
        if isinstance(const, tuple) and const[:1] == ('code',):
            _executable39(const, strs, out)


def analyse(data, filename, level=EXECUTABLE, pyc=b''):
    """Return (encoding, lines, executable, codes) or raise on bad source.

    lines are the source lines as trace's linecache reads them, encoded back
    in the file's encoding; codes are (co_name, co_firstlineno, trace_name,
    first_line_missed, line list) tuples.  Compiling is the slow part, so
    level LINES skips it, and only EXECUTABLE runs the tokenizer.  With
    @pyc, the target version's own compiled code (3.9) gives the executable
    lines: trace compiles with that version's compiler.
    """
    text, encoding = _decode(data)
    text_lines = io.StringIO(text, newline=None).readlines()
    codes = []
    executable = set()
    if level >= CODES:
        code = compile(text, filename, 'exec', dont_inherit=True)
        strs = (_docstring_lines(text, text_lines) if level >= EXECUTABLE
                else set())
        _walk(code, None, text_lines, strs, codes, executable)
        if pyc and level >= EXECUTABLE:
            executable = set()
            _executable39(_Pyc39(pyc).obj(), strs, executable)
    cover_enc = encoding
    if encoding == 'utf-8-sig':
        cover_enc = 'utf-8'
    if text_lines and not text_lines[-1].endswith('\n'):
        text_lines[-1] += '\n'
    lines = [l.encode(cover_enc, 'surrogateescape') for l in text_lines]
    if level < EXECUTABLE:
        executable = set()
    return encoding, lines, sorted(executable), codes


def _raw_lines(data):
    lines = data.splitlines(keepends=True)
    if lines and not lines[-1].endswith(b'\n'):
        lines[-1] += b'\n'
    return lines


def serialize(data, filename, level=EXECUTABLE, pyc=b''):
    """analyse() as a byte record the C side parses; never raises."""
    out = [b'CTA1\n']
    try:
        encoding, lines, executable, codes = analyse(data, filename, level,
                                                     pyc)
        problem = None
    except Exception as err:  # bad source must not stop the report
        encoding, lines, executable, codes = 'utf-8', _raw_lines(data), [], []
        problem = ('%s: %s' % (type(err).__name__, err)).replace('\n', ' ')
    out.append(b'E %s\n' % encoding.encode())
    if problem is not None:
        out.append(b'F %s\n' % problem.encode('utf-8', 'replace'))
    out.append(b'N %d\n' % len(lines))
    for line in lines:
        out.append(b'%d\n' % len(line))
        out.append(line)
    out.append(b'X %s\n' % ' '.join(map(str, executable)).encode())
    for name, first, trace_name, missed, code_lines in codes:
        out.append(b'C %d %d %s %s %s\n' % (
            missed, first, name.encode('utf-8', 'replace'),
            trace_name.encode('utf-8', 'replace'),
            ','.join(map(str, code_lines)).encode() or b'-'))
    return b''.join(out)
