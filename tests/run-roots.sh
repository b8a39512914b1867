#!/bin/bash
# Other CPythons, from Debian roots made with debootstrap and kept in
# build/roots: each target runs inside its root (chroot) and is traced from
# the host; the reference is that interpreter's own python -m trace, run in
# the same root now.
. "$(dirname "$0")/lib.sh" roots
HOSTPY=$PYTHON
IN=/tmp/ctrace-corpus	# where the corpus sits inside each root
need_root
cd "$W" || exit 1

# make_root SUITE PACKAGES: build once, then reuse.  A root that cannot be
# built (no mirror reachable) skips its cases, with the reason; the tier
# fails when it skips them all (finish).
make_root() {
	if ! sh "$HERE/../scripts/make-root.sh" "$1" "$ROOTS/$1" "$2"; then
		skip "the $1 root's cases" "debootstrap $1 failed (its output is above)"
		return 1
	fi
	rm -rf "${ROOTS:?}/$1$IN"
	cp -r "$HERE/corpus" "$ROOTS/$1$IN"
}

# root_as_trace ROOT PY MODE KIND NAME [PROG]: one mode, both tools, compared
root_as_trace() {
	local root=$1 py=$2 mode=$3 kind=$4 name=$5 prog=${6:-prog.py}
	local tag=$W/$(basename "$root").$py$mode.${kind} at=$IN main=

	# --trace names files by base name: the corpus is listed from the host
	if [ "$kind" = trace ]; then
		at=$root$IN
		main=${prog%.py}
	fi

	# the program's own output goes elsewhere: sharing our stdout, its
	# writes would land between ours at any byte
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} $mode -- chroot "$root" sh -c 'exec "$0" "$@" > /dev/null' \
		"$py" "$IN/$prog" > "$tag.ours" 2> "$tag.err"
	chroot "$root" "$py" -m trace $mode "$IN/$prog" > "$tag.ref"
	same_as_trace "$name" "${tag#$W/}" $kind "$at" "$tag.ours" "$tag.ref" $main
}

echo "# CPython 3.9 (Debian 11) in a chroot"
if make_root bullseye python3.9,python3-pyflakes,python3-yaml; then
	R=$ROOTS/bullseye
	rm -rf "$R/tmp/c9" "$W/c9"
	"$CTRACE" -c -m -s -C "$W/c9" -- chroot "$R" python3.9 "$IN/prog.py" > "$W/c9.out" 2> "$W/c9.err"
	chroot "$R" python3.9 -m trace -c -m -s -C /tmp/c9 "$IN/prog.py" > "$W/t9.out"
	grep -q 'CPython 3\.9' "$W/c9.err" || echo "no version in the Tracing line" > "$W/v9.diff"
	check "3.9: version read from the binary" "$W/v9.diff"
	same_as_trace "3.9: --count --missing --summary rows identical" s9 summary "$IN" \
		"$W/c9.out" "$W/t9.out"
	same_covers "3.9: cover files identical" "$W/c9" "$R/tmp/c9"
	root_as_trace "$R" python3.9 -l funcs "3.9: --listfuncs identical"
	root_as_trace "$R" python3.9 -T pairs "3.9: --trackcalls pairs identical"
	root_as_trace "$R" python3.9 -t trace "3.9: --trace identical" serial.py

	# its own mount namespace, reached through unshare and chroot
	"$CTRACE" -l -- unshare -m chroot "$R" python3.9 "$IN/prog.py" > "$W/u9.out" 2> "$W/u9.err"
	$CMP funcs "$W/u9.out" "$IN" > "$W/u9.f"
	diff "$W/u9.f" "$W/bullseye.python3.9-l.funcs.r" > "$W/u9.diff"
	check "3.9 in its own mount namespace (unshare -m): --listfuncs identical" "$W/u9.diff"
	root_as_trace "$R" python3.9 -l funcs "3.9: --listfuncs Class.name from the live objects" names.py
	root_as_trace "$R" python3.9 -T pairs "3.9: --trackcalls Class.name from the live objects" names.py
	root_as_trace "$R" python3.9 -l funcs "3.9: --listfuncs, names made again at one address" readdress.py
	root_as_trace "$R" python3.9 -T pairs "3.9: --trackcalls, names made again at one address" readdress.py
	root_as_trace "$R" python3.9 -T pairs "3.9: --trackcalls, callers named in every str kind" uninames.py

	# by PID: the chrooted process is found through /proc/PID/map_files
	hold p9 chroot "$R" python3.9 "$IN/waitrun.py"
	if trace_held p9 "$W/p9.T" -T; then
		$CMP pairs "$W/p9.T" "$IN" | grep -v waitrun > "$W/p9.p"
		chroot "$R" python3.9 -m trace -T "$IN/full.py" > "$W/p9.full"
		$CMP pairs "$W/p9.full" "$IN" | grep -v full.py > "$W/p9.ref"
		diff "$W/p9.p" "$W/p9.ref" > "$W/p9.diff"
		check "3.9 by PID in a chroot: --trackcalls identical" "$W/p9.diff"
	fi
	stop_bg 7
