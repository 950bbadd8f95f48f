# bash completion for shmdctl(1): commands, their options, and the names
# of the segments you may open (from `shmdctl ls`).

# The segment names shmd lists to this user (--socket $1 when given).
_shmdctl_names()
{
	local sock=()
	[[ -n $1 ]] && sock=(--socket "$1")
	shmdctl "${sock[@]}" ls 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_shmdctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local commands="create wait ls info rm status orphans watch write read"
	local i cmd= sock= operands=0 opts=

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--socket) sock=${COMP_WORDS[i+1]}; ((i++)) ;;
		--socket=*) sock=${COMP_WORDS[i]#--socket=} ;;
		--mode|--lifetime|--key|--owner|--offset|--size|--older-than|--timeout)
			((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; else ((operands++)); fi ;;
		esac
	done
	case $prev in
	--socket)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--lifetime)
		COMPREPLY=($(compgen -W "detach process persistent" -- "$cur")); return ;;
	--mode|--key|--owner|--offset|--size|--older-than|--timeout)
		return ;;
	esac
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --socket --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	create) opts="--mode --lifetime --key --owner --exist-ok" ;;
	wait) opts="--timeout" ;;
	ls) opts="--json --attachers" ;;
	info) opts="--json" ;;
	status) opts="--json --prometheus" ;;
	orphans) opts="--json --older-than --remove" ;;
	watch) opts="--json" ;;
	read) opts="--offset --size" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# the NAME operand of the commands that take an existing segment
	case $cmd in
	info|rm|read|write)
		((operands == 0)) &&
			COMPREPLY=($(compgen -W "$(_shmdctl_names "$sock")" -- "$cur")) ;;
	esac
}
complete -F _shmdctl shmdctl
