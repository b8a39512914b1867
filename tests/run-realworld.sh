#!/bin/bash
# The real-world tier: third-party programs from Debian's packages (black,
# pyflakes, docutils, pygments, PyYAML, Jinja2), each doing real work on
# real input (tests/realworld/drive.py), under ctrace-bpf and under the same
# interpreter's python -m trace, launched, from a venv, and attached by PID.
# What is compared is the packages' own files: .cover files and summary
# rows, --listfuncs and --trackcalls.  Both tools run with one hash seed:
# set and dict orders, and so some line counts, follow it.
. "$(dirname "$0")/lib.sh" realworld
RW=$HERE/realworld
# where the packages compared are installed; a venv of its own moves them
SITE=/usr/lib/python3/dist-packages
export PYTHONHASHSEED=0
# which setups to run; all by default
TIERS=${RW_TIERS:-launch venv ownvenv pyenv pid roots}
want() { case " $TIERS " in *" $1 "*) return 0 ;; esac; return 1; }

need_root
cd "$W" || exit 1

# each package, the input it works on, and the directories that are its own
WORK=(
	"black $HERE/corpus/prog.py black blib2to3"
	"pyflakes $HERE/corpus pyflakes"
	"docutils $RW/input.rst docutils"
	"pygments $HERE/../user/main.c pygments"
	"yaml $RW/input.yaml yaml"
	"jinja2 $RW/input.html.j2 jinja2 markupsafe"
)
# trace --missing compiles every file that ran as Python, and a Jinja2
# template's code names the template: trace dies of its SyntaxError
count_flags() { [ "$1" = jinja2 ] && echo "-c -s" || echo "-c -m -s"; }

# own_covers DIR PKGDIR...: the .cover files of those packages, by name
own_covers() {
	local dir=$1 p
	shift
	for p in "$@"; do
		ls "$dir" 2>/dev/null | grep -E "^$p(\\.|$)" | sed "s|^|$dir/|"
	done
}

# own_rows FILE PKGDIR...: summary rows and listfuncs lines of those packages
own_lines() {
	local f=$1 p pat=
	shift
	for p in "$@"; do pat="$pat|$SITE/$p/"; done
	grep -E "${pat#|}" "$f" | sort
}

# compare_launched TAG PY PKG INPUT DIRS...: every mode in MODES, both tools.
# PY may be several words (chroot ROOT python3.9); DRIVE is drive.py as the
# target sees it, and TROOT the root trace's files are written in.
MODES="count funcs calls"
DRIVE=$RW/drive.py
TROOT=
compare_launched() {
	local tag=$1 py=$2 pkg=$3 input=$4
	shift 4
	local prog=("$DRIVE" "$pkg" "$input") tc=$W/$tag.t

	# trace writes inside the root: a relative directory, from its /
	[ -n "$TROOT" ] && tc=tmp/ctrace-rw/$tag.t
	case " $MODES " in *" count "*)
	"$CTRACE" $(count_flags "$pkg") -C "$W/$tag.c" -- $py "${prog[@]}" > "$W/$tag.c.out" 2> "$W/$tag.c.err"
	(cd "${TROOT:-.}" && $py -m trace $(count_flags "$pkg") -C "$tc" "${prog[@]}") > "$W/$tag.t.out" 2>&1
	[ -n "$TROOT" ] && tc=$TROOT/$tc
	own_lines "$W/$tag.c.out" "$@" > "$W/$tag.c.rows"
	own_lines "$W/$tag.t.out" "$@" > "$W/$tag.t.rows"
	same_lists "$tag: summary rows of $pkg identical" "$W/$tag.c.rows" "$W/$tag.t.rows"
	: > "$W/$tag.cov.diff"
	for f in $(own_covers "$tc" "$@"); do
		diff "$W/$tag.c/$(basename "$f")" "$f" >> "$W/$tag.cov.diff" 2>&1
	done
	[ -n "$(own_covers "$tc" "$@")" ] || echo "trace wrote no covers for $pkg" >> "$W/$tag.cov.diff"
	check "$tag: $pkg's .cover files identical" "$W/$tag.cov.diff"
	esac

	case " $MODES " in *" funcs "*)
	"$CTRACE" -l -- $py "${prog[@]}" > "$W/$tag.l.out" 2> "$W/$tag.l.err"
	$py -m trace -l "${prog[@]}" > "$W/$tag.lt.out" 2>&1
	own_lines "$W/$tag.l.out" "$@" > "$W/$tag.l.f"
	own_lines "$W/$tag.lt.out" "$@" > "$W/$tag.lt.f"
	same_lists "$tag: --listfuncs of $pkg identical, Class.name included" "$W/$tag.l.f" "$W/$tag.lt.f"
	esac

	case " $MODES " in *" calls "*)
	"$CTRACE" -T -- $py "${prog[@]}" > "$W/$tag.T.out" 2> "$W/$tag.T.err"
	$py -m trace -T "${prog[@]}" > "$W/$tag.Tt.out" 2>&1
	: > "$W/$tag.T.p"
	: > "$W/$tag.Tt.p"
	for p in "$@"; do
		$CMP pairs "$W/$tag.T.out" "$SITE/$p/" >> "$W/$tag.T.p"
		$CMP pairs "$W/$tag.Tt.out" "$SITE/$p/" >> "$W/$tag.Tt.p"
	done
	sort -u -o "$W/$tag.T.p" "$W/$tag.T.p"
	sort -u -o "$W/$tag.Tt.p" "$W/$tag.Tt.p"
	same_lists "$tag: --trackcalls within $pkg identical, Class.name included" "$W/$tag.T.p" "$W/$tag.Tt.p"
	esac
}