fi

# count_same ROOT PY NAME [PROG]: -c -m -s launched, covers and summary
# rows identical to that interpreter's trace
count_same() {
	local root=$1 py=$2 name=$3 prog=${4:-prog.py} tag
	tag=$(basename "$root").$py.${prog%.py}
	rm -rf "$root/tmp/$tag" "$W/$tag"
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -c -m -s -C "$W/$tag" -- \
		chroot "$root" sh -c 'exec "$0" "$@" > /dev/null' "$py" "$IN/$prog" \
		> "$W/$tag.out" 2> "$W/$tag.err"
	chroot "$root" "$py" -m trace -c -m -s -C "/tmp/$tag" "$IN/$prog" > "$W/$tag.ref"
	same_as_trace "$name: --summary rows identical" "$tag.sum" summary "$IN" \
		"$W/$tag.out" "$W/$tag.ref"
	same_covers "$name: cover files identical" "$W/$tag" "$root/tmp/$tag"
}

# monitoring ROOT PY: the monitoring backend (PEP 768 + sys.monitoring)
monitoring() {
	local R=$1 py=$2 v=${2#python}

	count_same "$R" "$py" "$v monitoring${VIA:-} --count" prog.py
	# trace itself loses counts with threads on 3.14+ (one shared dict,
	# no lock): arithmetic is the reference here
	rm -rf "$W/st$v"
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -c -C "$W/st$v" -- chroot "$R" "$py" "$IN/stress.py" \
		> /dev/null 2> "$W/st$v.err"
	{ grep -q "^40029: def tick(): return 1$" "$W/st$v/stress.cover" &&
	  grep -q "^40028:         total += tick()$" "$W/st$v/stress.cover"; } ||
		cp "$W/st$v/stress.cover" "$W/$v.ticks.diff"
	check "$v monitoring${VIA:-}: 4 threads x 10007 calls counted exactly" "$W/$v.ticks.diff"
	root_as_trace "$R" "$py" -t trace "$v monitoring${VIA:-} --trace identical" serial.py
	root_as_trace "$R" "$py" -l funcs "$v monitoring${VIA:-} --listfuncs identical"
	root_as_trace "$R" "$py" -T pairs "$v monitoring${VIA:-} --trackcalls identical"
	# the tracer killed while the new process is stopped at the launch
	# gate: our watcher lets it go on, and it runs to its end
	CTRACE_TEST_DELAY_GATE=2000 "$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -l -- \
		chroot "$R" "$py" "$IN/serial.py" > "$W/gk$v.out" 2> "$W/gk$v.err" &
	CT=$!
	sleep 1
	kill -9 $CT
	wait $CT 2>/dev/null
	for _ in $(seq 50); do
		pgrep -f "$py $IN/serial.py" > /dev/null || break
		sleep 0.1
	done
	if pgrep -f "$py $IN/serial.py" > /dev/null; then
		ps -o pid,stat,args -p "$(pgrep -d, -f "$py $IN/serial.py")" > "$W/gk$v.diff"
		pkill -9 -f "$py $IN/serial.py"
	fi
	[ "$(tail -1 "$W/gk$v.out")" = 190 ] || echo "the program did not finish" >> "$W/gk$v.diff"
	check "$v monitoring${VIA:-}: tracer SIGKILLed at the launch gate, the program goes on to its end" "$W/gk$v.diff"
	# --startup: from the first import, so the start-up's modules count
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -c -s --startup -C "$W/su$v" -- \
		chroot "$R" sh -c 'exec "$0" "$@" > /dev/null' "$py" "$IN/serial.py" \
		> "$W/su$v.out" 2> "$W/su$v.err"
	grep -q "  encodings\.utf_8  " "$W/su$v.out" && grep -q "  serial  " "$W/su$v.out" &&
		! grep -q "encodings" "$W/$(basename "$R").$py.prog.out" &&
		ok "$v monitoring${VIA:-} --startup: the start-up's imports counted too, and only with it" ||
		not_ok "$v monitoring${VIA:-} --startup: the start-up's imports counted too, and only with it" "$W/su$v.out"
	# its own mount namespace: the script's path is the target's own
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -l -- unshare -m chroot "$R" "$py" "$IN/prog.py" \
		> "$W/u$v.out" 2> "$W/u$v.err"
	$CMP funcs "$W/u$v.out" "$IN" > "$W/u$v.f"
	diff "$W/u$v.f" "$W/$(basename "$R").$py-l.funcs.r" > "$W/u$v.diff"
	check "$v monitoring${VIA:-} in its own mount namespace (unshare -m): --listfuncs identical" "$W/u$v.diff"
	# a read-only /tmp, as in a container with a read-only root: the
	# collector goes to /dev/shm or /var/tmp instead, and leaves nothing
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -l -- unshare -m sh -c \
		"mount --bind -o ro '$R/tmp' '$R/tmp' && exec chroot '$R' '$py' '$IN/prog.py' > /dev/null" \
		> "$W/ro$v.out" 2> "$W/ro$v.err"
	$CMP funcs "$W/ro$v.out" "$IN" > "$W/ro$v.f"
	diff "$W/ro$v.f" "$W/$(basename "$R").$py-l.funcs.r" > "$W/ro$v.diff"
	ls "$R/dev/shm" "$R/var/tmp" 2>/dev/null | grep '^ctrace-bpf\.' >> "$W/ro$v.diff"
	check "$v monitoring${VIA:-} with a read-only /tmp: --listfuncs identical, nothing left" "$W/ro$v.diff"
	# --timing: trace's lines, each after seconds since the start
	"$CTRACE" ${BACKEND:+--backend=$BACKEND} ${DELIVERY:+--delivery=$DELIVERY} -t -g -- chroot "$R" sh -c 'exec "$0" "$@" > /dev/null' \
		"$py" "$IN/serial.py" > "$W/g$v.out" 2> "$W/g$v.err"
	sed -E 's/^[0-9]+\.[0-9]{2} //' "$W/g$v.out" | $CMP trace /dev/stdin "$R$IN" serial > "$W/g$v.o"
	diff "$W/g$v.o" "$W/$(basename "$R").$py-t.trace.r" > "$W/g$v.diff"
	[ "$(grep -cEv '^([0-9]+\.[0-9]{2} | --- )' "$W/g$v.out")" = 0 ] ||
		echo "lines without their time" >> "$W/g$v.diff"
	check "$v monitoring${VIA:-} --trace --timing: every line timed, the same lines" "$W/g$v.diff"
	root_as_trace "$R" "$py" -l funcs "$v monitoring${VIA:-} --listfuncs, trace's class names" names.py
	root_as_trace "$R" "$py" -T pairs "$v monitoring${VIA:-} --trackcalls, trace's class names" names.py
	grep -q "Tracing PID .*by a sys.[a-z]* collector inside it" "$W/$(basename "$R").$py-T.pairs.err" ||
		cp "$W/$(basename "$R").$py-T.pairs.err" "$W/$v.line.diff"
	check "$v monitoring${VIA:-}: the Tracing line names the backend" "$W/$v.line.diff"
	root_as_trace "$R" "$py" -T pairs "$v monitoring${VIA:-} --trackcalls, callers named in every str kind" uninames.py
	monitoring_by_pid "$R" "$py" "$v"
}

# the collector's sys.monitoring tool id, from -v
tool_of() { sed -n 's/.*collector: sys.monitoring tool \([0-5]\) .*/\1/p; s/.*collector: sys.\(settrace\) .*/\1/p' "$1"; }

# spin ROOT "PY..." TAG PROG: PROG held in ROOT until $W/TAG.go appears (it
# waits in Python); $SPIN is its pid
spin() {
	rm -f "$1/tmp/$3.go"
	chroot "$1" $2 "$IN/$4" "/tmp/$3.go" > "$W/$3.out" 2>&1 &
	SPIN=$!
	wait_for ready "$W/$3.out"
}

monitoring_by_pid() {
	local R=$1 py=$2 v=$3 t1 t2 t3 t0 ms tag=m$3 pep=1

	# what PEP 768 alone does: any thread takes the request, a switch
	case $v in 3.[89]|3.1[0-3]) pep= ;; esac
	[ "${DELIVERY:-}" = ptrace ] && pep=

	# by PID, in a chroot, the whole program seen as trace sees full.py
	spin "$R" "$py" $tag spinrun.py
	if TOPTS="--backend=monitoring ${DELIVERY:+--delivery=$DELIVERY}" \
		spin_report $tag $SPIN "$R/tmp/$tag.go" -T chroot "$R" "$py"; then
		diff "$W/$tag.p" "$W/$tag.ref" > "$W/$tag.diff"
		check "$v monitoring${VIA:-} by PID in a chroot: --trackcalls identical" "$W/$tag.diff"
	else
		attach_failed "$v monitoring${VIA:-}: attach by PID" "$W/$tag.err"
	fi
	t1=$(tool_of "$W/$tag.err")
	# detached, the tool is free again: a second collector gets the same id
	"$CTRACE" --backend=monitoring ${DELIVERY:+--delivery=$DELIVERY} -v -l -d 0.3 -p $SPIN > /dev/null 2> "$W/$tag.2.err"
	t2=$(tool_of "$W/$tag.2.err")
	[ -n "$t1" ] && [ "$t1" = "$t2" ] || echo "tool ids '$t1' then '$t2'" > "$W/$tag.tool.diff"
	check "$v monitoring${VIA:-}: the tool id is freed at detach" "$W/$tag.tool.diff"
	# the tracer SIGKILLed: the collector sees its FIFO end and leaves
	"$CTRACE" --backend=monitoring ${DELIVERY:+--delivery=$DELIVERY} -v -l -p $SPIN > /dev/null 2> "$W/$tag.3.err" &
	CT=$!
	if wait_ready "$W/$tag.3.err"; then
		kill -9 $CT
		wait $CT 2>/dev/null
		sleep 1
		"$CTRACE" --backend=monitoring ${DELIVERY:+--delivery=$DELIVERY} -v -l -d 0.3 -p $SPIN > /dev/null 2> "$W/$tag.4.err"
		t3=$(tool_of "$W/$tag.4.err")
		[ -n "$t3" ] && [ "$t3" = "$t1" ] || echo "after SIGKILL: tool id '$t3', not '$t1'" > "$W/$tag.kill.diff"
		ls "$R/tmp" | grep '^ctrace-bpf\.' >> "$W/$tag.kill.diff"
		check "$v monitoring${VIA:-}: tracer SIGKILLed, the collector removes itself and its files within 1 s" "$W/$tag.kill.diff"
	else
		attach_failed "$v monitoring${VIA:-}: attach for the SIGKILL test" "$W/$tag.3.err"
	fi
	rm -f "$R/tmp/$tag.go"
	wait $SPIN

	# several -p: this one through monitoring beside a host 3.11 through
	# usdt, each under its own heading, each as its own trace
	if [ "$v" = 3.14 ] && [ -z "${DELIVERY:-}" ]; then
		spin "$R" "$py" mx$v spinrun.py
		P14=$SPIN
		rm -f "$W/mh.go"
		"$HOSTPY" "$R$IN/spinrun.py" "$W/mh.go" > "$W/mh.out" 2>&1 &
		P11=$!
		wait_for ready "$W/mh.out"
		# and a pyenv build, the collector delivered into it by ptrace
		PYENV12=$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -1)
		P12=
		if [ -n "$PYENV12" ]; then
			rm -f "$W/mp.go"
			"$PYENV12" "$R$IN/spinrun.py" "$W/mp.go" > "$W/mp.out" 2>&1 &
			P12=$!
			wait_for ready "$W/mp.out"
		fi
		"$CTRACE" -l -p $P14 -p $P11 ${P12:+-p $P12} > "$W/mx.out" 2> "$W/mx.err" &
		CT=$!
		if wait_ready "$W/mx.err"; then
			touch "$R/tmp/mx$v.go" "$W/mh.go" "$W/mp.go"
			wait_for done "$W/mx$v.out" 60
			wait_for done "$W/mh.out" 60
			[ -z "$P12" ] || wait_for done "$W/mp.out" 60
			kill -INT $CT
			wait $CT
			if [ -n "$P12" ]; then
				awk -v h="pid $P12:" 'index($0, "pid ") == 1 { on = index($0, h) == 1 } on' "$W/mx.out" |
					$CMP funcs /dev/stdin "$R$IN" | grep -v spinrun > "$W/mx.12"
				"$PYENV12" -m trace -l "$R$IN/full.py" | $CMP funcs /dev/stdin "$R$IN" |
					grep -v full.py > "$W/mx.12r"
				same_lists "3.12 (pyenv, the ptrace delivery) as the third -p: as its trace" "$W/mx.12" "$W/mx.12r"
			else
				skip "a pyenv 3.12 as the third -p" "no ~/.pyenv/versions/3.12.*"
			fi
			awk -v h="pid $P14:" 'index($0, "pid ") == 1 { on = index($0, h) == 1 } on' "$W/mx.out" |
				$CMP funcs /dev/stdin "$IN" | grep -v spinrun > "$W/mx.14"
			chroot "$R" "$py" -m trace -l "$IN/full.py" | $CMP funcs /dev/stdin "$IN" |
				grep -v full.py > "$W/mx.14r"
			awk -v h="pid $P11:" 'index($0, "pid ") == 1 { on = index($0, h) == 1 } on' "$W/mx.out" |
				$CMP funcs /dev/stdin "$R$IN" | grep -v spinrun > "$W/mx.11"
			"$HOSTPY" -m trace -l "$R$IN/full.py" | $CMP funcs /dev/stdin "$R$IN" |
				grep -v full.py > "$W/mx.11r"
			{ diff "$W/mx.14" "$W/mx.14r"; diff "$W/mx.11" "$W/mx.11r"; } > "$W/mx.diff"
			[ -s "$W/mx.14r" ] && [ -s "$W/mx.11r" ] || echo "trace listed nothing" >> "$W/mx.diff"
			check "3.14 (monitoring) and 3.11 (usdt) by two -p: each as its trace" "$W/mx.diff"
		else
			attach_failed "3.14 and 3.11 by two -p" "$W/mx.err"
		fi
		rm -f "$R/tmp/mx$v.go" "$W/mh.go" "$W/mp.go"
		wait $P14 $P11 $P12
	fi

	# several -p of Pythons with no probes at all (pyenv, uv, python.org
	# builds): this interpreter with its stapsdt notes stripped; each one
	# through monitoring, as one -p is
	if [ "$v" = 3.14 ] && [ -z "${DELIVERY:-}" ]; then
		objcopy --remove-section .note.stapsdt "$R/usr/bin/$py" "$R/usr/local/bin/$py-nosdt"
		spin "$R" "/usr/local/bin/$py-nosdt" nA$v spinrun.py
		NA=$SPIN
		spin "$R" "/usr/local/bin/$py-nosdt" nB$v spinrun.py
		NB=$SPIN
		"$CTRACE" -l -p $NA -p $NB > "$W/nx.out" 2> "$W/nx.err" &
		CT=$!
		if wait_ready "$W/nx.err"; then
			touch "$R/tmp/nA$v.go" "$R/tmp/nB$v.go"
			wait_for done "$W/nA$v.out" 60
			wait_for done "$W/nB$v.out" 60
			kill -INT $CT
			wait $CT
			chroot "$R" "$py" -m trace -l "$IN/full.py" | grep -v full.py > "$W/nx.ref"
			for p in $NA $NB; do
				awk -v h="pid $p:" 'index($0, "pid ") == 1 { on = index($0, h) == 1 } on' "$W/nx.out" |
					grep -v spinrun > "$W/nx.$p"
				same_as_trace "3.14 without probes, two by -p: PID $p as its trace (monitoring)" \
					nx.$p funcs "$IN" "$W/nx.$p" "$W/nx.ref"
			done
		else
			attach_failed "3.14 without probes, two by -p" "$W/nx.err"
		fi
		rm -f "$R/tmp/nA$v.go" "$R/tmp/nB$v.go" "$R/usr/local/bin/$py-nosdt"
		wait $NA $NB
	fi

	# the main thread blocked in join(): a worker that runs Python takes
	# PEP 768's request; the ptrace delivery runs on the main thread, which
	# let the GIL go
	if true; then
		spin "$R" "$py" j$v joined.py
		t0=$(date +%s%N)
		timeout 20 "$CTRACE" --backend=monitoring ${DELIVERY:+--delivery=$DELIVERY} -c -d 0.5 -C "$W/j$v" -p $SPIN > /dev/null 2> "$W/j$v.err"
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		{ [ $ms -lt 3000 ] && grep -Eq "^ *[0-9]+: +n \+= 1" "$W/j$v/joined.cover"; } ||
			{ echo "took $ms ms"; cat "$W/j$v.err"; } > "$W/j$v.diff"
		check "$v monitoring${VIA:-}: main thread blocked in join(), attached within 3 s ($( [ -n "$pep" ] && echo through a worker || echo on the main thread directly))" "$W/j$v.diff"
		touch "$R/tmp/j$v.go"
		wait $SPIN
	fi

	# sys.monitoring's own: 3.12+
	case $v in 3.[89]|3.1[01]) return 0 ;; esac
	# every tool id taken: refused, and the target keeps running as it was
	spin "$R" "$py" a$v alltools.py
	"$CTRACE" --backend=monitoring ${DELIVERY:+--delivery=$DELIVERY} -l -p $SPIN > /dev/null 2> "$W/a$v.err"
	rc=$?
	[ $rc = 1 ] && [ "$(wc -l < "$W/a$v.err")" = 1 ] &&
		grep -q "has all six sys.monitoring tool ids taken" "$W/a$v.err" &&
		kill -0 $SPIN && ! ls "$R/tmp" | grep -q '^ctrace-bpf\.' &&
		ok "$v monitoring${VIA:-}: all six tool ids taken, refused in one line, nothing left" ||
		not_ok "$v monitoring${VIA:-}: all six tool ids taken, refused in one line, nothing left" "$W/a$v.err"
	touch "$R/tmp/a$v.go"
	wait $SPIN

	[ -n "$pep" ] || return 0
	# remote debugging switched off: refused, naming the switch
	spin "$R" "env PYTHON_DISABLE_REMOTE_DEBUG=1 $py" d$v spinrun.py
	"$CTRACE" --backend=monitoring ${DELIVERY:+--delivery=$DELIVERY} -l -p $SPIN > /dev/null 2> "$W/d$v.err"
	rc=$?
	[ $rc = 1 ] && grep -q "remote debugging disabled (PYTHON_DISABLE_REMOTE_DEBUG" "$W/d$v.err" &&
		ok "$v monitoring${VIA:-}: PYTHON_DISABLE_REMOTE_DEBUG refused by name" ||
		not_ok "$v monitoring${VIA:-}: PYTHON_DISABLE_REMOTE_DEBUG refused by name" "$W/d$v.err"
	kill $SPIN 2>/dev/null
	wait $SPIN 2>/dev/null
}

