#!/bin/bash
# Unit tests of the formatters, the pickle codec and the analyser, without
# privileges.  The reference is CPython's Lib/trace.py, run now on the same
# inputs.
. "$(dirname "$0")/lib.sh" unit
# the unit binaries: test_layout checks itself, test_units serves the rest
for bin in "$@"; do
	case $bin in
	*/test_units) T=$(cd "$(dirname "$bin")" && pwd)/test_units ;;
	*/test_layout) LAYOUT=$bin ;;
	*/test_naming) NAMING=$(cd "$(dirname "$bin")" && pwd)/test_naming ;;
	esac
done

same() { # NAME OURS REFERENCE
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		printf 'ours:  %s\ntrace: %s\n' "$2" "$3" > "$W/same"
		not_ok "$1" "$W/same"
	fi
}

same_files() { # NAME A B
	if diff -r "$2" "$3" > "$W/diff" 2>&1; then ok "$1"; else not_ok "$1" "$W/diff"; fi
}

echo "# version table offsets against CPython's own headers"
"$LAYOUT" > "$W/layout.out"
rc=$?
PASS=$((PASS + $(grep -c '^ok' "$W/layout.out")))
FAIL=$((FAIL + $(grep -c '^not ok' "$W/layout.out")))
cat "$W/layout.out"
# a crash or a failed check that printed no "not ok" still fails
if [ $rc != 0 ] && ! grep -q '^not ok' "$W/layout.out"; then
	echo "not ok - test_layout exited $rc"
	FAIL=$((FAIL + 1))
fi

echo "# _fullmodname and _modname"
for case in "/a/b/pkg/mod.py|/a/b" "/a/b/pkg/mod.py|/a|/a/b" "/x/y.py|/a" \
	"/a/b/.hidden.py|/a/b" "/a/b/c.tar.gz|/a" "/a/b/pkg/__init__.py|/a/b/" \
	"/usr/lib/python3.11/os.py|/usr/lib/python3.11|/usr/lib" "rel/x.py|"; do
	IFS='|' read -r -a parts <<< "$case"
	p=${parts[0]}
	ours=$("$T" fullmodname "${parts[@]}")
	ref=$("$PYTHON" -c 'import sys, trace; p = sys.argv[1]; sys.path[:] = sys.argv[2:]; print(trace._fullmodname(p))' "${parts[@]}")
	same "fullmodname $case" "$ours" "$ref"
	ours=$("$T" modname "$p")
	ref=$("$PYTHON" -c 'import sys, trace; print(trace._modname(sys.argv[1]))' "$p")
	same "modname $p" "$ours" "$ref"
done

echo "# tab expansion"
for s in $'a\tb' $'\tx' $'12345678\ty' $'é\tz' $'ab\t\tc\td'; do
	same "expandtabs $(printf %q "$s")" "$("$T" expand "$s")" \
		"$("$PYTHON" -c 'import sys; print(sys.argv[1].expandtabs(8))' "$s")"
done

echo "# pickle: trace's file in, ours out, trace reads it back equal"
cd "$CORPUS" || exit 1
"$PYTHON" -m trace -c -T -R -f "$W/t.pkl" prog.py > /dev/null
"$PYTHON" -m trace -l -R -f "$W/t.pkl" prog.py > /dev/null
# -R alone never writes in trace; a report pass saves the file
"$PYTHON" -m trace -c -f "$W/t.pkl" -C "$W/junk" prog.py > /dev/null
"$PYTHON" -m trace -l -f "$W/l.pkl" prog.py > /dev/null
"$PYTHON" -m trace -T -f "$W/c.pkl" prog.py > /dev/null
cd "$W" || exit 1
for f in t l c; do
	"$T" repickle "$W/$f.pkl" "$W/$f.ours.pkl"
	same "pickle round trip ($f)" "$("$PYTHON" -c '
import pickle, sys
a = pickle.load(open(sys.argv[1], "rb")); b = pickle.load(open(sys.argv[2], "rb"))
print("equal" if a == b else "differ")' "$W/$f.pkl" "$W/$f.ours.pkl")" "equal"
done

echo "# --listfuncs and --trackcalls formatting"
for f in l c; do
	"$T" calls "$W/$f.pkl" > "$W/$f.ours.txt"
	"$PYTHON" -c '
import sys, trace
trace.CoverageResults(infile=sys.argv[1]).write_results(show_missing=False, summary=False, coverdir=sys.argv[2])' \
		"$W/$f.pkl" "$W/junk2" > "$W/$f.ref.txt"
	same_files "report from $f.pkl" "$W/$f.ours.txt" "$W/$f.ref.txt"
