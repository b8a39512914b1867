#!/bin/sh
# make-root.sh SUITE DIR [PACKAGE,...]: a minimal Debian root for the version
# tests, made once and kept (build/ is not in git).  debootstrap uses its
# default mirror.
set -eu
suite=$1
dir=$2
pkgs=${3:-}
if [ -f "$dir/.complete" ]; then
	# a root built for another test may lack packages this one needs
	missing=
	for p in $(echo "$pkgs" | tr , ' '); do
		chroot "$dir" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	echo "make-root.sh: adding$missing to $dir" >&2
	# a snapshot mirror's Release files may be past their Valid-Until
	{ chroot "$dir" apt-get -o Acquire::Check-Valid-Until=false update &&
	  chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends $missing; } > "$dir.log" 2>&1 ||
		{ tail -20 "$dir.log" >&2; exit 1; }
	exit 0
fi
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
echo "make-root.sh: building the $suite root in $dir (about a minute)" >&2
debootstrap --variant=minbase ${pkgs:+--include=$pkgs} "$suite" "$dir" > "$dir.log" 2>&1 ||
	{ tail -20 "$dir.log" >&2; exit 1; }
touch "$dir/.complete"