echo "# CPython 3.9 (Debian 11) in a chroot, the settrace collector asked for"
if make_root bullseye python3.9; then
	BACKEND=monitoring VIA=" (settrace, asked for)" monitoring "$ROOTS/bullseye" python3.9
fi

echo "# CPython 3.13 (Debian 13) in a chroot: the collector delivered by ptrace"
if make_root trixie python3.13; then
	monitoring "$ROOTS/trixie" python3.13
fi

echo "# CPython 3.14 and 3.15 (Debian unstable) in a chroot"
if make_root sid python3.14,python3.15,python3-pyflakes,python3-yaml; then
	R=$ROOTS/sid
	root_as_trace "$R" python3.15 -l funcs "3.15: --listfuncs identical (function__return alone)"
	root_as_trace "$R" python3.15 -T pairs "3.15: --trackcalls identical (frames from _Py_DebugOffsets)"
	root_as_trace "$R" python3.15 -l funcs "3.15: --listfuncs, names made again at one address" readdress.py
	root_as_trace "$R" python3.15 -T pairs "3.15: --trackcalls, names made again at one address" readdress.py
	root_as_trace "$R" python3.15 -T pairs "3.15: --trackcalls, callers named in every str kind" uninames.py
	"$CTRACE" --backend=usdt -c -- chroot "$R" python3.15 -c pass > /dev/null 2> "$W/15.err"
	rc=$?
	[ $rc = 1 ] && grep -q 'needs the python:line probe, which CPython 3.15' "$W/15.err" &&
		ok "3.15: --backend=usdt --count refused for want of the line probe" ||
		not_ok "3.15: --backend=usdt --count refused for want of the line probe" "$W/15.err"
	monitoring "$R" python3.14
	# the ptrace delivery forced where PEP 768 exists: the same reports
	DELIVERY=ptrace VIA=" (delivered by ptrace)" monitoring "$R" python3.14
	BACKEND=monitoring monitoring "$R" python3.15
fi

finish
