#!/bin/bash
# Other CPythons, from Debian roots made with debootstrap and kept in
# build/roots: each target runs inside its root (chroot) and is traced from
# the host; the reference is that interpreter's own python -m trace, run in
# the same root now.
set -u

CTRACE=${CTRACE:?}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOTS=${ROOTS:-$HERE/../build/roots}
HOSTPY=${PYTHON:-/usr/bin/python3.11}
CMP="$HOSTPY $HERE/compare.py"
W=$(mktemp -d /tmp/ctrace-roots.XXXXXX)
IN=/tmp/ctrace-corpus	# where the corpus sits inside each root
. "$HERE/lib.sh"
trap scratch_cleanup EXIT
cd "$W" || exit 1

# make_root SUITE PACKAGES: build once, then reuse; a failure fails the run
make_root() {
	if ! sh "$HERE/../scripts/make-root.sh" "$1" "$ROOTS/$1" "$2"; then
		not_ok "debootstrap $1"
		return 1
	fi
	rm -rf "${ROOTS:?}/$1$IN"
	cp -r "$HERE/corpus" "$ROOTS/$1$IN"
}

# same_as_trace ROOT PY MODE KIND NAME [PROG]: one mode, both tools, compared
same_as_trace() {
	local root=$1 py=$2 mode=$3 kind=$4 name=$5 prog=${6:-prog.py}
	local tag=$W/$(basename "$root").$py$mode.${kind} at=$IN main=

	# --trace names files by base name: the corpus is listed from the host
	if [ "$kind" = trace ]; then
		at=$root$IN
		main=${prog%.py}
	fi

	# the program's own output goes elsewhere: sharing our stdout, its
	# writes would land between ours at any byte
	"$CTRACE" $mode -- chroot "$root" sh -c 'exec "$0" "$@" > /dev/null' \
		"$py" "$IN/$prog" > "$tag.ours" 2> "$tag.err"
	chroot "$root" "$py" -m trace $mode "$IN/$prog" > "$tag.ref"
	$CMP $kind "$tag.ours" "$at" $main > "$tag.o"
	$CMP $kind "$tag.ref" "$at" $main > "$tag.r"
	diff "$tag.o" "$tag.r" > "$tag.diff"
	[ -s "$tag.r" ] || echo "trace printed nothing to compare" >> "$tag.diff"
	check "$name" "$tag.diff"
}

echo "# CPython 3.9 (Debian 11) in a chroot"
if make_root bullseye python3.9,python3-pyflakes,python3-yaml; then
	R=$ROOTS/bullseye
	rm -rf "$R/tmp/c9" "$W/c9"
	"$CTRACE" -c -m -s -C "$W/c9" -- chroot "$R" python3.9 "$IN/prog.py" > "$W/c9.out" 2> "$W/c9.err"
	chroot "$R" python3.9 -m trace -c -m -s -C /tmp/c9 "$IN/prog.py" > "$W/t9.out"
	grep -q 'CPython 3\.9' "$W/c9.err" || echo "no version in the Tracing line" > "$W/v9.diff"
	check "3.9: version read from the binary" "$W/v9.diff"
	$CMP summary "$W/c9.out" "$IN" > "$W/c9.s"
	$CMP summary "$W/t9.out" "$IN" > "$W/t9.s"
	diff "$W/c9.s" "$W/t9.s" > "$W/s9.diff"
	[ -s "$W/t9.s" ] || echo "no summary rows" >> "$W/s9.diff"
	check "3.9: --count --missing --summary rows identical" "$W/s9.diff"
	compare_covers "3.9: cover files identical" "$W/c9" "$R/tmp/c9"
	same_as_trace "$R" python3.9 -l funcs "3.9: --listfuncs identical"
	same_as_trace "$R" python3.9 -T pairs "3.9: --trackcalls pairs identical"
	same_as_trace "$R" python3.9 -t trace "3.9: --trace identical" serial.py

	# its own mount namespace, reached through unshare and chroot
	"$CTRACE" -l -- unshare -m chroot "$R" python3.9 "$IN/prog.py" > "$W/u9.out" 2> "$W/u9.err"
	$CMP funcs "$W/u9.out" "$IN" > "$W/u9.f"
	diff "$W/u9.f" "$W/bullseye.python3.9-l.funcs.r" > "$W/u9.diff"
	check "3.9 in its own mount namespace (unshare -m): --listfuncs identical" "$W/u9.diff"
	same_as_trace "$R" python3.9 -l funcs "3.9: --listfuncs Class.name from the live objects" names.py
	same_as_trace "$R" python3.9 -T pairs "3.9: --trackcalls Class.name from the live objects" names.py

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

# refused_on ROOT PY: modes needing function or line probes, refused with why
refused_on() {
	"$CTRACE" -l -- chroot "$1" "$2" -c pass > /dev/null 2> "$W/$2.err"
	rc=$?
	[ $rc = 1 ] && [ "$(wc -l < "$W/$2.err")" = 1 ] &&
		grep -q "^ctrace-bpf: --listfuncs needs python:function__return, but CPython ${2#python} .* has no function__entry, function__return or line probes: CPython removed them in 3.12 (PEP 669); it still offers the gc, import and audit probes" "$W/$2.err" &&
		ok "${2#python}: refused, naming the removed probes and what is left" ||
		not_ok "${2#python}: refused with the reason" "$W/$2.err"
}

echo "# CPython 3.13 (Debian 13) in a chroot"
if make_root trixie python3.13; then
	refused_on "$ROOTS/trixie" python3.13
fi

echo "# CPython 3.14 and 3.15 (Debian unstable) in a chroot"
if make_root sid python3.14,python3.15,python3-pyflakes,python3-yaml; then
	R=$ROOTS/sid
	refused_on "$R" python3.14
	same_as_trace "$R" python3.15 -l funcs "3.15: --listfuncs identical (function__return alone)"
	same_as_trace "$R" python3.15 -T pairs "3.15: --trackcalls identical (frames from _Py_DebugOffsets)"
	for mode in -c -t; do
		"$CTRACE" $mode -- chroot "$R" python3.15 -c pass > /dev/null 2> "$W/15.err"
		rc=$?
		[ $rc = 1 ] && grep -q 'needs the python:line probe, which CPython 3.15' "$W/15.err" &&
			ok "3.15: $mode refused for want of the line probe" ||
			not_ok "3.15: $mode refused for want of the line probe" "$W/15.err"
	done
fi

finish