done

echo "# .cover files and summary from the same counts"
SP=$CORPUS
cd "$CORPUS" || exit 1	# trace recorded prog.py by its relative name
"$T" counts "$W/t.pkl" "$W/ours" missing summary "$SP" > "$W/sum.ours" 2> "$W/err"
"$PYTHON" -c '
import sys, trace
sys.path[:] = [sys.argv[3]]
trace.CoverageResults(infile=sys.argv[1]).write_results(show_missing=True, summary=True, coverdir=sys.argv[2])' \
	"$W/t.pkl" "$W/ref" "$SP" > "$W/sum.ref" 2> "$W/ref.err" || cat "$W/ref.err"
grep -E '^lines   cov%|^ *[0-9]+ +[0-9]+%   ' "$W/sum.ref" > "$W/sum.ref2"
cd "$W" || exit 1
same_files "summary rows" "$W/sum.ours" "$W/sum.ref2"
same_files "cover files" "$W/ours" "$W/ref"

echo "# naming: the probes' events (3.11's, from probes.py) through resolve to trace's reports"
# the tally the maps would hold, with 3.11's first-line and send-edge
# repairs, against trace run on the same program now
cd "$CORPUS" || exit 1
"$PYTHON" "$HERE/unit/probes.py" "$W/fx.prog" prog.py > /dev/null
"$PYTHON" "$HERE/unit/probes.py" "$W/fx.serial" serial.py > /dev/null
# trace's sys.path: its program's directory, "" for a relative name, first
mapfile -t TSP < <("$PYTHON" -c 'import sys; print("\n".join(sys.path[1:]))')
"$NAMING" count "$W/fx.prog" "$W/nc" "" "${TSP[@]}" > "$W/nc.out" 2> "$W/nc.err"
"$PYTHON" -m trace -c -m -s -C "$W/nt" prog.py > "$W/nt.out"
"$NAMING" funcs "$W/fx.prog" > "$W/nl.out" 2> "$W/nl.err"
"$PYTHON" -m trace -l prog.py > "$W/nl.ref"
"$NAMING" calls "$W/fx.prog" > "$W/nT.out" 2> "$W/nT.err"
"$PYTHON" -m trace -T prog.py > "$W/nT.ref"
"$NAMING" trace "$W/fx.serial" > "$W/nx.out" 2> "$W/nx.err"
"$PYTHON" -m trace -t serial.py > "$W/nx.ref"
cd "$W" || exit 1
same_as_trace "naming --count: summary rows" nc summary "$CORPUS" "$W/nc.out" "$W/nt.out"
same_covers "naming --count: .cover files (the first lines the probe misses repaired)" \
	"$W/nc" "$W/nt" '^(prog|.*pkg\..*)\.cover$'
same_as_trace "naming --listfuncs: Class.method from the sources" nl funcs "$CORPUS" "$W/nl.out" "$W/nl.ref"
same_as_trace "naming --trackcalls: both ends" nT pairs "$CORPUS" "$W/nT.out" "$W/nT.ref"
same_as_trace "naming --trace: ring records printed as trace prints" nx trace "$CORPUS" "$W/nx.out" "$W/nx.ref" serial

echo "# source lines as trace's linecache reads them: newlines, encodings, tabs"
mkdir -p "$W/src" && cd "$W/src" || exit 1
"$PYTHON" -c '
import pickle
files = {
    "crlf.py": b"x = 1\r\ny = 2\r\n\tz = 3\r\n",
    "cr.py": b"x = 1\ry = 2\r\rz = 3",
    "nonl.py": b"x = 1\ny = \"\xc3\xa9\\te\"",
    "mixed.py": b"a = 1\r\n\rb = 2\n\r\nc = 3\r",
    "latin.py": b"# -*- coding: latin-1 -*-\nx = \"\xe9\tt\"\n",
    "bom.py": b"\xef\xbb\xbfx = 1\ny = 2\n",
    "cookie2.py": b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = \"\x80\"\n",
    "empty.py": b"",
}
counts = {}
for name, data in files.items():
    open(name, "wb").write(data)
    for line in (1, 2, 3):
        counts[(name, line)] = line
