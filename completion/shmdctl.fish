# fish completion for shmdctl(1): commands, their options, and the names of
# the segments you may open (from `shmdctl ls`).

set -l commands create wait ls info rm status orphans watch top write read

# The --socket given on the command line, if any.
function __shmdctl_socket
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --socket
                set -l j (math $i + 1)
                set -q tokens[$j]; and echo -- $tokens[$j]
            case '--socket=*'
                string replace -- --socket= '' $tokens[$i]
        end
    end
end

# The segment names shmd lists to this user.
function __shmdctl_names
    set -l sock (__shmdctl_socket)
    set -l args
    test -n "$sock"; and set args --socket $sock
    shmdctl $args ls 2>/dev/null | awk 'NR > 1 { print $1 }'
end

# Whether the command (one of $argv) is given and has no operand yet.
function __shmdctl_wants_name
    set -l tokens (commandline -opc)
    set -l seen 0
    for t in $tokens[2..-1]
        switch $t
            case --socket --mode --lifetime --key --owner --offset --size --older-than --timeout --interval --page-size --numa-node
                set seen (math $seen - 1)
            case '-*'
            case '*'
                set seen (math $seen + 1)
        end
    end
    __fish_seen_subcommand_from $argv; and test $seen -le 1
end

complete -c shmdctl -f
complete -c shmdctl -l socket -r -F -d 'the socket of shmd'
complete -c shmdctl -l help -d 'show the usage'
complete -c shmdctl -l version -d 'show the version'

set -l nocmd "not __fish_seen_subcommand_from $commands"
complete -c shmdctl -n $nocmd -a create -d 'create a segment'
complete -c shmdctl -n $nocmd -a wait -d 'wait until a segment is created'
complete -c shmdctl -n $nocmd -a ls -d 'list the segments you may open'
complete -c shmdctl -n $nocmd -a info -d 'show a segment'
complete -c shmdctl -n $nocmd -a rm -d 'destroy a segment'
complete -c shmdctl -n $nocmd -a status -d "show the daemon's status"
complete -c shmdctl -n $nocmd -a orphans -d 'list segments nobody manages'
complete -c shmdctl -n $nocmd -a watch -d 'follow segments being created and removed'
complete -c shmdctl -n $nocmd -a top -d 'a live view of the segments and their owners'
complete -c shmdctl -n $nocmd -a write -d 'copy standard input into a segment'
complete -c shmdctl -n $nocmd -a read -d 'copy a segment to standard output'

complete -c shmdctl -n '__fish_seen_subcommand_from create' -l mode -x -d 'permission bits, in octal'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l lifetime -x -a 'detach process persistent' -d 'when it ends'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l key -x -d 'its System V key'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l owner -x -d 'its owner, UID[:GID]'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l exist-ok -d 'an existing one of that size is the answer'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l huge-pages -d 'backed by huge pages'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l page-size -x -a '2M 1G' -d 'the huge page size'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l locked -d 'locked in RAM'
complete -c shmdctl -n '__fish_seen_subcommand_from create' -l numa-node -x -d 'the NUMA node to bind it to'
complete -c shmdctl -n '__fish_seen_subcommand_from wait' -l timeout -x -d 'seconds to wait'
complete -c shmdctl -n '__fish_seen_subcommand_from top' -l interval -x -d 'seconds between refreshes'
complete -c shmdctl -n '__fish_seen_subcommand_from ls info status orphans watch' -l json -d 'in JSON'
complete -c shmdctl -n '__fish_seen_subcommand_from ls' -l attachers -d 'with the processes attached'
complete -c shmdctl -n '__fish_seen_subcommand_from status' -l prometheus -d 'in the Prometheus text format'
complete -c shmdctl -n '__fish_seen_subcommand_from orphans' -l older-than -x -d 'only those older than this'
complete -c shmdctl -n '__fish_seen_subcommand_from orphans' -l remove -d 'remove them'
complete -c shmdctl -n '__fish_seen_subcommand_from read' -l offset -x -d 'from this byte'
complete -c shmdctl -n '__fish_seen_subcommand_from read' -l size -x -d 'this many bytes'
complete -c shmdctl -n '__shmdctl_wants_name info rm write read' -a '(__shmdctl_names)' -d segment
