#!/bin/bash
# The compare-with-trace cases kept as data in tests/cases/*.cases (see
# tests/cases/README): each program under both tools, its reports compared.
. "$(dirname "$0")/lib.sh" cases
need_root
cd "$W" || exit 1

# run_case: the fields read so far, as one test
run_case() {
	local tag=case$((++N)) e
	[ -n "$NAME" ] || return 0
	if [ -n "$REQUIRES" ] && ! sh -c "$REQUIRES" > /dev/null 2>&1; then
		skip "$NAME" "not met: $REQUIRES"
		return 0
	fi
	set -- $RUN
	local mode=() prog
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do mode+=("$1"); shift; done
	prog=$CORPUS/$1
	shift
	(cd "$CORPUS" && "$CTRACE" "${mode[@]}" -- "$PYTHON" "$prog" "$@") \
		> "$W/$tag.out" 2> "$W/$tag.err" < /dev/null
	(cd "$CORPUS" && "$PYTHON" -m trace "${mode[@]}" "$prog" "$@") \
		> "$W/$tag.ref" 2> /dev/null < /dev/null
	compared "$tag" "$KIND" "${DIR:-$CORPUS}" "$W/$tag.out" "$W/$tag.ref"
	while IFS= read -r e; do
		[ -z "$e" ] || grep -qF -- "$e" "$W/$tag.r" ||
			echo "trace's output holds no '$e'" >> "$W/$tag.diff"
	done <<< "$EXPECT"
	check "$NAME" "$W/$tag.diff"
}

N=0
for f in "$HERE"/cases/*.cases; do
	echo "# $(basename "$f")"
	NAME= RUN= KIND= DIR= EXPECT= REQUIRES=
	while IFS= read -r line || [ -n "$line" ]; do
		key=${line%% *}
		val=${line#"$key"}
		val=${val# }
		case $key in
		'') run_case; NAME= RUN= KIND= DIR= EXPECT= REQUIRES= ;;
		NAME|RUN|KIND|DIR|REQUIRES) printf -v "$key" '%s' "$val" ;;
		EXPECT) EXPECT+=$val$'\n' ;;
		\#*) ;;
		*) echo "$f: unknown field '$key'" >&2; exit 2 ;;
		esac
	done < "$f"
	run_case
done
finish
