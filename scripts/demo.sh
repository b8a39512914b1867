#!/bin/sh
# make demo: start the bundled app, attach by PID, print its reports.
set -eu
PYTHON=${PYTHON:-/usr/bin/python3.11}
CTRACE=${CTRACE:?}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d /tmp/ctrace-demo.XXXXXX)

"$PYTHON" "$HERE/demo_app.py" > "$OUT/app.log" &
APP=$!
trap 'kill $APP 2>/dev/null' EXIT
while ! grep -q ready "$OUT/app.log"; do sleep 0.1; done

echo "== ctrace-bpf --count --missing --summary -d 2 -p $APP"
"$CTRACE" --count --missing --summary -d 2 -C "$OUT" -p "$APP"
echo
echo "== $OUT/demo_app.cover (counts since attach; >>>>>> = never ran since then)"
sed -n '1,40p' "$OUT/demo_app.cover"
echo
echo "== ctrace-bpf --listfuncs -d 1 -p $APP"
"$CTRACE" --listfuncs -d 1 -p "$APP" | grep demo_app
echo
echo "== ctrace-bpf --trackcalls -d 1 -p $APP"
"$CTRACE" --trackcalls -d 1 -p "$APP" | sed -n '/demo_app.py \*\*\*/,/^$/p'
echo
echo "The target kept running the whole time and is untouched: PID $APP."
