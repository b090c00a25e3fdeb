# SPDX-License-Identifier: GPL-2.0-or-later
# fish completion for execcountctl(1)

# The units the daemon has counted, for --unit: asked from it (at the --socket= of the
# command line, if any), and nothing, quietly, when it does not answer within 2 s.
function __execcountctl_units
    set -l socket
    set -l words (commandline -opc)
    for i in (seq (count $words))
        switch $words[$i]
            case '--socket=*'
                set socket $words[$i]
            case --socket
                set socket --socket=$words[(math $i + 1)]
        end
    end
    timeout 2 execcountctl $socket --no-pager --no-legend stats --by=unit 2>/dev/null | string replace -r '\s.*' ''
end

set -l commands stats status events reset reload metrics help
complete -c execcountctl -f
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a stats -d 'Exec counts per user, most active first'
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a status -d 'State of the daemon: probes, totals, events'
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a events -d 'Recent execs and their arguments'
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a reset -d 'Forget the counts'
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a reload -d 'Make the daemon reread its configuration'
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a metrics -d 'The counts as Prometheus metrics'
complete -c execcountctl -n "not __fish_seen_subcommand_from $commands" -a help -d 'Show this help'

complete -c execcountctl -s h -l help -d 'Show this help'
complete -c execcountctl -l version -d 'Show the version'
complete -c execcountctl -l socket -r -F -d 'Talk to the daemon at PATH'
complete -c execcountctl -s u -l uid -x -a '(__fish_complete_user_ids)' -d 'Only this UID'
complete -c execcountctl -l user -x -a '(__fish_complete_users)' -d 'Only this user'
complete -c execcountctl -l by -x -a 'user login unit' -d 'Count per user, login or unit'
complete -c execcountctl -l unit -x -a '(__execcountctl_units)' -d 'Only this systemd unit'
complete -c execcountctl -s n -l lines -x -a all -d 'Show the N most recent events'
complete -c execcountctl -s f -l follow -d 'Keep printing new execs'
complete -c execcountctl -l json -f -a 'short pretty' -d 'Print JSON'
complete -c execcountctl -l no-legend -d 'Leave out column headers and footers'
complete -c execcountctl -l no-pager -d 'Do not pipe output into a pager'
complete -c execcountctl -l format -x -a 'prometheus openmetrics' -d 'Metrics format'
complete -c execcountctl -l max-uids -x -d 'UIDs with series of their own'
complete -c execcountctl -l max-units -x -d 'Units with series of their own'
complete -c execcountctl -l output -r -F -d 'Write the metrics to FILE'
