#!/bin/bash
# shmdctl's completions against a real shmd: bash (completion/shmdctl.bash),
# zsh (completion/_shmdctl) and fish (completion/shmdctl.fish) complete
# commands, options, option values and segment names from `shmdctl ls`,
# uid:N/ and gid:N/ ones included, and each offers every command and
# option of shmdctl's own table (`shmdctl --help`).
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
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
uid=$(id -u) gid=$(id -g)
names="comp.one comp.two uid:$uid/comp.cam gid:$gid/comp.grp"
for n in $names; do
	shmdctl --socket "$sock" create "$n" 1K --lifetime persistent >/dev/null || exit 1
done

passed=0 failed=0
# check WHAT GOT WANT: the same words, in any order
check()
{
	local got want
	got=$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"$3" | sed '/^$/d' | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL: $1: got '$got', want '$want'"
		failed=$((failed + 1))
	fi
}
# check_has WHAT GOT WORDS...: every word is among GOT
check_has()
{
	local what=$1 got=" $(tr '\n' ' ' <<<"$2") " w missing=
	shift 2
	for w in "$@"; do
		[[ $got == *" $w "* ]] || missing="$missing $w"
	done
	if [ -z "$missing" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL: $what: lacks$missing (offered:$got)"
		failed=$((failed + 1))
	fi
}

# shmdctl's own table: its commands, each one's options, the global ones.
usage=$(shmdctl --help)
commands=$(sed -n 's/^  shmdctl \([a-z]*\).*/\1/p' <<<"$usage")
global="$(head -n 1 <<<"$usage" | sed 's/COMMAND.*//' | grep -o -- '--[a-z-]*') --help --version"
options_of() { grep "^  shmdctl $1 " <<<"$usage" | grep -o -- '--[a-z-]*'; }
[ "$(wc -w <<<"$commands")" -ge 10 ] || { echo "FAIL: no command table in shmdctl --help"; exit 1; }

# ---------------------------------------------------------------- bash
# What bash would complete LINE (the cursor at its end) to: COMP_LINE,
# COMP_POINT, and COMP_WORDS split as bash splits them, at blanks and at
# the characters of COMP_WORDBREAKS (':', '=', '@', ...), which make words
# of their own; then each reply replaces what follows the word's last break
# character, as readline does. The completed words, one a line.
. "$top/completion/shmdctl.bash" || { echo "FAIL: bash cannot load it"; exit 1; }
wb=${COMP_WORDBREAKS//[[:space:]]/}
bash_complete()
{
	local line=$1 w c kind prev_kind tok last i keep
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMP_WORDS=()
	for w in $line; do
		tok= prev_kind=
		for ((i = 0; i < ${#w}; i++)); do
			c=${w:i:1}
			[[ $wb == *"$c"* ]] && kind=break || kind=word
			if [[ -n $tok && $kind != "$prev_kind" ]]; then
				COMP_WORDS+=("$tok")
				tok=
			fi
			tok+=$c prev_kind=$kind
		done
		COMP_WORDS+=("$tok")
	done
	last=${line##*[[:space:]]}
	[[ -z $last ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_shmdctl shmdctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	keep=
	for ((i = ${#last} - 1; i >= 0; i--)); do
		if [[ $wb == *"${last:i:1}"* ]]; then
			keep=${last:0:i+1}
			break
		fi
	done
	for w in "${COMPREPLY[@]}"; do
		printf '%s\n' "$keep$w"
	done
}
expect() { check "bash: '$2'" "$(bash_complete "$2")" "$1"; }
expect "info" "shmdctl in"
expect "create" "shmdctl --socket $sock cr"
expect "wait watch" "shmdctl wa"
expect "--lifetime" "shmdctl create x 1K --li"
expect "process persistent" "shmdctl create x 1K --lifetime p"
expect "--exist-ok" "shmdctl create x 1K --ex"
expect "--timeout" "shmdctl wait x --t"
expect "comp.one comp.two" "shmdctl --socket $sock info comp."
expect "comp.two" "shmdctl --socket=$sock rm comp.t"
expect "" "shmdctl --socket $sock rm comp.one c"
expect "--offset" "shmdctl read comp.one --o"
expect "$names" "shmdctl --socket $sock info "
expect "uid:$uid/comp.cam" "shmdctl --socket $sock info u"
expect "uid:$uid/comp.cam" "shmdctl --socket $sock info uid:"
expect "uid:$uid/comp.cam" "shmdctl --socket $sock rm uid:$uid/c"
expect "gid:$gid/comp.grp" "shmdctl --socket=$sock read gid:$gid/"
expect "--socket=$sock" "shmdctl --socket=$dir/shmd.so"
check_has "bash: commands" "$(bash_complete "shmdctl ")" $commands
check_has "bash: global options" "$(bash_complete "shmdctl -")" $global
for c in $commands; do
	check "bash: options of $c" "$(bash_complete "shmdctl $c --")" "$(options_of "$c")"
done

# ---------------------------------------------------------------- zsh
# zsh: completion run for real on a pseudo-terminal (tests/system/zsh-complete.zsh).
if command -v zsh >/dev/null 2>&1; then
	zexpect() { check "zsh: '$2'" "$(timeout 30 zsh -f "$top/tests/system/zsh-complete.zsh" "$top/completion" "$2")" "$1"; }
	zexpect "$commands" "shmdctl "
	zexpect "comp.one comp.two" "shmdctl --socket $sock info comp."
	zexpect "uid:$uid/comp.cam" "shmdctl --socket=$sock rm uid:"
	zexpect "gid:$gid/comp.grp" "shmdctl --socket $sock read gid:$gid/c"
	zexpect "process persistent" "shmdctl create x 1K --lifetime p"
	check_has "zsh: global options" "$(timeout 30 zsh -f "$top/tests/system/zsh-complete.zsh" "$top/completion" "shmdctl -")" $global
	for c in $commands; do
		check_has "zsh: options of $c" "$(timeout 30 zsh -f "$top/tests/system/zsh-complete.zsh" "$top/completion" "shmdctl $c --")" $(options_of "$c")
	done
else
	echo "zsh is not installed: its completion is not tested (scripts/deps.sh --test installs it)"
fi

# ---------------------------------------------------------------- fish
# fish: complete -C prints what it would offer for a command line.
if command -v fish >/dev/null 2>&1; then
	fish_complete() { fish --no-config -c "source '$top/completion/shmdctl.fish'; and complete -C '$1'" | cut -f 1; }
	fexpect() { check "fish: '$2'" "$(fish_complete "$2")" "$1"; }
	fexpect "$commands" "shmdctl "
	fexpect "comp.one comp.two" "shmdctl --socket $sock info comp."
	fexpect "uid:$uid/comp.cam" "shmdctl --socket=$sock rm uid:"
	fexpect "gid:$gid/comp.grp" "shmdctl --socket $sock read gid:$gid/c"
	fexpect "" "shmdctl --socket $sock read comp.one c"
	fexpect "process persistent" "shmdctl create x 1K --lifetime p"
	check_has "fish: global options" "$(fish_complete "shmdctl -")" $global
	for c in $commands; do
		check_has "fish: options of $c" "$(fish_complete "shmdctl $c x --")" $(options_of "$c")
	done
else
	echo "fish is not installed: its completion is not tested (scripts/deps.sh --test installs it)"
fi

for n in $names; do
	shmdctl --socket "$sock" rm "$n" >/dev/null
done
echo "completion: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