pickle.dump((counts, {}, {}), open("src.pkl", "wb"), 1)
'
"$T" counts "$W/src/src.pkl" "$W/src/ours" summary "$W/src" > "$W/src/sum.ours" 2> "$W/src/err"
"$PYTHON" -c '
import sys, trace
sys.path[:] = [sys.argv[3]]
trace.CoverageResults(infile=sys.argv[1]).write_results(show_missing=False, summary=True, coverdir=sys.argv[2])' \
	"$W/src/src.pkl" "$W/src/ref" "$W/src" > "$W/src/sum.ref" 2> "$W/src/ref.err" || cat "$W/src/ref.err"
for f in crlf cr nonl mixed latin bom cookie2 empty; do
	same_files "$f.py lines" "$W/src/ours/$f.cover" "$W/src/ref/$f.cover"
done
same_files "summary over them" "$W/src/sum.ours" "$W/src/sum.ref"
cd "$W" || exit 1

echo "# hostile pickles are refused, never run"
"$PYTHON" -c '
import os, pickle, sys
d = sys.argv[1]
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + d + "/pwned",))
pickle.dump(({}, {}, Evil()), open(d + "/evil.pkl", "wb"), 1)
open(d + "/trunc.pkl", "wb").write(open(d + "/t.pkl", "rb").read()[:100])
open(d + "/empty.pkl", "wb").write(b"")
open(d + "/junk.pkl", "wb").write(bytes(range(256)) * 4)
pickle.dump([1, 2], open(d + "/list.pkl", "wb"), 1)
' "$W"
for f in evil trunc empty junk list; do
	same "$f.pkl refused" "$("$T" parse "$W/$f.pkl")" "rejected"
done
[ ! -e "$W/pwned" ]
same "a hostile pickle ran nothing" "$?" "0"
"$PYTHON" -c 'import pickle, sys; pickle.dump(({("f.py", 1): 2}, {}, {}), open(sys.argv[1], "wb"), 4)' "$W/p4.pkl"
same "protocol 4 pickle accepted" "$("$T" parse "$W/p4.pkl")" "accepted"

echo "# sys.path as the interpreter itself builds it"
SP=$W/sp
mkdir -p "$SP/sub" "$SP/lib" "$SP/home/.local/lib/python3.11/site-packages" "$SP/extra"
printf 'import sys\nprint("\\n".join(p for p in sys.path))\n' > "$SP/show.py"
"$PYTHON" -m venv --without-pip --system-site-packages "$SP/venv"
"$PYTHON" -m venv --without-pip "$SP/venv2"
printf '# a comment\n%s\nimport os\n../nowhere\n' "$SP/extra" > "$SP/venv/lib/python3.11/site-packages/a.pth"
printf 'sub\n' > "$SP/home/.local/lib/python3.11/site-packages/b.pth"
mkdir -p "$SP/home/.local/lib/python3.11/site-packages/sub"
sp_case() { # NAME ENV... -- ARGV...
	local name=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	(cd "$SP/sub" && env -i "${envs[@]}" "$@") > "$SP/ref" 2>&1
	(cd "$SP/sub" && env -i "${envs[@]}" "$T" syspath 3.11 "$SP/sub" "$@") > "$SP/ours" 2>&1
	same_files "sys.path: $name" "$SP/ours" "$SP/ref"
}
sp_case "a script" HOME=/nonexistent -- "$PYTHON" "$SP/show.py"
sp_case "relative PYTHONPATH" HOME=/nonexistent PYTHONPATH=../lib:rel -- "$PYTHON" ../show.py
sp_case "-E ignores PYTHONPATH" PYTHONPATH=../lib -- "$PYTHON" -E ../show.py
sp_case "-I" PYTHONPATH=../lib HOME="$SP/home" -- "$PYTHON" -I ../show.py
sp_case "the user site and its .pth" HOME="$SP/home" -- "$PYTHON" ../show.py
sp_case "-s" HOME="$SP/home" -- "$PYTHON" -s ../show.py
sp_case "PYTHONNOUSERSITE" HOME="$SP/home" PYTHONNOUSERSITE=1 -- "$PYTHON" ../show.py
sp_case "-S" HOME="$SP/home" -- "$PYTHON" -S ../show.py
sp_case "a venv with the system's site and a .pth" HOME="$SP/home" -- "$SP/venv/bin/python" ../show.py
sp_case "a venv found along PATH" HOME=/nonexistent PATH="$SP/venv2/bin:/usr/bin" -- python ../show.py
sp_case "-X and -W take a word" HOME=/nonexistent -- "$PYTHON" -X dev -W ignore -B ../show.py

finish