# compare_by_pid TAG PKG INPUT DIRS...: attached after the imports and a
# first round; each line counts what trace counts for the whole run less
# what it counts for the part before the attach
compare_by_pid() {
	local tag=$1 pkg=$2 input=$3
	shift 3
	local prog=("$RW/drive.py" "$pkg" "$input")

	hold "$tag" "$PYTHON" "${prog[@]}" --wait
	if trace_held "$tag" "$W/$tag.p.out" -c -C "$W/$tag.p"; then
		printf 'go\nbye\n' | "$PYTHON" -m trace -c -C "$W/$tag.full" "${prog[@]}" --wait > /dev/null 2>&1
		"$PYTHON" -m trace -c -C "$W/$tag.before" "${prog[@]}" --before > /dev/null 2>&1
		mkdir -p "$W/$tag.mine" "$W/$tag.fullmine"
		for f in $(own_covers "$W/$tag.full" "$@"); do cp "$f" "$W/$tag.fullmine/"; done
		for f in $(own_covers "$W/$tag.p" "$@"); do cp "$f" "$W/$tag.mine/"; done
		$CMP pidcheck "$W/$tag.mine" - "$W/$tag.fullmine" "$W/$tag.before" > "$W/$tag.pid.diff"
		[ -n "$(ls "$W/$tag.fullmine")" ] || echo "trace wrote no covers for $pkg" >> "$W/$tag.pid.diff"
		check "$tag: by PID, $pkg's counts are trace's less those before the attach" "$W/$tag.pid.diff"
	fi
	stop_bg 7
}

# each_work PREFIX HOW ARGS... -- ENTRY...: HOW PREFIX.PKG ARGS... PKG INPUT DIRS...
# for each WORK entry given
each_work() {
	local prefix=$1 how=$2 args=() w
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	for w in "$@"; do
		set -- $w
		"$how" "$prefix.$1" "${args[@]}" "$@"
	done
}

if want launch; then
	echo "# launched, CPython $("$PYTHON" -c 'import platform; print(platform.python_version())')"
	each_work launch compare_launched "$PYTHON" -- "${WORK[@]}"
fi

if want venv; then
	echo "# from a venv that sees the system's packages"
	"$PYTHON" -m venv --without-pip --system-site-packages "$W/venv"
	each_work venv compare_launched "$W/venv/bin/python" -- "${WORK[@]:0:2}"
fi

if want ownvenv; then
	echo "# from a venv of its own, the packages in its site-packages"
	"$PYTHON" -m venv --without-pip "$W/own"
	OWN=$W/own/lib/python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')/site-packages
	for p in pyflakes yaml jinja2 markupsafe; do cp -r "$SITE/$p" "$OWN/"; done
	SITE=$OWN
	each_work ownvenv compare_launched "$W/own/bin/python" -- "${WORK[@]:1:1}" "${WORK[@]:4:2}"
	SITE=/usr/lib/python3/dist-packages
fi

if want pyenv; then
	# no probes there: the collector, delivered by ptrace (settrace on
	# 3.8-3.11); pure-Python packages, in a venv each pyenv makes
	for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
		py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | tail -1)
		echo "# pyenv CPython $v, from a venv of its own"
		if [ -z "$py" ]; then
			skip "pyenv $v's venv" "no ~/.pyenv/versions/$v.*"
			continue
		fi
		"$py" -m venv --without-pip "$W/pv$v"
		OWN=$W/pv$v/lib/python$v/site-packages
		for p in pyflakes yaml; do cp -r "/usr/lib/python3/dist-packages/$p" "$OWN/"; done
		SITE=$OWN
		each_work pyenv$v compare_launched "$W/pv$v/bin/python" -- "${WORK[@]:1:1}" "${WORK[@]:4:1}"
		SITE=/usr/lib/python3/dist-packages
	done
fi

if want pid; then
	echo "# attached by PID"
	each_work pid compare_by_pid -- "${WORK[@]}"
fi

# in_root SUITE PY MODES: pyflakes and PyYAML inside a Debian root
in_root() {
	local R=$ROOTS/$1 py=$2
	if ! sh "$HERE/../scripts/make-root.sh" "$1" "$R" "$3"; then
		skip "pyflakes and PyYAML in the $1 root" "debootstrap $1 with $3 failed (its output is above)"
		return
	fi
	rm -rf "${R:?}/tmp/ctrace-rw"
	mkdir -p "$R/tmp/ctrace-rw"
	cp -r "$RW"/* "$HERE/corpus" "$R/tmp/ctrace-rw/"
	DRIVE=/tmp/ctrace-rw/drive.py TROOT=$R MODES=$4
	each_work "$py" compare_launched "chroot $R $py" -- \
		"pyflakes /tmp/ctrace-rw/corpus pyflakes" \
		"yaml /tmp/ctrace-rw/input.yaml yaml"
	DRIVE=$RW/drive.py TROOT= MODES="count funcs calls"
}

if want roots; then
	echo "# CPython 3.9 (Debian 11) in a chroot"
	in_root bullseye python3.9 python3.9,python3-pyflakes,python3-yaml "count funcs calls"
	echo "# CPython 3.15 (Debian unstable) in a chroot: no line probe, so --count by the monitoring backend"
	in_root sid python3.15 python3.14,python3.15,python3-pyflakes,python3-yaml "count funcs calls"
	echo "# CPython 3.14 (Debian unstable) in a chroot: no probes, every mode by the monitoring backend"
	in_root sid python3.14 python3.14,python3.15,python3-pyflakes,python3-yaml "count funcs calls"
fi

finish
