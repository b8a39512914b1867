#!/bin/bash
# --gc, --imports and --audit against real interpreters: 3.11 on the host,
# 3.9, 3.13, 3.14 and 3.15 in the Debian roots that run-roots.sh builds.  The workload
# (tests/corpus/events.py) makes known events; the reference is that
# arithmetic: 7 gc.collect(1) calls finding 10 cycles each, the modules it
# imports, the file it opens.
. "$(dirname "$0")/lib.sh" events
need_root
cd "$W" || exit 1

# gen1 FILE: "collections collected" of generation 1 in a --gc report
gen1() { awk '$1 == "1" && NF == 5 { print $2, $3 }' "$1"; }

# ms FILE MODULE: a module's time in an --imports report
ms() { awk -v m="$2" '$2 == m { print $1 }' "$1"; }

# check_one VER CMD...: every mode on the workload, launched by CMD
check_one() {
	local v=$1
	shift
	"$CTRACE" --gc -- "$@" > "$W/gc.$v" 2> "$W/gc.$v.err"
	[ "$(gen1 "$W/gc.$v")" = "7 70" ] && grep -q '^pid [0-9]*: ' "$W/gc.$v" &&
		ok "$v --gc: 7 generation-1 collections, 70 objects, under a pid heading" ||
		not_ok "$v --gc: 7 collections of generation 1, 70 collected" "$W/gc.$v"

	"$CTRACE" --imports -- "$@" > "$W/imp.$v" 2> "$W/imp.$v.err"
	local j d e
	j=$(ms "$W/imp.$v" json)
	d=$(ms "$W/imp.$v" json.decoder)
	e=$(ms "$W/imp.$v" email.mime.text)
	if [ -n "$j" ] && [ -n "$d" ] && [ -n "$e" ] &&
		awk -v j="$j" -v d="$d" 'BEGIN { exit !(j >= d) }' &&
		grep -q '  nosuchmodule_xyz  FAILED$' "$W/imp.$v" &&
		! grep -q '  json  .*FAILED' "$W/imp.$v"; then
		ok "$v --imports: json ($j ms) includes json.decoder ($d ms); the missing module FAILED"
	else
		not_ok "$v --imports: known modules, nesting, failure" "$W/imp.$v"
	fi
	sort -s -rn -k1,1 "$W/imp.$v" | grep -E '^ +[0-9.]+  ' > "$W/imp.$v.sorted"
	grep -E '^ +[0-9.]+  ' "$W/imp.$v" | diff - "$W/imp.$v.sorted" > "$W/imp.$v.diff"
	check "$v --imports: slowest first" "$W/imp.$v.diff"

	"$CTRACE" --audit -- "$@" > "$W/aud.$v" 2> "$W/aud.$v.err"
	grep -qE " open +\('/etc/hostname', 'r', [0-9]+\)$" "$W/aud.$v" &&
		grep -qE " compile +\(b?'x = 1', '<ctrace-events>'\)$" "$W/aud.$v" &&
		ok "$v --audit: open and compile with their str and int arguments" ||
		not_ok "$v --audit: the known open and compile" "$W/aud.$v"
	"$CTRACE" --audit=open,compile -- "$@" > "$W/audf.$v" 2> /dev/null
	others=$(tail -n +2 "$W/audf.$v" | awk '$4 != "open" && $4 != "compile"' | wc -l)
	[ "$others" = 0 ] && grep -q "'/etc/hostname'" "$W/audf.$v" &&
		ok "$v --audit=open,compile: only those events" ||
		not_ok "$v --audit=open,compile: only those ($others others)" "$W/audf.$v"
}

echo "# CPython 3.11 on the host"
check_one 3.11 "$PYTHON" "$CORPUS/events.py"

echo "# by PID, all three at once: only what happens after attach"
mkfifo "$W/ev.in"
"$PYTHON" "$CORPUS/events.py" hold < "$W/ev.in" > "$W/ev.out" &
BG=$!
exec 7> "$W/ev.in"
wait_for ready "$W/ev.out"
"$CTRACE" --gc --imports --audit=open -p $BG > "$W/all.out" 2> "$W/all.err" &
CT=$!
if wait_ready "$W/all.err"; then
	echo go >&7
	wait_for done "$W/ev.out"
	kill -INT $CT
	wait $CT
	rc=$?
	[ $rc = 0 ] && [ "$(gen1 "$W/all.out")" = "7 70" ] && [ -n "$(ms "$W/all.out" json)" ] &&
		grep -q "'/etc/hostname'" "$W/all.out" &&
		ok "by PID: gc, imports and the open, exit 0" ||
		not_ok "by PID: gc, imports and audit together" "$W/all.out"
else
	not_ok "attach for events by PID" "$W/all.err"
fi
echo bye >&7
exec 7>&-
wait $BG
BG=

for r in bullseye:python3.9:3.9 trixie:python3.13:3.13 sid:python3.14:3.14 sid:python3.15:3.15; do
	IFS=: read -r suite py v <<< "$r"
	echo "# CPython $v in the $suite root"
	if [ ! -x "$ROOTS/$suite/usr/bin/$py" ]; then
		skip "$v in the $suite root" "no $ROOTS/$suite/usr/bin/$py (make roots builds it)"
		continue
	fi
	cp "$CORPUS/events.py" "$ROOTS/$suite/tmp/ctrace-events.py"
	check_one "$v" chroot "$ROOTS/$suite" "$py" /tmp/ctrace-events.py
done

finish
