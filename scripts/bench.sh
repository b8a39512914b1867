#!/bin/sh
# make bench: see scripts/bench.py.  Not part of make test: timings are noisy.
set -eu
exec "${PYTHON:-/usr/bin/python3.11}" "$(dirname "$0")/bench.py"
