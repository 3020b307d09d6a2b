_sipdiag() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="sipdiag"
                ;;
            sipdiag,analyze)
                cmd="sipdiag__subcmd__analyze"
                ;;
            sipdiag,calls)
                cmd="sipdiag__subcmd__calls"
                ;;
            sipdiag,completions)
                cmd="sipdiag__subcmd__completions"
                ;;
            sipdiag,explain)
                cmd="sipdiag__subcmd__explain"
                ;;
            sipdiag,extract)
                cmd="sipdiag__subcmd__extract"
                ;;
            sipdiag,flow)
                cmd="sipdiag__subcmd__flow"
                ;;
            sipdiag,help)
                cmd="sipdiag__subcmd__help"
                ;;
            sipdiag,ipo-route)
                cmd="sipdiag__subcmd__ipo__subcmd__route"
                ;;
            sipdiag,media)
                cmd="sipdiag__subcmd__media"
                ;;
            sipdiag,messages)
                cmd="sipdiag__subcmd__messages"
                ;;
            sipdiag,pattern)
                cmd="sipdiag__subcmd__pattern"
                ;;
            sipdiag,rules)
                cmd="sipdiag__subcmd__rules"
                ;;
            sipdiag,watch)
                cmd="sipdiag__subcmd__watch"
                ;;
            sipdiag__subcmd__help,analyze)
                cmd="sipdiag__subcmd__help__subcmd__analyze"
                ;;
            sipdiag__subcmd__help,calls)
                cmd="sipdiag__subcmd__help__subcmd__calls"
                ;;
            sipdiag__subcmd__help,completions)
                cmd="sipdiag__subcmd__help__subcmd__completions"
                ;;
            sipdiag__subcmd__help,explain)
                cmd="sipdiag__subcmd__help__subcmd__explain"
                ;;
            sipdiag__subcmd__help,extract)
                cmd="sipdiag__subcmd__help__subcmd__extract"
                ;;
            sipdiag__subcmd__help,flow)
                cmd="sipdiag__subcmd__help__subcmd__flow"
                ;;
            sipdiag__subcmd__help,help)
                cmd="sipdiag__subcmd__help__subcmd__help"
                ;;
            sipdiag__subcmd__help,ipo-route)
                cmd="sipdiag__subcmd__help__subcmd__ipo__subcmd__route"
                ;;
            sipdiag__subcmd__help,media)
                cmd="sipdiag__subcmd__help__subcmd__media"
                ;;
            sipdiag__subcmd__help,messages)
                cmd="sipdiag__subcmd__help__subcmd__messages"
                ;;
            sipdiag__subcmd__help,pattern)
                cmd="sipdiag__subcmd__help__subcmd__pattern"
                ;;
            sipdiag__subcmd__help,rules)
                cmd="sipdiag__subcmd__help__subcmd__rules"
                ;;
            sipdiag__subcmd__help,watch)
                cmd="sipdiag__subcmd__help__subcmd__watch"
                ;;
            sipdiag__subcmd__help__subcmd__pattern,test)
                cmd="sipdiag__subcmd__help__subcmd__pattern__subcmd__test"
                ;;
            sipdiag__subcmd__pattern,help)
                cmd="sipdiag__subcmd__pattern__subcmd__help"
                ;;
            sipdiag__subcmd__pattern,test)
                cmd="sipdiag__subcmd__pattern__subcmd__test"
                ;;
            sipdiag__subcmd__pattern__subcmd__help,help)
                cmd="sipdiag__subcmd__pattern__subcmd__help__subcmd__help"
                ;;
            sipdiag__subcmd__pattern__subcmd__help,test)
                cmd="sipdiag__subcmd__pattern__subcmd__help__subcmd__test"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        sipdiag)
            opts="-h -V --color --help --version messages calls analyze media flow extract watch rules explain pattern ipo-route completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__analyze)
            opts="-f -o -v -h -V --format --output --fail-on --select --ignore --severity --xcc --pbx --ipo --ipo-config --flow --each --verbose --annotate --in-memory --call-id --number --ip --since --until --site --country-code --area-code --internal-length --outside-prefix --known-user --current-pattern --softphone-port --server-media-ports --client-media-ports --redact --redact-key --max-tcp-connections --max-fragments --max-media-flows --max-sip-message --max-sip-header --max-calls --max-messages-per-call --max-invites-per-call --max-sdp-announcements --max-rtp-streams --max-rtp-streams-per-flow --max-stun-transactions --max-stun-tcp-connections --max-softphone-connections --max-icmp-errors --max-address-pairs --max-diverting-numbers --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json markdown html" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json markdown html" -- "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --fail-on)
                    COMPREPLY=($(compgen -W "error warning info none" -- "${cur}"))
                    return 0
                    ;;
                --select)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ignore)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --severity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --xcc)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pbx)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ipo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ipo-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --annotate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --site)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --country-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --area-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --internal-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outside-prefix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --known-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --current-pattern)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --softphone-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-media-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-media-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-fragments)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-media-flows)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-message)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-header)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-calls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-messages-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-invites-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sdp-announcements)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams-per-flow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-transactions)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-softphone-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-icmp-errors)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-address-pairs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-diverting-numbers)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__calls)
            opts="-f -v -h -V --format --verbose --time --call-id --number --ip --since --until --redact --redact-key --max-tcp-connections --max-fragments --max-media-flows --max-sip-message --max-sip-header --max-calls --max-messages-per-call --max-invites-per-call --max-sdp-announcements --max-rtp-streams --max-rtp-streams-per-flow --max-stun-transactions --max-stun-tcp-connections --max-softphone-connections --max-icmp-errors --max-address-pairs --max-diverting-numbers --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                --time)
                    COMPREPLY=($(compgen -W "absolute relative delta" -- "${cur}"))
                    return 0
                    ;;
                --call-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-fragments)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-media-flows)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-message)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-header)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-calls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-messages-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-invites-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sdp-announcements)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams-per-flow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-transactions)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-softphone-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-icmp-errors)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-address-pairs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-diverting-numbers)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__completions)
            opts="-h -V --color --help --version bash elvish fish powershell zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__explain)
            opts="-h -V --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__extract)
            opts="-o -h -V --output --call-id --number --ip --since --until --xcc --pbx --redact --redact-key --in-memory --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --xcc)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pbx)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__flow)
            opts="-f -h -V --format --call-id --number --ip --since --until --xcc --pbx --site --country-code --area-code --internal-length --outside-prefix --known-user --current-pattern --softphone-port --server-media-ports --client-media-ports --redact --redact-key --max-tcp-connections --max-fragments --max-media-flows --max-sip-message --max-sip-header --max-calls --max-messages-per-call --max-invites-per-call --max-sdp-announcements --max-rtp-streams --max-rtp-streams-per-flow --max-stun-transactions --max-stun-tcp-connections --max-softphone-connections --max-icmp-errors --max-address-pairs --max-diverting-numbers --in-memory --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "text markdown mermaid" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "text markdown mermaid" -- "${cur}"))
                    return 0
                    ;;
                --call-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --xcc)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pbx)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --site)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --country-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --area-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --internal-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outside-prefix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --known-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --current-pattern)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --softphone-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-media-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-media-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-fragments)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-media-flows)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-message)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-header)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-calls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-messages-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-invites-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sdp-announcements)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams-per-flow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-transactions)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-softphone-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-icmp-errors)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-address-pairs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-diverting-numbers)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help)
            opts="messages calls analyze media flow extract watch rules explain pattern ipo-route completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__analyze)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__calls)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__explain)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__extract)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__flow)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__ipo__subcmd__route)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__media)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__messages)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__pattern)
            opts="test"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__pattern__subcmd__test)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__rules)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__help__subcmd__watch)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__ipo__subcmd__route)
            opts="-f -h -V --config --dry-run --request-uri --to --from --source --via --transport --port --at --busy --format --redact --redact-key --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --request-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --via)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --transport)
                    COMPREPLY=($(compgen -W "udp tcp tls" -- "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --at)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --busy)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "table json markdown html" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json markdown html" -- "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__media)
            opts="-f -h -V --format --call-id --number --ip --since --until --softphone-port --server-media-ports --client-media-ports --redact --redact-key --max-tcp-connections --max-fragments --max-media-flows --max-sip-message --max-sip-header --max-calls --max-messages-per-call --max-invites-per-call --max-sdp-announcements --max-rtp-streams --max-rtp-streams-per-flow --max-stun-transactions --max-stun-tcp-connections --max-softphone-connections --max-icmp-errors --max-address-pairs --max-diverting-numbers --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                --call-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --softphone-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-media-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-media-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-fragments)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-media-flows)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-message)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-header)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-calls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-messages-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-invites-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sdp-announcements)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams-per-flow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-transactions)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-softphone-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-icmp-errors)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-address-pairs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-diverting-numbers)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__messages)
            opts="-f -v -h -V --format --verbose --time --call-id --number --ip --since --until --redact --redact-key --max-tcp-connections --max-fragments --max-media-flows --max-sip-message --max-sip-header --max-calls --max-messages-per-call --max-invites-per-call --max-sdp-announcements --max-rtp-streams --max-rtp-streams-per-flow --max-stun-transactions --max-stun-tcp-connections --max-softphone-connections --max-icmp-errors --max-address-pairs --max-diverting-numbers --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                --time)
                    COMPREPLY=($(compgen -W "absolute relative delta" -- "${cur}"))
                    return 0
                    ;;
                --call-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-fragments)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-media-flows)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-message)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-header)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-calls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-messages-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-invites-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sdp-announcements)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams-per-flow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-transactions)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-softphone-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-icmp-errors)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-address-pairs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-diverting-numbers)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__pattern)
            opts="-h -V --color --help --version test help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__pattern__subcmd__help)
            opts="test help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__pattern__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__pattern__subcmd__help__subcmd__test)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__pattern__subcmd__test)
            opts="-f -h -V --rewrite --value --site --country-code --area-code --internal-length --outside-prefix --known-user --current-pattern --format --in-memory --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --rewrite)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --value)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --site)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --country-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --area-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --internal-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outside-prefix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --known-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --current-pattern)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__rules)
            opts="-f -h -V --format --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sipdiag__subcmd__watch)
            opts="-i -f -v -h -V --interface --follow --until-idle --format --fail-on --select --ignore --severity --xcc --pbx --ipo --ipo-config --verbose --softphone-port --site --country-code --area-code --internal-length --outside-prefix --known-user --current-pattern --redact --redact-key --max-tcp-connections --max-fragments --max-media-flows --max-sip-message --max-sip-header --max-calls --max-messages-per-call --max-invites-per-call --max-sdp-announcements --max-rtp-streams --max-rtp-streams-per-flow --max-stun-transactions --max-stun-tcp-connections --max-softphone-connections --max-icmp-errors --max-address-pairs --max-diverting-numbers --color --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --interface)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -i)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --follow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until-idle)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "table json" -- "${cur}"))
                    return 0
                    ;;
                --fail-on)
                    COMPREPLY=($(compgen -W "error warning info none" -- "${cur}"))
                    return 0
                    ;;
                --select)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ignore)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --severity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --xcc)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pbx)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ipo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ipo-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --softphone-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --site)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --country-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --area-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --internal-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outside-prefix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --known-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --current-pattern)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redact-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-fragments)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-media-flows)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-message)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sip-header)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-calls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-messages-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-invites-per-call)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-sdp-announcements)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtp-streams-per-flow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-transactions)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-stun-tcp-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-softphone-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-icmp-errors)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-address-pairs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-diverting-numbers)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _sipdiag -o nosort -o bashdefault -o default sipdiag
else
    complete -F _sipdiag -o bashdefault -o default sipdiag
fi
