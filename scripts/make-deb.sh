#!/bin/sh
# make-deb.sh BINARY OUTDIR: a Debian package of ctrace-bpf with dpkg-deb:
# the binary, its man page and bash completion, and dependencies on the
# runtime libraries it links.
set -eu
bin=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
version=$("$bin" --version | sed -n 's/^ctrace-bpf //p')
arch=$(dpkg --print-architecture)
root=$out/deb-root
rm -rf "$root"
install -D -m 0755 "$bin" "$root/usr/sbin/ctrace-bpf"
install -D -m 0644 "$here/ctrace-bpf.8" "$root/usr/share/man/man8/ctrace-bpf.8"
gzip -9n "$root/usr/share/man/man8/ctrace-bpf.8"
install -D -m 0644 "$here/ctrace-bpf.bash-completion" \
	"$root/usr/share/bash-completion/completions/ctrace-bpf"
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: ctrace-bpf
Version: $version
Architecture: $arch
Maintainer: ctrace-bpf developers <root@localhost>
Section: devel
Priority: optional
Depends: libbpf1, libelf1, zlib1g, libsqlite3-0, libpython3.11
Description: python -m trace's reports for running CPython processes
 Counts lines, functions and calls of a running CPython process with BPF
 programs on the interpreter's USDT probes, or on CPython 3.14+ with a
 sys.monitoring collector put in through PEP 768, and prints the reports
 python -m trace prints, without restarting the process.
CONTROL
deb=$out/ctrace-bpf_${version}_$arch.deb
dpkg-deb --root-owner-group --build "$root" "$deb" > /dev/null
rm -rf "$root"
echo "$deb"
