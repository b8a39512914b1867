#!/bin/bash
# Outputs for other tools (--coverage-file, --lcov, --json, --callgraph),
# read by the real tools from Debian's packages: coverage.py, lcov and
# genhtml, Graphviz, callgrind_annotate.  The references are those tools'
# own readings, coverage.py's own run of the same program, and trace's.
. "$(dirname "$0")/lib.sh" exports
need_root
cp -r "$CORPUS" "$W/src"
cd "$W/src" || exit 1
COV="$PYTHON -m coverage"

echo "# --coverage-file: coverage.py reads it as its own data"
"$CTRACE" -c -m -s -C "$W/c" --coverage-file "$W/ours.db" --lcov "$W/ours.info" \
	--json "$W/ours.json" -- "$PYTHON" prog.py > "$W/c.out" 2> "$W/c.err" ||
	not_ok "ctrace-bpf with every output" "$W/c.err"
$COV run --data-file="$W/ref.db" prog.py > /dev/null
for d in ours ref; do
	$COV json --data-file="$W/$d.db" -o "$W/$d.cov.json" --include="$W/src/*" > /dev/null 2> "$W/$d.cov.err"
done
# the corpus's files: the same statements run and missed, the same percentages
"$PYTHON" - "$W/ours.cov.json" "$W/ref.cov.json" > "$W/cov.diff" 2>&1 <<'PY'
import json, sys
a, b = (json.load(open(p))['files'] for p in sys.argv[1:])
if not b:
    print('coverage.py measured nothing')
for f in sorted(set(a) | set(b)):
    x, y = a.get(f), b.get(f)
    if not x or not y:
        print('%s: only in %s' % (f, 'ours' if x else 'coverage run'))
        continue
    for k in ('executed_lines', 'missing_lines'):
        if x[k] != y[k]:
            print('%s %s: ours %s, coverage.py %s' % (f, k, x[k], y[k]))
    if x['summary']['percent_covered'] != y['summary']['percent_covered']:
        print('%s: %s%% against %s%%' % (f, x['summary']['percent_covered'],
                                       y['summary']['percent_covered']))
PY
check "coverage json: each corpus file's lines run and missed equal coverage.py's own run" "$W/cov.diff"
: > "$W/tools.diff"
$COV report --data-file="$W/ours.db" > "$W/rep.txt" 2>> "$W/tools.diff" || echo "coverage report failed" >> "$W/tools.diff"
$COV html --data-file="$W/ours.db" -d "$W/html" > /dev/null 2>> "$W/tools.diff" && [ -s "$W/html/index.html" ] ||
	echo "coverage html failed" >> "$W/tools.diff"
$COV xml --data-file="$W/ours.db" -o "$W/cov.xml" > /dev/null 2>> "$W/tools.diff" && grep -q '<coverage ' "$W/cov.xml" ||
	echo "coverage xml failed" >> "$W/tools.diff"
check "coverage report, html and xml read our file" "$W/tools.diff"
# two runs combined: every line counted in either, as coverage combine does
cp "$W/ours.db" "$W/a.db"
"$CTRACE" -c --coverage-file "$W/b.db" -- "$PYTHON" serial.py > /dev/null 2>&1
$COV combine --data-file="$W/comb.db" "$W/a.db" "$W/b.db" > /dev/null 2> "$W/comb.err"
$COV json --data-file="$W/comb.db" -o "$W/comb.json" --include="$W/src/*" > /dev/null 2>> "$W/comb.err"
"$PYTHON" - "$W/comb.json" "$W/ours.cov.json" > "$W/comb.diff" 2>&1 <<'PY'
import json, sys
comb, one = (json.load(open(p))['files'] for p in sys.argv[1:])
for f in one:
    if set(one[f]['executed_lines']) - set(comb.get(f, {}).get('executed_lines', [])):
        print('%s: lines lost in the combination' % f)
if not any(f.endswith('serial.py') for f in comb):
    print('serial.py, from the second run, is missing')
PY
cat "$W/comb.err" >> "$W/comb.diff"
check "coverage combine: two runs' files joined, nothing lost" "$W/comb.diff"

