# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# bash completion for berthctl. Commands, subcommands and options are read from berthctl's own
# --help (so they are always those of the installed berthctl); container, image, volume and
# network names are asked of berthd.

__berthctl_help_words() {
        # The commands listed under "Commands:" in the help of "berthctl $*".
        berthctl "$@" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next } on && /^  [a-z][a-z-]*( |$)/ { print $1 }'
}

__berthctl_help_options() {
        # Only the option column ("  -s, --signal=SIGNAL  ..."), not options named in descriptions.
        berthctl "$@" --help 2>/dev/null |
                sed -nE 's/^ {2,8}((-[a-zA-Z0-9], )?--?[a-zA-Z0-9][a-zA-Z0-9-]*).*/\1/p' | tr ',' '\n' | tr -d ' ' | sort -u
}

__berthctl_names() {
        case "$1" in
        containers) berthctl ps -a --format '{{.Names}}' ;;
        running) berthctl ps --format '{{.Names}}' ;;
        images) berthctl images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' ;;
        volumes) berthctl volume ls -q ;;
        networks) berthctl network ls --format '{{.Name}}' ;;
        esac 2>/dev/null
}

__berthctl_reply() {
        local IFS=$'\n'
        # shellcheck disable=SC2207 # compgen's words, one per line
        COMPREPLY=($(compgen -W "$1" -- "$2"))
}

_berthctl() {
        local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
        local verb="" sub="" i w

        for ((i = 1; i < COMP_CWORD; i++)); do
                w="${COMP_WORDS[i]}"
                case "$w" in
                -H | --host | -M | --machine)
                        [ -z "$verb" ] && ((i++))
                        ;;
                -*) ;;
                *)
                        if [ -z "$verb" ]; then
                                verb="$w"
                        elif [ -z "$sub" ]; then
                                case "$verb" in
                                container | image | volume | network | system) sub="$w" ;;
                                esac
                        fi
                        ;;
                esac
        done

        if [ -z "$verb" ]; then
                case "$prev" in
                -M | --machine)
                        __berthctl_reply "$(machinectl list --no-legend 2>/dev/null | awk '{ print $1 }')" "$cur"
                        return
                        ;;
                -H | --host) return ;;
                esac
                if [[ "$cur" == -* ]]; then
                        __berthctl_reply "$(__berthctl_help_options)" "$cur"
                else
                        __berthctl_reply "$(__berthctl_help_words)" "$cur"
                fi
                return
        fi

        case "$verb" in
        container | image | volume | network | system)
                if [ -z "$sub" ]; then
                        __berthctl_reply "$(__berthctl_help_words "$verb")" "$cur"
                        return
                fi
                ;;
        esac

        if [[ "$cur" == -* ]]; then
                __berthctl_reply "$(__berthctl_help_options "$verb" ${sub:+"$sub"})" "$cur"
                return
        fi

        # Values of options that name berth's objects.
        case "$prev" in
        --network | --net) __berthctl_reply "$(__berthctl_names networks)" "$cur"; return ;;
        --volumes-from) __berthctl_reply "$(__berthctl_names containers)" "$cur"; return ;;
        -f | --file | --iidfile | --env-file | --label-file | -o | --output | -i | --input)
                # shellcheck disable=SC2207
                COMPREPLY=($(compgen -f -- "$cur"))
                return
                ;;
        esac

        local what="${sub:-$verb}"
        case "$verb:$what" in
        volume:create | network:create | image:pull | *:pull | *:push | *:login | *:logout | *:version | *:info | \
                *:events | *:ps | *:ls | *:images | *:prune | *:df) ;;
        volume:*) __berthctl_reply "$(__berthctl_names volumes)" "$cur" ;;
        network:connect | network:disconnect)
                # NETWORK first, then CONTAINER
                local n=0
                for ((i = 1; i < COMP_CWORD; i++)); do [[ "${COMP_WORDS[i]}" != -* ]] && ((n++)); done
                if ((n <= 2)); then
                        __berthctl_reply "$(__berthctl_names networks)" "$cur"
                else
                        __berthctl_reply "$(__berthctl_names containers)" "$cur"
                fi
                ;;
        network:*) __berthctl_reply "$(__berthctl_names networks)" "$cur" ;;
        *:run | *:create | *:rmi | *:tag | *:history | *:save | image:rm | image:inspect)
                __berthctl_reply "$(__berthctl_names images)" "$cur"
                ;;
        *:import | *:load)
                # shellcheck disable=SC2207
                COMPREPLY=($(compgen -f -- "$cur"))
                ;;
        *:exec | *:attach | *:pause | *:top | *:stop | *:kill | *:stats | *:update)
                __berthctl_reply "$(__berthctl_names running)" "$cur"
                ;;
        *:cp)
                if [[ "$cur" == */* || "$cur" == .* ]]; then
                        # shellcheck disable=SC2207
                        COMPREPLY=($(compgen -f -- "$cur"))
                else
                        __berthctl_reply "$(__berthctl_names containers | sed 's/$/:/')" "$cur"
                        compopt -o nospace 2>/dev/null || true
                fi
                ;;
        *:inspect)
                __berthctl_reply "$(__berthctl_names containers; __berthctl_names images)" "$cur"
                ;;
        *) __berthctl_reply "$(__berthctl_names containers)" "$cur" ;;
        esac
}

complete -F _berthctl berthctl
