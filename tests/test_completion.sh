#!/bin/bash
# shmdctl's bash completion (completion/shmdctl.bash) against a real shmd:
# commands, options, option values, and segment names from `shmdctl ls`.
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TOP_BUILDDIR:-$top/build}
dir=$(mktemp -d)
sock=$dir/shmd.sock
"$build/daemon/shmd" --config /dev/null --socket "$sock" --state-dir "$dir/state" \
	--key-base=0x7e5f4000 --key-count=16 2>"$dir/log" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$dir"' EXIT
export PATH="$build/client:$PATH"
for i in $(seq 500); do
	shmdctl --socket "$sock" status >/dev/null 2>&1 && break
	sleep 0.02
done
shmdctl --socket "$sock" create comp.one 1K --lifetime persistent >/dev/null || exit 1
shmdctl --socket "$sock" create comp.two 1K --lifetime persistent >/dev/null || exit 1

. "$top/completion/shmdctl.bash"
passed=0 failed=0
# complete WORDS...: COMPREPLY for the last word
complete_words()
{
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_shmdctl
	echo "${COMPREPLY[*]}"
}
expect()
{
	local want=$1; shift
	local got
	got=$(complete_words "$@")
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL: '$*': got '$got', want '$want'"
		failed=$((failed + 1))
	fi
}
expect "info" shmdctl in
expect "create" shmdctl --socket "$sock" cr
expect "wait watch" shmdctl wa
expect "--lifetime" shmdctl create x 1K --li
expect "process persistent" shmdctl create x 1K --lifetime p
expect "--exist-ok" shmdctl create x 1K --ex
expect "--timeout" shmdctl wait x --t
expect "comp.one comp.two" shmdctl --socket "$sock" info comp.
expect "comp.two" shmdctl --socket="$sock" rm comp.t
expect "" shmdctl --socket "$sock" rm comp.one c
expect "--offset" shmdctl read comp.one --o
shmdctl --socket "$sock" rm comp.one >/dev/null
shmdctl --socket "$sock" rm comp.two >/dev/null
echo "completion: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