echo "# --lcov: real counts, read by lcov and genhtml"
# lcov_as_trace NAME PY INFO TAG: INFO's DA counts for prog.py are PY's
# trace's .cover counts, LF/LH its summary row
lcov_as_trace() {
	local name=$1 py=$2 info=$3 t=$W/$4
	"$py" -m trace -c -m -s -C "$t" prog.py > "$t.out"
	"$PYTHON" - "$info" "$t/prog.cover" "$t.out" "$W/src/prog.py" > "$W/lcov.diff" 2>&1 <<'PY'
import re, sys
info, cover, summary, path = sys.argv[1:]
recs = open(info).read().split('end_of_record')
rec = next((r for r in recs if 'SF:%s\n' % path in r), None)
if rec is None:
    sys.exit(print('no record for', path))
da = {int(l): int(n) for l, n in re.findall(r'^DA:(\d+),(\d+)$', rec, re.M)}
ref = {}
for i, line in enumerate(open(cover), 1):
    m = re.match(r' *(\d+): ', line)
    if m:
        ref[i] = int(m.group(1))
hit = {l: n for l, n in da.items() if n}
if hit != ref:
    print('DA counts differ from trace:', sorted(set(hit.items()) ^ set(ref.items()))[:10])
lf = int(re.search(r'^LF:(\d+)$', rec, re.M).group(1))
lh = int(re.search(r'^LH:(\d+)$', rec, re.M).group(1))
row = re.search(r'^ *(\d+) +(\d+)% +prog ', open(summary).read(), re.M)
if not row or (int(row.group(1)), int(row.group(2))) != (lf, 100 * lh // lf):
    print('LF %d LH %d, trace: %s' % (lf, lh, row and row.group(0)))
PY
	check "$name" "$W/lcov.diff"
}
lcov_as_trace "lcov: DA counts are trace's, LF and LH its summary row" "$PYTHON" "$W/ours.info" t
# the same from the collector, delivered by ptrace (no probes there)
for v in 3.8 3.12; do
	py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | tail -1)
	if [ -z "$py" ]; then
		skip "lcov from pyenv $v" "no ~/.pyenv/versions/$v.*"
		continue
	fi
	"$CTRACE" -c -C "$W/c$v" --lcov "$W/p$v.info" -- "$py" prog.py > /dev/null 2> "$W/p$v.err"
	lcov_as_trace "lcov from pyenv $v's collector (ptrace): DA counts and LF/LH as its trace's" "$py" "$W/p$v.info" t$v
done
: > "$W/lt.diff"
lcov --summary "$W/ours.info" > /dev/null 2>> "$W/lt.diff" || echo "lcov --summary failed" >> "$W/lt.diff"
genhtml -q -o "$W/gen" "$W/ours.info" > /dev/null 2>> "$W/lt.diff" && [ -s "$W/gen/index.html" ] ||
	echo "genhtml failed" >> "$W/lt.diff"
lcov -q -a "$W/ours.info" -a "$W/ours.info" -o "$W/sum.info" 2>> "$W/lt.diff"
"$PYTHON" - "$W/ours.info" "$W/sum.info" "$W/src/prog.py" >> "$W/lt.diff" 2>&1 <<'PY'
import re, sys
def da(p, path):
    rec = next(r for r in open(p).read().split('end_of_record') if 'SF:%s\n' % path in r)
    return {int(l): int(n) for l, n in re.findall(r'^DA:(\d+),(\d+)', rec, re.M)}
one, two = da(sys.argv[1], sys.argv[3]), da(sys.argv[2], sys.argv[3])
if {l: 2 * n for l, n in one.items()} != two:
    print('lcov -a did not add the counts up')
PY
check "lcov --summary, genhtml and lcov -a read and add it up" "$W/lt.diff"

echo "# --json: one document, checked by a JSON parser"
"$PYTHON" - "$W/ours.json" "$W/t/prog.cover" > "$W/json.diff" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
for k in ('tool', 'version', 'target', 'files', 'functions_called', 'calls', 'dropped'):
    if k not in d:
        print('no', k)
