# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for execcountctl(1)

# The units the daemon has counted, for --unit: asked from it (at the --socket= of the
# command line, if any), and nothing, quietly, when it does not answer within 2 s.
_execcountctl_units()
{
        local socket=() i
        for ((i = 1; i < ${#words[@]}; i++)); do
                case ${words[i]} in
                --socket=*) socket=("${words[i]}") ;;
                --socket) socket=("--socket=${words[i + 1]-}") ;;
                esac
        done
        timeout 2 execcountctl "${socket[@]}" --no-pager --no-legend stats --by=unit 2>/dev/null |
                awk '{ print $1 }'
}

_execcountctl()
{
        local cur prev words cword split
        _init_completion -s || return

        local verbs='stats status events reset reload metrics help'
        local with_arg='--socket --uid --user --by --unit --lines --format --max-uids --max-units --output'
        local plain='--help --version --follow --json --json= --no-legend --no-pager -u -n -f -h'

        case $prev in
        --user)
                COMPREPLY=($(compgen -u -- "$cur"))
                return
                ;;
        --uid | -u)
                COMPREPLY=($(compgen -W "$(getent passwd | cut -d: -f3)" -- "$cur"))
                return
                ;;
        --by)
                COMPREPLY=($(compgen -W 'user login unit' -- "$cur"))
                return
                ;;
        --unit)
                COMPREPLY=($(compgen -W "$(_execcountctl_units)" -- "$cur"))
                return
                ;;
        --lines | -n)
                COMPREPLY=($(compgen -W 'all' -- "$cur"))
                return
                ;;
        --format)
                COMPREPLY=($(compgen -W 'prometheus openmetrics' -- "$cur"))
                return
                ;;
        --json)
                # An optional argument: only as --json=MODE.
                if $split; then
                        COMPREPLY=($(compgen -W 'short pretty' -- "$cur"))
                        return
                fi
                ;;
        --socket | --output)
                _filedir
                return
                ;;
        --max-uids | --max-units)
                return
                ;;
        esac
        $split && return

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$plain ${with_arg// /= }=" -- "$cur"))
                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
                return
        fi

        # A command, unless one is there already.
        local i
        for ((i = 1; i < cword; i++)); do
                [[ " $verbs " == *" ${words[i]} "* ]] && return
        done
        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
} &&
        complete -F _execcountctl execcountctl
