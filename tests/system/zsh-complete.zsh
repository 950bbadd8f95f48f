# zsh -f tests/system/zsh-complete.zsh DIR LINE: the words zsh's completion (with
# the functions in DIR first in fpath) offers for LINE, one a line. It runs
# an interactive zsh on a pseudo-terminal (zsh/zpty), types LINE and a
# tab, and prints what the completion functions hand to compadd.
zmodload zsh/zpty || exit 2
zpty z zsh -f -i || exit 2
zpty -w z "fpath=(${(q)1} \$fpath); PS1=; RPS1=; unsetopt beep"
zpty -w z 'autoload -Uz compinit && compinit -u -D'
zpty -w z "bindkey '^I' complete-word"
# A mark (typed in two pieces, so that its echo does not match) before
# and after completion; in between, each compadd prints what it adds.
zpty -w z '__cap_mark() { print -rn -- "<<CAP"">>"; }'
zpty -w z 'compprefuncs=(__cap_mark); comppostfuncs=(__cap_mark)'
zpty -w z 'compadd() { local -a __hits; builtin compadd -A __hits "$@"; (( $#__hits )) && print -rl -- $__hits; builtin compadd "$@"; }'
zpty -n -w z "$2"$'\t'
zpty -r z out '*<<CAP>>*<<CAP>>' || exit 2
out=${out#*'<<CAP>>'}
out=${out%'<<CAP>>'*}
print -rl -- ${(u)${(f)${out//$'\r'/}}}
zpty -d z