main = next(f for f in d['files'] if f.endswith('/prog.py'))
lines = {int(l): n for l, n in d['files'][main]['lines'].items()}
ref = {}
for i, line in enumerate(open(sys.argv[2]), 1):
    m = re.match(r' *(\d+): ', line)
    if m:
        ref[i] = int(m.group(1))
if lines != ref:
    print('prog.py lines differ from trace')
if not d['files'][main].get('executable'):
    print('no executable lines with -m')
PY
check "json: the counts are trace's .cover counts" "$W/json.diff"
# its warnings are the notes and warnings said on stderr (a source gone)
mkdir -p "$W/v/pkg"
cp "$HERE/corpus/vanish.py" "$W/v/"
cp "$HERE"/corpus/pkg/*.py "$W/v/pkg/"
"$CTRACE" -c -C "$W/vc" --json "$W/v.json" -- "$PYTHON" "$W/v/vanish.py" > /dev/null 2> "$W/v.err"
sed -n 's/^ctrace-bpf: \(\(note\|warning\): \)/\1/p' "$W/v.err" > "$W/v.said"
"$PYTHON" -c 'import json, sys
for w in json.load(open(sys.argv[1]))["warnings"]:
    print(w)' "$W/v.json" > "$W/v.kept" 2>&1
diff "$W/v.kept" "$W/v.said" > "$W/vw.diff"
grep -q "cannot read source" "$W/v.kept" || echo "no note of the vanished source" >> "$W/vw.diff"
check "json: its warnings are the notes said on stderr" "$W/vw.diff"

echo "# --callgraph: --trackcalls' pairs with counts, for dot and callgrind_annotate"
# absolute paths: trace runs a relative script under its relative name
"$CTRACE" -T --callgraph "$W/cg.dot" --json "$W/t.json" -- "$PYTHON" "$W/src/prog.py" > "$W/T.out" 2> "$W/T.err"
"$CTRACE" -T --callgraph "$W/cg.callgrind" -- "$PYTHON" "$W/src/prog.py" > /dev/null 2>&1
"$PYTHON" -m trace -T "$W/src/prog.py" > "$W/T.ref"
: > "$W/cg.diff"
dot -Tsvg "$W/cg.dot" -o "$W/cg.svg" 2>> "$W/cg.diff" && grep -q '<svg' "$W/cg.svg" ||
	echo "dot failed" >> "$W/cg.diff"
callgrind_annotate --auto=no --inclusive=yes "$W/cg.callgrind" > "$W/cg.txt" 2>> "$W/cg.diff" ||
	echo "callgrind_annotate failed" >> "$W/cg.diff"
"$PYTHON" - "$W/t.json" "$W/cg.dot" "$W/cg.txt" >> "$W/cg.diff" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
total = sum(c['count'] for c in d['calls'])
edges = len(re.findall(r' -> ', open(sys.argv[2]).read()))
if edges != len(d['calls']):
    print('dot has %d edges for %d pairs' % (edges, len(d['calls'])))
m = re.search(r'^([\d,]+) .*PROGRAM TOTALS', open(sys.argv[3]).read(), re.M)
if not m or int(m.group(1).replace(',', '')) != total:
    print('callgrind_annotate total %s, pairs counted %d' % (m and m.group(1), total))
PY
# the pairs are trace's, for the corpus's files
compared T pairs "$W/src" "$W/T.out" "$W/T.ref"
cat "$W/T.diff" >> "$W/cg.diff"
check "callgraph: dot and callgrind_annotate read it, one edge per pair, totals equal" "$W/cg.diff"

echo "# bad input"
expect_fail "--lcov without --count" 2 "they need -c/--count" "$CTRACE" -l --lcov x.info -p 1
expect_fail "--callgraph without -T" 2 "it needs -T/--trackcalls" "$CTRACE" -c --callgraph x.dot -p 1
expect_fail "--callgraph of another kind" 2 "name it FILE.dot" "$CTRACE" -T --callgraph x.png -p 1
"$CTRACE" -c --json /nonexistent/dir/x.json -- "$PYTHON" serial.py > /dev/null 2> "$W/bad.err"
rc=$?
[ $rc = 1 ] && grep -q "^ctrace-bpf: cannot write '/nonexistent/dir/x.json'" "$W/bad.err" &&
	ok "an output that cannot be written: one line, exit 1" ||
	not_ok "an output that cannot be written: one line, exit 1 (got $rc)" "$W/bad.err"

echo "# the man page, the completion, make install, the Debian package"
ROOT=$HERE/..
"$CTRACE" --help | sed '/^Examples:/,$d' | grep -oE -- '--[a-z][a-z-]*' | sort -u > "$W/help.opts"
sed -n '/^\.SH OPTIONS/,/^\.SH EXAMPLES/{s/\\-/-/g; s/\\f[BIR]//g; p}' "$ROOT/scripts/ctrace-bpf.8" |
	grep -oE -- '--[a-z][a-z-]*' | sort -u > "$W/man.opts"
diff "$W/help.opts" "$W/man.opts" > "$W/opts.diff"
[ "$(wc -l < "$W/help.opts")" -gt 30 ] || echo "too few options found in --help" >> "$W/opts.diff"
check "the man page and --help name the same options" "$W/opts.diff"
man -l "$ROOT/scripts/ctrace-bpf.8" 2>&1 > "$W/man.txt" | grep -v '^$' > "$W/man.diff"
grep -q "EXIT STATUS" "$W/man.txt" && grep -q "SECURITY" "$W/man.txt" ||
	echo "no EXIT STATUS or SECURITY section" >> "$W/man.diff"
check "man renders the page, with exit status and security sections" "$W/man.diff"
make -s -C "$ROOT" install OUTPUT="$(dirname "$CTRACE")" DESTDIR="$W/inst" PREFIX=/usr > /dev/null 2> "$W/inst.diff"
for f in sbin/ctrace-bpf share/man/man8/ctrace-bpf.8 share/bash-completion/completions/ctrace-bpf; do
	[ -s "$W/inst/usr/$f" ] || echo "make install left no /usr/$f" >> "$W/inst.diff"
done
check "make install: the binary, the man page and the completion" "$W/inst.diff"
bash -c '. /usr/share/bash-completion/bash_completion
	. "$1"
	COMP_WORDS=(ctrace-bpf --covera); COMP_CWORD=1; COMP_LINE="ctrace-bpf --covera"; COMP_POINT=19
	_ctrace_bpf; echo "${COMPREPLY[*]}"
	COMP_WORDS=(ctrace-bpf --backend = mon); COMP_CWORD=3; COMP_LINE="ctrace-bpf --backend=mon"; COMP_POINT=24
	_ctrace_bpf; echo "${COMPREPLY[*]}"' _ "$ROOT/scripts/ctrace-bpf.bash-completion" > "$W/compl.out" 2>&1
printf '%s\n' --coverage-file monitoring | diff - "$W/compl.out" > "$W/compl.diff"
check "bash completion completes options and --backend values" "$W/compl.diff"
deb=$(sh "$ROOT/scripts/make-deb.sh" "$CTRACE" "$W" 2> "$W/deb.err")
: > "$W/deb.diff"
if [ -s "$deb" ] && dpkg -i "$deb" > /dev/null 2>> "$W/deb.diff"; then
	[ "$(/usr/sbin/ctrace-bpf --version)" = "$("$CTRACE" --version)" ] ||
		echo "the installed ctrace-bpf says another version" >> "$W/deb.diff"
	[ -s /usr/share/man/man8/ctrace-bpf.8.gz ] || echo "no man page installed" >> "$W/deb.diff"
	dpkg -r ctrace-bpf > /dev/null 2>> "$W/deb.diff"
	[ -e /usr/sbin/ctrace-bpf ] && echo "dpkg -r left the binary" >> "$W/deb.diff"
else
	cat "$W/deb.err" >> "$W/deb.diff"
	echo "no package, or it would not install" >> "$W/deb.diff"
fi
check "make deb: installs, runs --version, removes cleanly" "$W/deb.diff"

finish
