#!/bin/sh
# make-root.sh SUITE DIR [PACKAGE,...]: a minimal Debian root for the version
# tests, made once and kept (build/ is not in git).  debootstrap uses its
# default mirror.
set -eu
suite=$1
dir=$2
pkgs=${3:-}
if [ -f "$dir/.complete" ]; then
	exit 0
fi
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
echo "make-root.sh: building the $suite root in $dir (about a minute)" >&2
debootstrap --variant=minbase ${pkgs:+--include=$pkgs} "$suite" "$dir" > "$dir.log" 2>&1 ||
	{ tail -20 "$dir.log" >&2; exit 1; }
touch "$dir/.complete"
