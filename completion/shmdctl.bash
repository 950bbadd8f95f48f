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
	# bash splits COMP_WORDS at COMP_WORDBREAKS too, ':' and '=' among
	# them, but a name may hold a ':' (uid:1000/cam0): take the words
	# from the line, split at blanks only (names have none).
	local line=${COMP_LINE:0:COMP_POINT} words=() cur prev
	read -ra words <<<"$line"
	[[ -z $line || $line == *[[:space:]] ]] && words+=("")
	cur=${words[${#words[@]} - 1]}
	prev=${words[${#words[@]} - 2]}
	local commands="create wait ls info rm status orphans watch top write read"
	local i cmd= sock= operands=0 opts=

	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		case ${words[i]} in
		--socket) sock=${words[i+1]}; ((i++)) ;;
		--socket=*) sock=${words[i]#--socket=} ;;
		--mode|--lifetime|--key|--owner|--offset|--size|--older-than|--timeout|--interval|--page-size|--numa-node)
			((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${words[i]}; else ((operands++)); fi ;;
		esac
	done
	COMPREPLY=()
	case $prev in
	--socket)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	--lifetime)
		COMPREPLY=($(compgen -W "detach process persistent" -- "$cur")) ;;
	--mode|--key|--owner|--offset|--size|--older-than|--timeout|--interval|--page-size|--numa-node)
		;;
	*)
		if [[ $cur == --socket=* ]]; then
			COMPREPLY=($(compgen -f -- "${cur#--socket=}"))
		elif [[ -z $cmd ]]; then
			COMPREPLY=($(compgen -W "$commands --socket --help --version" -- "$cur"))
		else
			case $cmd in
			create) opts="--mode --lifetime --key --owner --exist-ok --huge-pages --page-size --locked --numa-node" ;;
			wait) opts="--timeout" ;;
			ls) opts="--json --attachers" ;;
			info) opts="--json" ;;
			status) opts="--json --prometheus" ;;
			orphans) opts="--json --older-than --remove" ;;
			watch) opts="--json" ;;
			top) opts="--interval" ;;
			read) opts="--offset --size" ;;
			esac
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "$opts" -- "$cur"))
			else
				# the NAME of the commands that take an existing segment
				case $cmd in
				info|rm|read|write)
					((operands == 0)) &&
						COMPREPLY=($(compgen -W "$(_shmdctl_names "$sock")" -- "$cur")) ;;
				esac
			fi
		fi ;;
	esac
	# Readline replaces only what follows the last word break of the word
	# (the "1000/c" of "uid:1000/c"): give it just that part.
	local wb=${COMP_WORDBREAKS//[[:space:]]/} pre=
	for ((i = ${#cur} - 1; i >= 0; i--)); do
		if [[ $wb == *"${cur:i:1}"* ]]; then
			pre=${cur:0:i+1}
			break
		fi
	done
	[[ -n $pre ]] && COMPREPLY=("${COMPREPLY[@]#"$pre"}")
	return 0
}
complete -F _shmdctl shmdctl
