#!/bin/sh
# embed.sh NAME FILE: print FILE as a C string constant called NAME.
set -eu
name=$1
file=$2
printf 'static const char %s[] = {\n' "$name"
od -An -v -tx1 "$file" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^/\t/'
printf '\t0x00\n};\n'
